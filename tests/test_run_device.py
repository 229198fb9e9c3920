"""`luacross run` with stubs and a file system, on both cores: `--prelude`
(and the API's `prelude=`/`globals=`), `--spiffs` with NodeMCU's `file`
module, and over-the-air updates through `node.LFS.reload`.

Expected output comes from stock Lua running the same sources (lupa), and
the firmware's own strings (app/lua/lflash.c, app/lua53/lnodemcu.c and the
reference loaders' messages recorded in tests/golden*).
"""

import lupa.lua51 as lua51
import lupa.lua53 as lua53
import pytest

from golden import epoch, run_cli
from luacross import device
from luacross.device.vm import PreludeError
from luacross.runtime import run_image

CORES = {
    "5.1": ([], lua51),
    "5.3": (["--lua", "5.3", "--numbers", "64"], lua53),
}
FLASH_UPDATED = "LFS region updated.  Restarting."  # lflash.c, luaL_lfsreload

BLINK = """\
local pin = 4
gpio.mode(pin, gpio.OUTPUT)
local level = gpio.LOW
tmr.create():alarm(500, tmr.ALARM_AUTO, function()
  level = level == gpio.LOW and gpio.HIGH or gpio.LOW
  gpio.write(pin, level)
end)
print("blinking on pin " .. pin, tmr.now())
"""
STUBS = """\
gpio = {OUTPUT = 1, LOW = 0, HIGH = 1}
function gpio.mode(pin, mode) print("gpio.mode", pin, mode) end
function gpio.write(pin, level) print("gpio.write", pin, level) end
tmr = {ALARM_AUTO = 1, now = function() return 1234 end}
function tmr.create()
  return {alarm = function(self, ms, mode, f) print("alarm", ms, mode) f() f() end}
end
"""


def build(tmp_path, monkeypatch, core: str, output: str, sources: dict[str, str],
          *extra: str) -> bytes:  # fmt: skip
    """An image of `sources` (name -> Lua source) built by luacross in `tmp_path`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch()))
    for name, source in sources.items():
        (tmp_path / name).write_text(source)
    run = run_cli([*CORES[core][0], *extra, "-f", "-o", output, *sources])
    assert run.status == 0, run.stderr
    return (tmp_path / output).read_bytes()


def stock(core: str, *chunks: tuple[str, str]) -> tuple[list[str], str | None]:
    """What stock Lua of `core`'s version prints running `chunks` ((source,
    chunk name)) in order, and the message of the error that stopped it."""
    lua = CORES[core][1].LuaRuntime(encoding=None)
    printed: list[str] = []
    lua.globals().print = lambda *args: printed.append(
        "\t".join(lua.globals().tostring(a).decode() for a in args)
    )
    run = lua.eval(
        "function(s, n) local f, e = (loadstring or load)(s, n) "
        "if not f then return e end local ok, e = pcall(f) if not ok then return e end end"
    )
    for source, name in chunks:
        error = run(source.encode(), name.encode())
        if error is not None:
            return printed, error.decode()
    return printed, None


def lines(run) -> list[str]:
    return run.stdout.decode().splitlines()


def errors(run) -> list[str]:
    """stderr without the notes on a 5.3 build's numbers."""
    return [ln for ln in run.stderr.decode().splitlines() if not ln.startswith("luacross: note:")]


# ---------------------------------------------------------------------------
# preludes and globals


@pytest.mark.parametrize("core", CORES)
def test_prelude_stubs_the_modules_a_module_uses(tmp_path, monkeypatch, core):
    build(tmp_path, monkeypatch, core, "blink.img", {"blink.lua": BLINK})
    (tmp_path / "gpio.lua").write_text(STUBS.split("tmr =")[0])
    (tmp_path / "tmr.lua").write_text("tmr =" + STUBS.split("tmr =")[1])
    expected, error = stock(core, (STUBS, "=stubs"), (BLINK, "@blink.lua"))
    assert error is None and expected[-1] == "blinking on pin 4\t1234"
    run = run_cli(["run", "blink.img", "blink", "--prelude", "gpio.lua", "--prelude", "tmr.lua"])
    assert run.status == 0, run.stderr
    assert lines(run) == expected
    # without the stubs the module fails, as on a firmware without these modules
    run = run_cli(["run", "blink.img", "blink"])
    assert run.status == 1 and "gpio" in run.stderr.decode()


@pytest.mark.parametrize("core", CORES)
def test_prelude_error_is_one_line_with_the_file_and_line(tmp_path, monkeypatch, core):
    build(tmp_path, monkeypatch, core, "blink.img", {"blink.lua": BLINK})
    for source in ["gpio = {}\ngpio.mode(1)\n", "x = 1\nlocal = 2\n", "\nerror('no wifi')\n"]:
        (tmp_path / "bad.lua").write_text(source)
        _, message = stock(core, (source, "@bad.lua"))
        assert message is not None and message.startswith("bad.lua:2:")
        run = run_cli(["run", "blink.img", "blink", "--prelude", "bad.lua"])
        assert run.status == 1 and run.stdout == b""
        assert errors(run) == [f"luacross: {message}"]
    run = run_cli(["run", "blink.img", "--prelude", "missing.lua"])
    assert run.status == 1
    assert errors(run) == ["luacross: cannot open missing.lua: No such file or directory"]


@pytest.mark.parametrize("core", CORES)
def test_api_globals_prelude_and_require_on_both_cores(tmp_path, monkeypatch, core):
    data = build(tmp_path, monkeypatch, core, "blink.img", {"blink.lua": BLINK})
    calls = []
    build_ = device.detect(data)
    dev = device.core(build_).open_device(
        build_,
        globals={
            "gpio": {
                "OUTPUT": 1,
                "LOW": 0,
                "HIGH": 1,
                "mode": lambda pin, mode: calls.append(("mode", pin, mode)),
                "write": lambda pin, level: calls.append(("write", pin, level)),
            },
            "name": "device-1",
        },  # fmt: skip
        prelude="tmr = " + STUBS.split("tmr = ")[1],
    )
    dev.files["lib.lua"] = b"return {twice = function(x) return 2 * x end}"
    dev.load(data)
    dev.run_module("blink")
    assert calls == [("mode", 4, 1), ("write", 4, 1), ("write", 4, 0)]
    assert dev.output[-1] == "blinking on pin 4\t1234"
    assert dev.execute("return name, require('lib').twice(21)") == (b"device-1", 42)
    assert dev.require("lib") is not None
    assert dev.execute("return require('lib') == package.loaded.lib") == (True,)
    with pytest.raises(PreludeError, match=r"^\(prelude\):1: "):
        device.core(build_).open_device(build_, prelude="error('stub missing')").load(data)
    # run_image, the API's `luacross run`, serves both cores
    (tmp_path / "stubs.lua").write_text(STUBS)
    printed = run_image(data, module="blink", prelude=[tmp_path / "stubs.lua"])
    assert printed == stock(core, (STUBS, "=stubs"), (BLINK, "@blink.lua"))[0]


# ---------------------------------------------------------------------------
# --spiffs and the file module


FILE_OPS = """\
local f = file.open("log.txt", "w")
f:write("hello ") f:writeline("world") f:write(42) f:close()
print(file.getcontents("log.txt"))
print(file.exists("log.txt"), file.exists("nope.txt"), file.open("nope.txt"))
f = file.open("log.txt", "a+") f:write("!") f:close()
f = file.open("log.txt") print(f:readline(), f:read(2), f:seek("set", 1), f:read("o"))
print(f:read(), f:read()) f:close()
print(file.rename("log.txt", "new.txt"), file.rename("gone.txt", "x.txt"), file.exists("log.txt"))
file.putcontents("tmp.txt", "x") file.remove("tmp.txt")
local names = {} for name, size in pairs(file.list()) do names[#names + 1] = name .. "=" .. size end
table.sort(names) print(table.concat(names, " "))
print(file.stat("new.txt").size, pcall(file.read))
"""


@pytest.mark.parametrize("core", CORES)
def test_file_module_works_on_the_spiffs_folder(tmp_path, monkeypatch, core):
    build(tmp_path, monkeypatch, core, "a.img", {"blink.lua": BLINK})
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    (spiffs / "old.txt").write_bytes(b"kept")
    run = run_cli(["run", "a.img", "--spiffs", "spiffs", "--code", FILE_OPS])
    assert run.status == 0, run.stderr
    # file.c: readline keeps its "\n", read("o") stops after the "o", read()
    # takes up to 1024 bytes and gives nil at the end; rename fails for a
    # missing file; list maps names to sizes; after a close, file.read() reads
    # the closed default file: nil
    assert lines(run) == [
        "hello world",
        "42",
        "true\tfalse\tnil",
        "hello world",
        "\t42\t1\tello",
        " world",
        "42!\tnil",
        "true\tfalse\tfalse",
        "new.txt=15 old.txt=4",
        "15\ttrue\tnil",
    ]
    assert sorted(p.name for p in spiffs.iterdir()) == ["new.txt", "old.txt"]
    assert (spiffs / "new.txt").read_bytes() == b"hello world\n42!"


@pytest.mark.parametrize("core", CORES)
def test_binary_files_reach_the_folder_unchanged(tmp_path, monkeypatch, core):
    (tmp_path / "spiffs").mkdir()
    data = build(tmp_path, monkeypatch, core, "spiffs/a.img", {"blink.lua": BLINK})
    all_bytes = bytes(range(256)) * 3
    (tmp_path / "spiffs" / "bytes.bin").write_bytes(all_bytes)
    code = (
        "file.putcontents('copy.img', file.getcontents('a.img'))\n"
        "local f = file.open('bytes2.bin', 'w') local g = file.open('bytes.bin')\n"
        "while true do local s = g:read(100) if not s then break end f:write(s) end\n"
        "f:close() g:close()"
    )
    run = run_cli(["run", "spiffs/a.img", "--spiffs", "spiffs", "--code", code])
    assert run.status == 0, run.stderr
    assert (tmp_path / "spiffs" / "copy.img").read_bytes() == data
    assert (tmp_path / "spiffs" / "bytes2.bin").read_bytes() == all_bytes


@pytest.mark.parametrize("core", CORES)
def test_without_spiffs_the_file_system_is_empty(tmp_path, monkeypatch, core):
    build(tmp_path, monkeypatch, core, "a.img", {"blink.lua": BLINK})
    code = "print(next(file.list()), file.open('x.txt'), file.putcontents('x.txt', 'y'))"
    run = run_cli(["run", "a.img", "--code", code + " print(file.getcontents('x.txt'))"])
    assert run.status == 0, run.stderr
    assert lines(run) == ["nil\tnil\ttrue", "y"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.img", "blink.lua"]


@pytest.mark.parametrize("core", CORES)
def test_path_escapes_are_refused(tmp_path, monkeypatch, core):
    build(tmp_path, monkeypatch, core, "a.img", {"blink.lua": BLINK})
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    (spiffs / "link").symlink_to(outside)
    (spiffs / "sub").mkdir()
    # the device's Lua names paths outside the folder; the test reads none of them
    code = (
        'local up = "../outside.txt"\n'  # outside-path: not read
        'print(file.open(up, "w"), file.open(up), file.exists(up))\n'
        'print(file.putcontents("/tmp/x", "y"),'  # outside-path: not read
        ' file.putcontents("sub/x", "y"), file.open("..", "w"))\n'
        'print(file.open("link"), file.open("link", "w"), file.exists("link"),'
        ' file.getcontents("link"))\n'
        'print(file.rename("link", "mine"), file.putcontents("link", "z"),'
        ' node.LFS.reload("../a.img"))\n'  # outside-path: not read
        "print(next(file.list()))\n"
    )
    run = run_cli(["run", "a.img", "--spiffs", "spiffs", "--code", code])
    assert run.status == 0, run.stderr
    not_found = "LFS image file not found" if core == "5.1" else "No LFS partition allocated"
    assert lines(run) == [
        "nil\tnil\tfalse",
        "nil\tnil\tnil",
        "nil\tnil\tfalse",
        f"false\tnil\t{not_found}",
        "nil",
    ]
    assert outside.read_bytes() == b"secret"
    notes = [ln for ln in run.stderr.decode().splitlines() if "--spiffs" in ln]
    assert notes == [
        "luacross: note: --spiffs spiffs: link is a symbolic link: not part of the device's "
        "file system",
        "luacross: note: --spiffs spiffs: sub is a folder: not part of the device's file system",
    ]
    assert sorted(p.name for p in spiffs.iterdir()) == ["link", "sub"]
    assert list((spiffs / "sub").iterdir()) == []


def test_spiffs_must_be_a_folder(tmp_path, monkeypatch):
    build(tmp_path, monkeypatch, "5.1", "a.img", {"blink.lua": BLINK})
    run = run_cli(["run", "a.img", "--spiffs", "a.img"])
    assert run.status == 1 and errors(run) == ["luacross: --spiffs a.img: not a folder"]


# ---------------------------------------------------------------------------
# over-the-air updates


OTA = """\
print("A: running")
print(node.LFS.reload("missing.img"))
node.LFS.reload("b.img")
print("A: not reached")
"""
B_INIT = 'print("B: booted", table.concat(node.LFS.list(), ","))\n'


@pytest.mark.parametrize("core", CORES)
def test_ota_reload_boots_the_new_image(tmp_path, monkeypatch, core):
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    build(tmp_path, monkeypatch, core, "spiffs/b.img", {"_init.lua": B_INIT, "extra.lua": ""})
    build(tmp_path, monkeypatch, core, "a.img", {"ota.lua": OTA})
    b_output, _ = stock(core, ("node = {LFS = {list = function() return {'_init', 'extra'} end}}",
                               "=stub"), (B_INIT, "@_init.lua"))  # fmt: skip
    # luaL_lfsreload's answer for a missing file (5.1 lflash.c, 5.3 lnodemcu.c)
    missing = "LFS image file not found" if core == "5.1" else "No LFS partition allocated"
    restart = [FLASH_UPDATED] if core == "5.1" else []  # the 5.3 firmware just restarts
    for command in (["ota"], ["--code", "node.flashindex('ota')()"]):
        run = run_cli(["run", "a.img", *command, "--spiffs", "spiffs"])
        assert run.status == 0, run.stderr
        assert lines(run) == ["A: running", missing, *restart, *b_output]


@pytest.mark.parametrize("core", CORES)
def test_ota_from_init_lua_and_the_python_api(tmp_path, monkeypatch, core):
    """The usual OTA shape: init.lua installs a downloaded image once, then
    starts the LFS application; after the restart init.lua runs again."""
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    build(tmp_path, monkeypatch, core, "spiffs/new.img", {"_init.lua": B_INIT})
    data = build(tmp_path, monkeypatch, core, "a.img", {"_init.lua": 'print("A")'})
    (spiffs / "init.lua").write_text(
        'if file.exists("new.img") then\n'
        '  file.remove("lfs.img") file.rename("new.img", "lfs.img")\n'
        '  print("installing") node.LFS.reload("lfs.img")\n'
        "end\n"
        'node.flashindex("_init")()\n'
    )
    new = (spiffs / "new.img").read_bytes()
    restart = [FLASH_UPDATED] if core == "5.1" else []
    printed = run_image(data, spiffs=spiffs)
    assert printed == ["installing", *restart, "B: booted\t_init"]
    assert sorted(p.name for p in spiffs.iterdir()) == ["init.lua", "lfs.img"]
    assert (spiffs / "lfs.img").read_bytes() == new
    # the next boot finds nothing to install
    assert run_image(data, spiffs=spiffs) == ["A"]
    # init.lua that reloads at every start: a boot loop, ended in one line
    (spiffs / "init.lua").write_text('node.LFS.reload("lfs.img")\n')
    run = run_cli(["run", "a.img", "--spiffs", "spiffs"])
    assert run.status == 1
    assert errors(run) == ["luacross: the device restarted 10 times in one run (a boot loop: "
                           "does init.lua reload LFS at every start?)"]  # fmt: skip


def test_a_bad_image_gives_the_firmwares_error_5_1(tmp_path, monkeypatch):
    """Lua 5.1: the loader's first pass refuses the image before anything is
    erased; reload returns its message and the old image keeps running."""
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    build(tmp_path, monkeypatch, "5.1", "spiffs/int.img", {"_init.lua": B_INIT}, "--int")
    (spiffs / "cut.img").write_bytes((spiffs / "int.img").read_bytes()[:40])
    build(tmp_path, monkeypatch, "5.1", "a.img", {"ota.lua": OTA})
    code = "print(node.LFS.reload('int.img')) print(node.flashreload('cut.img')) print('still A')"
    run = run_cli(["run", "a.img", "--spiffs", "spiffs", "--code", code])
    assert run.status == 0, run.stderr
    out = lines(run)
    assert out[0] == "Incorrect LFS build type"  # the reference loader's message (tests/golden)
    assert out[1] != FLASH_UPDATED and out[2] == "still A"


def test_a_bad_image_gives_the_firmwares_error_5_3(tmp_path, monkeypatch):
    """Lua 5.3: reload only checks that the file exists and restarts; the
    loader runs at boot, after erasing LFS: its message is printed and the
    device comes up without LFS (and without running init)."""
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    good = build(tmp_path, monkeypatch, "5.3", "good.img", {"_init.lua": B_INIT})
    (spiffs / "cut.img").write_bytes(good[:100])
    build(tmp_path, monkeypatch, "5.3", "a.img", {"_init.lua": 'print("A")'})
    run = run_cli(["run", "a.img", "--spiffs", "spiffs", "--code",
                   "node.LFS.reload('cut.img')"])  # fmt: skip
    assert run.status == 0, run.stderr
    assert lines(run) == ["A", "(null): truncated precompiled chunk"]  # tests/golden53 message


def test_in_process_run_writes_the_folder_too(tmp_path, monkeypatch):
    """Where there is no fork, the job runs here and writes DIR itself."""
    from luacross import device_cli

    data = build(tmp_path, monkeypatch, "5.1", "a.img", {"blink.lua": BLINK})
    spiffs = tmp_path / "spiffs"
    spiffs.mkdir()
    (spiffs / "old.txt").write_bytes(b"old")
    code = "file.putcontents('x.txt', 'y') file.remove('old.txt')"
    job = device_cli._DeviceJob(data, None, code, 0x40220000, None, 8 << 20, spiffs=spiffs)
    assert device_cli.run_in_process(job) == 0
    assert sorted(p.name for p in spiffs.iterdir()) == ["x.txt"]
    assert (spiffs / "x.txt").read_bytes() == b"y"


def test_open_modes_as_nodemcus_spiffs_reads_them():
    """app/spiffs/spiffs.c fs_mode2flag: "r+" does not create, "a" appends,
    "w"/"w+" truncate, and any other mode is read-only."""
    from luacross.device.spiffs import Spiffs

    fs = Spiffs({"x": b"abc"})
    assert fs.open(b"new", b"r+") is None and fs.open(b"new", b"rb") is None
    handle = fs.open(b"x", b"rb")
    assert fs.read(handle, 10, None) == b"abc" and not fs.write(handle, b"z")
    handle = fs.open(b"x", b"r+")
    assert fs.write(handle, b"Z") and fs.read(handle, 10, None) == b"bc"
    fs.close(handle)
    handle = fs.open(b"x", b"a")
    fs.seek(handle, b"set", 0)
    fs.write(handle, b"!")
    fs.close(handle)
    assert fs.files == {"x": b"Zbc!"}
    fs.close(fs.open(b"x", b"w"))
    assert fs.files == {"x": b""}


def test_a_failed_spiffs_write_is_said_once(tmp_path, capsys):
    # the device writes a file when it is opened and again when it is closed; a
    # write the PC refuses (here: a folder of that name) is one line, not two
    from luacross import device_cli

    (tmp_path / "x.txt").mkdir()
    job = device_cli._DeviceJob(b"", None, None, 0x40220000, None, 8 << 20, spiffs=tmp_path)
    job.show("f", "x.txt\0")
    job.show("f", "x.txt\0data")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"luacross: cannot open {tmp_path / 'x.txt'}")
