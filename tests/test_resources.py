"""`--resource`: files in module `resource` of an image, read back on the device model;
`-q`; the progress line on a terminal."""

import os
import pty
import random
import subprocess
import sys

import lupa.lua51 as lua51
import lupa.lua53 as lua53
import pytest

from golden import REPO, run_cli
from luacross.resources import lua_source

# every core and number build that makes -f images (--chip esp32 5.1 is the same image)
BUILDS = [
    [],
    ["--int"],
    ["--chip", "esp32"],
    ["--lua", "5.3"],
    ["--lua", "5.3", "--numbers", "64"],
    ["--lua", "5.3", "--chip", "esp32", "--numbers", "int64"],
    ["--lua", "5.3", "--chip", "esp32", "--numbers", "double"],
]


def awkward_files(seed: int) -> dict[str, bytes]:
    """Contents that trip a naive quoting: every byte, NUL before digits, CR LF,
    quotes and backslashes, high bytes, a long random file, an empty one."""
    rng = random.Random(seed)
    return {
        "all.bin": bytes(range(256)) * 2,
        "digits.bin": b"\x001\x0012\x00123\r\n\\9\\\\\"'\n\r",
        "index.html": b'<!DOCTYPE html><html><body>Hi, "there"!\r\n</body></html>\n',
        "random.bin": rng.randbytes(20000),
        "empty.txt": b"",
        "style.css": "body { content: '\u00e9\u20ac'; }\n".encode(),
    }


def boot(data: bytes):
    """The device model of the image's own build, with the image loaded."""
    from luacross.device import core, detect

    build = detect(data)
    device = core(build).open_device(build)
    device.load(data)
    return device


def write_tree(root, files: dict[str, bytes]):
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: " ".join(b) or "5.1")
def test_contents_round_trip_through_the_image(build, tmp_path, monkeypatch):
    files = awkward_files(len(build))
    web = write_tree(tmp_path / "web", files)
    (tmp_path / "app.lua").write_text('return "app"\n')
    monkeypatch.chdir(tmp_path)
    run = run_cli([*build, "-f", "-o", "lfs.img", "--resource", "web", "app.lua"])
    assert run.status == 0, run.stderr
    assert run.stderr == b""
    device = boot((tmp_path / "lfs.img").read_bytes())
    assert sorted(device.modules) == ["app", "resource"]
    for name, data in files.items():
        (got,) = device.execute(f'return node.LFS.resource("{name}")')
        assert got == data, name
    # without an argument: the names, the directory's files in name order
    (listed,) = device.execute('return table.concat(node.LFS.resource(), "\\0")')
    assert listed.split(b"\0") == sorted(name.encode() for name in files)
    (missing,) = device.execute('return node.LFS.resource("nope") == nil')
    assert missing is True
    assert web.is_dir()


@pytest.mark.parametrize("build", [[], ["--lua", "5.3"]], ids=["5.1", "5.3"])
def test_absolute_image_and_resources_alone(build, tmp_path, monkeypatch):
    """-a images too; --resource with no Lua inputs at all makes an image of it alone."""
    (tmp_path / "a.txt").write_bytes(b"A\x00\xff")
    (tmp_path / "b.txt").write_bytes(b"\r\n")
    monkeypatch.chdir(tmp_path)
    args = [*build, "-f", "-a", "0x40220000", "-o", "abs.img"]
    run = run_cli([*args, "--resource", "b.txt", "--resource", "a.txt"])
    assert run.status == 0, run.stderr
    device = boot((tmp_path / "abs.img").read_bytes())
    assert device.modules == ["resource"]
    assert device.execute('return node.LFS.resource("a.txt")') == (b"A\x00\xff",)
    # given one by one: the order given
    assert device.execute("return table.concat(node.LFS.resource(), ' ')") == (b"b.txt a.txt",)


@pytest.mark.parametrize("lupa", [lua51, lua53], ids=["stock 5.1", "stock 5.3"])
def test_generated_source_is_make_resource_lua_for_stock_lua(lupa):
    """The source reads back exactly in stock Lua 5.1 and 5.3, in make_resource.lua's shape."""
    files = awkward_files(7)
    pairs = [(name.encode(), data) for name, data in files.items()]
    source = lua_source(pairs)
    assert source.startswith(b'local arg = ...\nif arg == "all.bin" then return "')
    names = b'"all.bin","digits.bin","index.html","random.bin","empty.txt","style.css",'
    assert source.endswith(b"\nif arg == nil then return {" + names + b"} end\n")
    lua = lupa.LuaRuntime(encoding=None)
    chunk = lua.execute(b"return (loadstring or load)(...)", source)
    for name, data in pairs:
        assert chunk(name) == data
    listed = chunk()
    assert [listed[i] for i in range(1, len(pairs) + 1)] == [name for name, _ in pairs]


def test_directory_skips_subdirectories_with_a_note(tmp_path, monkeypatch):
    web = write_tree(tmp_path / "web", {"b.js": b"b", "a.html": b"a"})
    (web / "img").mkdir()
    monkeypatch.chdir(tmp_path)
    run = run_cli(["-f", "-o", "lfs.img", "--resource", "web"])
    assert run.status == 0
    assert run.stderr == (
        b"luacross: note: --resource web: skipped img/ "
        b"(only the files directly in a directory are resources)\n"
    )
    device = boot((tmp_path / "lfs.img").read_bytes())
    assert device.execute("return table.concat(node.LFS.resource(), ' ')") == (b"a.html b.js",)
    quiet = run_cli(["-q", "-f", "-o", "lfs.img", "--resource", "web"])
    assert quiet.status == 0 and quiet.stderr == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resource", "nope.html"], "cannot open nope.html: No such file or directory"),
        (
            ["--resource", "web", "--resource", "other/index.html"],
            "--resource: web/index.html and other/index.html are both resource 'index.html' "
            "(a resource is found by its base name)",
        ),
        (
            ["--resource", "web", "--resource", "web/index.html"],
            "--resource: web/index.html is given twice",
        ),
        (
            ["--resource", "web", "resource.lua"],
            "resource.lua is module 'resource', which --resource makes; drop one of them "
            "(or rename it: --name resource.lua=NAME)",
        ),
        (
            ["--name", "app.lua=resource", "--resource", "web", "app.lua"],
            "app.lua is module 'resource', which --resource makes; drop one of them "
            "(or rename it: --name app.lua=NAME)",
        ),
    ],
    ids=["missing", "same name", "twice", "own resource.lua", "renamed"],
)
@pytest.mark.parametrize("lua", ["5.1", "5.3"])
def test_errors_are_one_line(args, message, lua, tmp_path, monkeypatch):
    write_tree(tmp_path / "web", {"index.html": b"a"})
    write_tree(tmp_path / "other", {"index.html": b"b"})
    (tmp_path / "resource.lua").write_text("return 1\n")
    (tmp_path / "app.lua").write_text("return 2\n")
    monkeypatch.chdir(tmp_path)
    run = run_cli(["--lua", lua, "-f", "-o", "lfs.img", *args])
    assert (run.status, run.stderr.decode()) == (1, f"luacross: {message}\n")
    assert not (tmp_path / "lfs.img").exists()


def test_renamed_resource_lua_may_stay(tmp_path, monkeypatch):
    (tmp_path / "resource.lua").write_text("return 1\n")
    (tmp_path / "x.txt").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    run = run_cli(["-f", "-o", "lfs.img", "--name", "resource.lua=old", "--resource", "x.txt",
                   "resource.lua"])  # fmt: skip
    assert run.status == 0, run.stderr
    assert sorted(boot((tmp_path / "lfs.img").read_bytes()).modules) == ["old", "resource"]


def test_resource_without_an_image_is_noted(tmp_path, monkeypatch):
    (tmp_path / "x.txt").write_bytes(b"x")
    (tmp_path / "a.lua").write_text("return 1\n")
    monkeypatch.chdir(tmp_path)
    run = run_cli(["-o", "a.lc", "--resource", "x.txt", "a.lua"])
    assert run.status == 0
    assert run.stderr == b"luacross: note: --resource applies to -f/-a images only; ignored\n"
    assert run_cli(["-q", "-o", "a.lc", "--resource", "x.txt", "a.lua"]).stderr == b""


def test_help_and_readme_mention_resources():
    from luacross.cli import USAGE

    assert "--resource PATH" in USAGE and "-q, --quiet" in USAGE
    readme = (REPO / "README.md").read_text()
    assert "--resource" in readme and 'node.LFS.resource("index.html")' in readme


# -- the progress line ---------------------------------------------------------------


def build_many(tmp_path) -> list[str]:
    for i in range(12):
        (tmp_path / f"m{i:02d}.lua").write_text(f"local t = {{}}\nfor i = 1, {i} do t[i] = i end\n"
                                                 f"return t\n")  # fmt: skip
    (tmp_path / "page.html").write_bytes(b"<p>page</p>\n" * 100)
    return ["-f", "-o", "lfs.img", "--resource", "page.html",
            *sorted(p.name for p in tmp_path.glob("m*.lua"))]  # fmt: skip


def run_luacross(args, cwd, *, stderr_tty: bool, env_extra=None):
    """Run the luacross command with stderr on a pseudo-terminal or a pipe;
    return (status, stdout, stderr)."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", TERM="xterm",
               LUACROSS_PROGRESS_DELAY="0", **(env_extra or {}))  # fmt: skip
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "luacross", *args]
    if not stderr_tty:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = -1
        stdout = child.stdout.read()
        child.wait(timeout=120)
        child.stdout.close()
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other side is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    return child.returncode, stdout, b"".join(chunks)


ERASE_LINE = b"\x1b[2K"


def test_progress_line_on_a_terminal_only(tmp_path):
    args = build_many(tmp_path)
    status, stdout, terminal = run_luacross(args, tmp_path, stderr_tty=True)
    assert status == 0
    on_terminal = (tmp_path / "lfs.img").read_bytes()
    assert b"compiling" in terminal and b"0/14" in terminal  # 12 files, resources, image
    # rich's transient line: erased once the build is done; then only the summary line
    rest = terminal.rsplit(ERASE_LINE, 1)[1]
    assert rest.startswith(b"luacross: lfs.img: 13 modules, relocatable, ")
    assert b"compiling" not in rest and b"\x1b[?25h" in terminal  # the cursor is back

    status, piped_stdout, piped = run_luacross(args, tmp_path, stderr_tty=False)
    assert status == 0
    assert piped == b""  # nothing at all when stderr is not a terminal
    assert piped_stdout == stdout and stdout.startswith(b"Image size: ")
    assert (tmp_path / "lfs.img").read_bytes() == on_terminal

    status, _, quiet = run_luacross(["-q", *args], tmp_path, stderr_tty=True)
    assert status == 0 and quiet == b""
    assert (tmp_path / "lfs.img").read_bytes() == on_terminal


def test_progress_line_is_erased_before_an_error(tmp_path):
    args = build_many(tmp_path)
    (tmp_path / "m05.lua").write_text("return +\n")
    status, _, terminal = run_luacross(args, tmp_path, stderr_tty=True)
    assert status == 1
    rest = terminal.rsplit(ERASE_LINE, 1)[1]
    assert rest == b"luacross: m05.lua:1: unexpected symbol near '+'\r\n"
    assert not (tmp_path / "lfs.img").exists()


def test_quiet_keeps_warnings_and_errors(tmp_path, monkeypatch):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "init.lua").write_text("return 1\n")
    monkeypatch.chdir(tmp_path)
    args = ["--best", "-a", "0x40220000", "-o", "x.img", "a/init.lua", "b/init.lua"]
    loud = run_cli(args)
    assert loud.stderr.startswith(b"luacross: note: --best: absolute images (-a) are not")
    run = run_cli(["-q", *args])
    assert run.status == 0
    assert run.stderr.startswith(b"luacross: warning: b/init.lua and a/init.lua both make module")
    assert b"note:" not in run.stderr
    failed = run_cli(["-q", "-f", "-o", "x.img", "missing.lua"])
    assert (failed.status, failed.stderr) == (
        1,
        b"luacross: cannot open missing.lua: No such file or directory\n",
    )


@pytest.mark.parametrize("build", [[], ["--lua", "5.3"]], ids=["5.1", "5.3"])
def test_image_is_that_of_the_resource_lua_make_resource_writes(build, tmp_path, monkeypatch):
    """`--resource web` builds the image `luacross app.lua resource.lua` builds from the
    module's source written to a file (chunk name "@resource.lua", as luac.cross gives it)."""
    files = awkward_files(3)
    write_tree(tmp_path / "web", files)
    (tmp_path / "app.lua").write_text("print(1)\n")
    (tmp_path / "resource.lua").write_bytes(
        lua_source([(name.encode(), files[name]) for name in sorted(files)])
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run_cli([*build, "-f", "-o", "a.img", "--resource", "web", "app.lua"]).status == 0
    assert run_cli([*build, "-f", "-o", "b.img", "app.lua", "resource.lua"]).status == 0
    assert (tmp_path / "a.img").read_bytes() == (tmp_path / "b.img").read_bytes()
