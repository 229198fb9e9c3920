"""Outputs behave as the file system expects, and signals stop luacross cleanly.

The expected messages are luac.cross's (`cannot open|write|close NAME: strerror`),
as it gives them to a user who is not root: each file-system case runs in a
forked child that drops root's privileges first (root may write read-only files,
which hides exactly the cases that matter). Under a normal user the child keeps
that user.
"""

import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

import pytest

from golden import REPO, run_cli
from luacross import api, output, signals

NOBODY = 65534  # the uid and gid a root test run drops to
DATA = bytes(range(256)) * 3  # every byte, CR and LF included: binary mode throughout
SOURCE = b"return 1\n"
POSIX = os.name == "posix"


@pytest.fixture(scope="module", autouse=True)
def loaded_compiler():
    """Load every module a build needs before a child drops privileges (the
    repository or the interpreter may not be readable by the other user)."""
    for args in (["-l", "-o", "-", "-"], ["-f", "-o", "-", "-"], ["-s", "-o", "-", "-"]):
        assert run_cli(args, SOURCE).status == 0


@pytest.fixture
def workdir(tmp_path):
    """A folder the non-root child may write in."""
    if not POSIX or os.geteuid() != 0:
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="luacross-output-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def as_user(workdir: Path, scenario):
    """Run `scenario()` in `workdir`, in a child process that is not root;
    return what it returns (or fail with its traceback)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        result: tuple = ("error", "no result")
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            os.chdir(workdir)
            os.umask(0o022)
            result = ("ok", scenario())
        except BaseException:
            result = ("error", traceback.format_exc())
        finally:
            try:
                with os.fdopen(write, "wb") as out:
                    pickle.dump(result, out)
            finally:
                os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        pytest.fail(f"in the child:\n{value}")
    return value


def luacross(*args: str):
    """The command line, in-process: (status, stderr)."""
    run = run_cli(list(args))
    return run.status, run.stderr


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


pytestmark = pytest.mark.skipif(not POSIX, reason="POSIX file system semantics")


# -- regular files: replaced whole, through their real path ------------------------


def test_new_file_gets_the_umask_mode(workdir):
    def scenario():
        api.write_output("out.lc", DATA)
        return open("out.lc", "rb").read(), mode("out.lc"), sorted(os.listdir())

    assert as_user(workdir, scenario) == (DATA, 0o644, ["out.lc"])


def test_replaced_file_keeps_its_mode(workdir):
    def scenario():
        Path("out.lc").write_bytes(b"old")
        os.chmod("out.lc", 0o604)
        api.write_output("out.lc", DATA)
        return open("out.lc", "rb").read(), mode("out.lc"), sorted(os.listdir())

    assert as_user(workdir, scenario) == (DATA, 0o604, ["out.lc"])


def test_read_only_file_is_refused_as_fopen_refuses_it(workdir):
    def scenario():
        Path("a.lua").write_bytes(SOURCE)
        Path("out.lc").write_bytes(b"precious")
        os.chmod("out.lc", 0o444)
        status, stderr = luacross("-o", "out.lc", "a.lua")
        return status, stderr, Path("out.lc").read_bytes(), sorted(os.listdir())

    status, stderr, kept, names = as_user(workdir, scenario)
    assert (status, stderr) == (1, b"luacross: cannot open out.lc: Permission denied\n")
    assert kept == b"precious" and names == ["a.lua", "out.lc"]


def test_writable_file_in_read_only_folder_is_written_in_place(workdir):
    def scenario():
        os.mkdir("ro")
        Path("ro/out.lc").write_bytes(b"old")
        inode = os.stat("ro/out.lc").st_ino
        os.chmod("ro", 0o555)
        try:
            api.write_output("ro/out.lc", DATA)
            after = os.stat("ro/out.lc")
            return Path("ro/out.lc").read_bytes(), after.st_ino == inode, os.listdir("ro")
        finally:
            os.chmod("ro", 0o755)

    assert as_user(workdir, scenario) == (DATA, True, ["out.lc"])


def test_new_file_in_read_only_folder_is_refused(workdir):
    def scenario():
        Path("a.lua").write_bytes(SOURCE)
        os.mkdir("ro", 0o555)
        try:
            return luacross("-o", "ro/new.lc", "a.lua"), os.listdir("ro")
        finally:
            os.chmod("ro", 0o755)

    (status, stderr), names = as_user(workdir, scenario)
    assert (status, stderr) == (1, b"luacross: cannot open ro/new.lc: Permission denied\n")
    assert names == []


def test_symlink_writes_its_target_and_stays_a_link(workdir):
    def scenario():
        os.mkdir("real")
        Path("real/target.lc").write_bytes(b"old")
        os.symlink("real/target.lc", "link.lc")
        api.write_output("link.lc", DATA)
        return (
            os.readlink("link.lc"),
            Path("real/target.lc").read_bytes(),
            sorted(os.listdir()),
            os.listdir("real"),
        )

    assert as_user(workdir, scenario) == (
        "real/target.lc",
        DATA,
        ["link.lc", "real"],
        ["target.lc"],
    )


def test_dangling_symlink_creates_its_target(workdir):
    def scenario():
        os.symlink("target.lc", "link.lc")
        api.write_output("link.lc", DATA)
        return os.path.islink("link.lc"), Path("target.lc").read_bytes()

    assert as_user(workdir, scenario) == (True, DATA)


def test_hard_links_are_not_split(workdir):
    def scenario():
        Path("one.lc").write_bytes(b"old")
        os.link("one.lc", "two.lc")
        api.write_output("one.lc", DATA)
        one, two = os.stat("one.lc"), os.stat("two.lc")
        return one.st_ino == two.st_ino, one.st_nlink, Path("two.lc").read_bytes()

    assert as_user(workdir, scenario) == (True, 2, DATA)


def test_owner_is_kept_when_root_replaces_a_file(tmp_path):
    path = tmp_path / "out.lc"
    path.write_bytes(b"old")
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    before = path.stat()
    api.write_output(str(path), DATA)
    after = path.stat()
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert path.read_bytes() == DATA


def test_failed_build_leaves_no_trace(workdir):
    def scenario():
        Path("bad.lua").write_bytes(b"x = = 1\n")
        Path("out.lc").write_bytes(b"precious")
        status, stderr = luacross("-o", "out.lc", "bad.lua")
        return status, stderr, Path("out.lc").read_bytes(), sorted(os.listdir())

    status, stderr, kept, names = as_user(workdir, scenario)
    assert (status, stderr) == (1, b"luacross: bad.lua:1: unexpected symbol near '='\n")
    assert kept == b"precious" and names == ["bad.lua", "out.lc"]


# -- luac.cross's messages for outputs that cannot be written ------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing/out.lc", "cannot open missing/out.lc: No such file or directory"),
        ("missing/", "cannot open missing/: Is a directory"),
        ("folder", "cannot open folder: Is a directory"),
        ("folder/", "cannot open folder/: Is a directory"),
        ("a.lua/out.lc", "cannot open a.lua/out.lc: Not a directory"),
        ("/", "cannot open /: Is a directory"),
        ("/dev/full", "cannot close /dev/full: No space left on device"),  # fits the buffer
        ("/proc/version", "cannot open /proc/version: Permission denied"),
        ("/proc/no-such-file", "cannot open /proc/no-such-file: No such file or directory"),
    ],
)
def test_unwritable_outputs_give_luac_cross_messages(name, message, workdir):
    if name.startswith(("/proc/", "/dev/")) and not os.path.exists(name.rsplit("/", 1)[0]):
        pytest.skip(f"no {name.rsplit('/', 1)[0]} here")

    def scenario():
        Path("a.lua").write_bytes(SOURCE)
        os.mkdir("folder")
        status, stderr = luacross("-o", name, "a.lua")
        return status, stderr, sorted(os.listdir()), os.listdir("folder")

    status, stderr, names, in_folder = as_user(workdir, scenario)
    assert (status, stderr) == (1, f"luacross: {message}\n".encode())
    assert names == ["a.lua", "folder"] and in_folder == []


def test_long_output_fails_in_a_write(workdir):
    """luac.cross's stdio meets the error in fwrite once the output outgrows its buffer."""
    source = b"return {" + b",".join(b'"s%d"' % i for i in range(2000)) + b"}\n"

    def scenario():
        Path("big.lua").write_bytes(source)
        return luacross("-o", "/dev/full", "big.lua")

    assert as_user(workdir, scenario) == (
        1,
        b"luacross: cannot write /dev/full: No space left on device\n",
    )


def test_file_names_are_printed_as_the_bytes_given(workdir):
    name = os.fsdecode(b"x\xff")

    def scenario():
        Path("a.lua").write_bytes(SOURCE)
        return luacross("-o", f"{name}/out.lc", "a.lua")

    assert as_user(workdir, scenario) == (
        1,
        b"luacross: cannot open x\xff/out.lc: No such file or directory\n",
    )


# -- everything else is written directly ----------------------------------------------


def test_dev_null_is_written_not_replaced(workdir):
    def scenario():
        Path("a.lua").write_bytes(SOURCE)
        status, stderr = luacross("-o", os.devnull, "a.lua")
        return status, stderr, stat.S_ISCHR(os.stat(os.devnull).st_mode)

    assert as_user(workdir, scenario) == (0, b"", True)


def test_fifo_is_written_directly(workdir):
    def scenario():
        os.mkfifo("pipe")
        received = []
        reader = threading.Thread(target=lambda: received.append(Path("pipe").read_bytes()))
        reader.start()
        try:
            api.write_output("pipe", DATA)
        finally:
            if reader.is_alive() and not received:  # never leave the reader waiting
                os.close(os.open("pipe", os.O_WRONLY | os.O_NONBLOCK))
            reader.join()
        return received, stat.S_ISFIFO(os.stat("pipe").st_mode), sorted(os.listdir())

    assert as_user(workdir, scenario) == ([DATA], True, ["pipe"])


def test_dash_is_stdout():
    run = run_cli(["-o", "-", "-"], SOURCE)
    assert run.status == 0 and run.stderr == b""
    assert run.stdout.startswith(b"\x1bLuaQ")


def test_dev_stdout_writes_to_the_file_stdout_is(tmp_path):
    """`-o /dev/stdout > file` opens stdout's file again, as luac.cross's fopen does
    (never renamed over: the shell's redirection keeps pointing at it)."""
    (tmp_path / "a.lua").write_bytes(SOURCE)
    with open(tmp_path / "out.lc", "wb") as out:
        run = subprocess.run(
            [sys.executable, "-m", "luacross", "-s", "-o", "/dev/stdout", "a.lua"],
            cwd=tmp_path, stdout=out, stderr=subprocess.PIPE, env=child_env(), timeout=120,
        )  # fmt: skip
    assert (run.returncode, run.stderr) == (0, b"")
    written = (tmp_path / "out.lc").read_bytes()
    assert written == run_cli(["-s", "-o", "-", "-"], SOURCE).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.lua", "out.lc"]


def test_binary_mode_flag():
    assert output.O_BINARY == getattr(os, "O_BINARY", 0)


# -- signals during the write ------------------------------------------------------------


def test_signal_during_the_write_is_delivered_after_it(tmp_path, monkeypatch):
    """SIGINT while the temporary file is written: the output is completed and
    renamed, no temporary is left, and the interrupt is raised afterwards."""
    path = tmp_path / "out.lc"
    path.write_bytes(b"old")
    real_write, sent = os.write, []

    def write_then_signal(fd, data):
        if not sent:
            sent.append(os.kill(os.getpid(), signal.SIGINT))
        return real_write(fd, data)

    monkeypatch.setattr(output.os, "write", write_then_signal)
    with pytest.raises(KeyboardInterrupt):
        api.write_output(str(path), DATA)
    monkeypatch.undo()
    assert path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == ["out.lc"]


def test_signal_just_after_the_rename_is_reported_as_an_interrupt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.lua").write_bytes(SOURCE)
    real_replace, sent = os.replace, []

    def replace_then_signal(src, dst):
        real_replace(src, dst)
        if not sent:
            sent.append(os.kill(os.getpid(), signal.SIGINT))

    monkeypatch.setattr(output.os, "replace", replace_then_signal)
    run = run_cli(["-s", "-o", "out.lc", "a.lua"])
    monkeypatch.undo()
    assert (run.status, run.stderr) == (130, b"luacross: interrupted\n")
    assert (tmp_path / "out.lc").read_bytes() == run_cli(["-s", "-o", "-", "-"], SOURCE).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.lua", "out.lc"]


def test_installed_handlers_report_sigterm(tmp_path, monkeypatch):
    """With the console script's handlers, SIGTERM is an Interrupted(143) too."""
    saved = {signum: signal.getsignal(signum) for signum in signals.STOPPING}
    saved_pipe = signal.getsignal(signal.SIGPIPE)
    monkeypatch.setattr(signals, "_caught", None)
    path = tmp_path / "out.lc"
    real_write, sent = os.write, []

    def write_then_signal(fd, data):
        if not sent:
            sent.append(os.kill(os.getpid(), signal.SIGTERM))
        return real_write(fd, data)

    try:
        signals.install()
        monkeypatch.setattr(output.os, "write", write_then_signal)
        with pytest.raises(signals.Interrupted) as raised:
            api.write_output(str(path), DATA)
    finally:
        monkeypatch.undo()
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        signal.signal(signal.SIGPIPE, saved_pipe)
    assert (raised.value.status, raised.value.message) == (143, "terminated")
    assert path.read_bytes() == DATA
    assert [p.name for p in tmp_path.iterdir()] == ["out.lc"]


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def wait_for_handlers(process: subprocess.Popen) -> None:
    """Until the child has installed luacross's signal handlers (Linux /proc),
    so that a signal meets luacross and not the interpreter's start-up."""
    status = Path(f"/proc/{process.pid}/status")
    term_bit = 1 << (signal.SIGTERM - 1)
    while process.poll() is None:
        try:
            caught = next(
                line for line in status.read_text().splitlines() if line.startswith("SigCgt:")
            )
        except (OSError, StopIteration):
            return
        if int(caught.split()[1], 16) & term_bit:
            return
        threading.Event().wait(0.001)


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="needs /proc to see the handlers installed"
)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_real_signals_around_the_write(signum, tmp_path):
    """Real signals at spread-out moments of a build: every run ends completed
    (status 0, silent) or stopped (128 + N, one line); the output is the old
    file or the complete new one; no temporary file is ever left behind."""
    source = b"return {" + b",".join(b'"s%d"' % i for i in range(4000)) + b"}\n"
    (tmp_path / "big.lua").write_bytes(source)
    command = [sys.executable, "-m", "luacross", "-f", "-o", "out.img", "big.lua"]
    env = child_env() | {"SOURCE_DATE_EPOCH": "1700000000"}
    clean = subprocess.run(command, cwd=tmp_path, capture_output=True, env=env, timeout=120)
    assert clean.returncode == 0, clean.stderr
    complete = (tmp_path / "out.img").read_bytes()
    started = threading.Event()  # used as a sleep that takes fractions of a second
    spread = [0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6]
    word = signals.STOPPING[signum]
    outcomes = set()
    for delay in spread:
        (tmp_path / "out.img").write_bytes(b"old")
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_for_handlers(process)
        started.wait(delay)
        if process.poll() is None:
            process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
        written = (tmp_path / "out.img").read_bytes()
        if process.returncode == 0:
            assert stderr == b"" and written == complete
        else:
            assert process.returncode == 128 + signum, stderr
            assert stderr == f"luacross: {word}\n".encode()
            assert written in (b"old", complete)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.lua", "out.img"]
        outcomes.add(process.returncode)
    assert 128 + signum in outcomes  # at least one trial really was stopped


# -- Ctrl-C stops Lua code that never returns (-e) ---------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(
    "loop",
    [b"while true do end", b"while true do pcall(function() while true do end end) end"],
    ids=["loop", "pcall-loop"],
)
def test_signal_stops_an_endless_host_script(signum, loop, tmp_path):
    (tmp_path / "a.lua").write_bytes(SOURCE)
    (tmp_path / "loop.lua").write_bytes(b'print("ready") io.stdout:flush()\n' + loop + b"\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "luacross", "-e", "loop.lua", "-o", "out.lc", "a.lua"],
        cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout.readline() == b"ready\n"
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert stderr == f"luacross: {signals.STOPPING[signum]}\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.lua", "loop.lua"]


def test_host_script_stop_reaches_python_in_process(tmp_path, monkeypatch):
    """Without the console script's handlers too: the stop raised in the hook
    (here a KeyboardInterrupt) is not swallowed for good by the script's pcall,
    and run_host_script raises it."""
    from lfs_format.target import FLOAT
    from luacross.runtime import run_host_script

    script = tmp_path / "loop.lua"
    script.write_bytes(b"pcall(function() while true do end end)\nwhile true do end\n")
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(signals, "check", check)
    with pytest.raises(KeyboardInterrupt):
        run_host_script(str(script), FLOAT)


def test_host_script_file_name_keeps_its_bytes(workdir):
    name = os.fsdecode(b"x\xffe.lua")

    def scenario():
        Path(name).write_bytes(b'error("boom")\n')
        return luacross("-e", name)

    assert as_user(workdir, scenario) == (1, b"luacross: x\xffe.lua:1: boom\n")
