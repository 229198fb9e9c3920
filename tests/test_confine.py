"""`luacross.confine`: the image's process can compute, write to its pipe and exit, nothing more."""

import os

from luacross import confine


def run_confined(probe) -> list[str]:
    """Fork, confine the child to a pipe, run `probe(write)` there; the lines it wrote."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            ok = confine.confine(write_end)
            os.write(write_end, f"confined {ok}\n".encode())
            probe(lambda text: os.write(write_end, (text + "\n").encode()))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 4096):
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return data.decode().splitlines()


def attempt(action) -> str:
    try:
        action()
    except OSError as error:
        return type(error).__name__
    return "done"


def test_confined_process_cannot_touch_the_host(tmp_path):
    marker = tmp_path / "escaped"
    other_read, other_write = os.pipe()

    def probe(say):
        say(attempt(lambda: os.open(marker, os.O_WRONLY | os.O_CREAT)))
        say(attempt(lambda: os.open("/dev/null", os.O_RDONLY)))
        say(attempt(lambda: os.write(other_write, b"x")))
        say(attempt(lambda: os.fork()))
        say(attempt(lambda: os.kill(os.getppid(), 0)))
        say(str(len(bytearray(20_000_000))))  # memory still grows

    lines = run_confined(probe)
    os.close(other_read)
    os.close(other_write)
    if not confine.available():
        assert lines[0] == "confined False"
        return
    assert lines == [
        "confined True",
        "PermissionError",
        "PermissionError",
        "PermissionError",
        "PermissionError",
        "PermissionError",
        "20000000",
    ]
    assert not marker.exists()


def test_filter_shape():
    program = confine._program(7)
    assert len(program) == 12 + len(confine._ALLOWED)
    for index, (code, jt, jf, _) in enumerate(program):  # every jump lands inside the program
        if code == confine._JEQ_K:
            assert index + 1 + max(jt, jf) < len(program)
    for index, (code, jt, _, k) in enumerate(program):  # allowed calls jump to the ALLOW
        if code == confine._JEQ_K and k in confine._ALLOWED.values():
            assert index + 1 + jt == len(program) - 1
    assert program[-1][3] == confine._RET_ALLOW and program[-2][3] == confine._RET_ERRNO


def test_run_child_is_confined_before_image_code(tmp_path, capsys):
    """`run`'s child process confines itself when the job asks (after loading)."""
    from luacross.device_cli import run_isolated

    marker = tmp_path / "escaped"

    def job(emit, confine_now):
        confine_now()
        emit("o", attempt(lambda: os.open(marker, os.O_WRONLY | os.O_CREAT)))

    assert run_isolated(job, timeout=60, memory=1 << 20) == 0
    expected = "PermissionError" if confine.available() else "done"
    assert capsys.readouterr().out == expected + "\n"
    assert marker.exists() == (not confine.available())
