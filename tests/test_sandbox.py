"""`luacross run` gives an image the firmware's world, never the host's.

The device VM holds what NodeMCU's Lua 5.1 firmware holds (app/lua/linit.c,
lbaselib.c, lmathlib.c, ldblib.c with LUA_USE_BUILTIN_DEBUG_MINIMAL as
user_config.h sets it, loadlib.c, app/modules/node.c); every way out to the
host is absent or harmless. Each escape runs as an image's code would, and the
host is checked for traces (a marker file it would create).
"""

import signal
import subprocess
import sys

import pytest

from golden import REPO, cases, output_blob, run_cli
from luacross.runtime import LfsDevice, LuaRuntimeError

FIXTURES = REPO / "fixtures"


def image(case_id: str) -> bytes:
    (found,) = [c for c in cases() if c["id"] == case_id]
    return output_blob(found)


@pytest.fixture
def device():
    dev = LfsDevice(globals={"stub": lambda *args: {"answer": 42}})
    dev.load(image("float/image/apps"))
    return dev


def lua_error(device, code: str) -> str:
    with pytest.raises(LuaRuntimeError) as error:
        device.execute(code)
    return error.value.lua_message


def names(device, expression: str) -> list[str]:
    code = f"local t = {{}} for k in pairs({expression}) do t[#t + 1] = k end return t"
    (table,) = device.execute(code)
    return sorted(name.decode() for name in table.values())


# the firmware's tables, from the 5.1 sources (default ESP8266 build: user_modules.h has
# LUA_USE_MODULES_FILE and _NODE)
BASE = [
    "assert",
    "collectgarbage",
    "dofile",
    "error",
    "gcinfo",
    "getfenv",
    "getmetatable",
    "load",
    "loadfile",
    "loadstring",
    "next",
    "pcall",
    "print",
    "rawequal",
    "rawget",
    "rawset",
    "select",
    "setfenv",
    "setmetatable",
    "tonumber",
    "tostring",
    "type",
    "unpack",
    "xpcall",
]
ROM_TABLES = ["ROM", "coroutine", "debug", "file", "math", "node", "string", "table"]
RAM = ["_G", "_VERSION", "__index", "ipairs", "module", "newproxy", "package", "pairs", "require"]


def test_globals_are_the_firmwares(device):
    assert names(device, "_G") == sorted([*RAM, "stub"])
    assert names(device, "ROM") == sorted(BASE + ROM_TABLES)
    assert device.execute("return getmetatable(_G) == _G, _G.__index == ROM") == (True, True)
    assert names(device, "debug") == ["getregistry", "getstrings", "traceback"]
    assert names(device, "math") == [
        "abs",
        "ceil",
        "floor",
        "huge",
        "max",
        "min",
        "pi",
        "pow",
        "random",
        "randomseed",
        "sqrt",
    ]
    assert names(device, "coroutine") == ["create", "resume", "running", "status", "wrap", "yield"]
    assert names(device, "package.loaded") == [
        "_G",
        "coroutine",
        "debug",
        "math",
        "package",
        "string",
        "table",
    ]
    assert device.execute("return package.path, package.cpath") == (b"?.lc;?.lua", b"")


def test_integer_build_math():
    dev = LfsDevice()
    dev.load(image("int/image/apps"))
    assert names(dev, "math") == [
        "abs",
        "ceil",
        "floor",
        "huge",
        "max",
        "min",
        "pow",
        "random",
        "randomseed",
        "sqrt",
    ]
    assert dev.execute("return math.huge") == (2147483647,)


def test_string_library_is_its_own_metatable(device):
    assert device.execute("return getmetatable('') == string, string.__index == string") == (
        True,
        True,
    )
    assert device.execute("return ('%d-%s') % {7, 'x'}, ('%05.1f') % 2.25") == (b"7-x", b"002.2")
    with pytest.raises(LuaRuntimeError, match="'string.gfind' was renamed to 'string.gmatch'"):
        device.execute("string.gfind('a', 'a')")


@pytest.mark.parametrize(
    "expression",
    [
        "os",
        "io",
        "python",
        "loadlib",
        "package.loadlib",
        "debug.sethook",
        "debug.getupvalue",
        "debug.getinfo",
        "debug.setmetatable",
        "getfenv(0).os",
        "getfenv(0).io",
        "getfenv(1).os",
        "getmetatable('').__index.os",
        "debug.getregistry()['FILE*']",
        "debug.getregistry().POBJECT",
        "debug.getregistry()._LOADED.io",
        "debug.getregistry()._LOADED.os",
        "debug.getregistry()._LOADED.python",
        "package.loaded.python",
        "getmetatable(stub)",
    ],
)
def test_host_libraries_are_absent(device, expression):
    assert device.execute(f"return {expression}") == (None,)


def test_shell_file_and_native_escapes_fail(device, tmp_path):
    marker = tmp_path / "escaped"
    attempts = [
        f"os.execute('touch {marker}')",
        f"io.open('{marker}', 'w')",
        f"io.popen('touch {marker}')",
        f"python.eval(\"__import__('os').system('touch {marker}')\")",
        "package.loadlib('libc.so.6', 'abort')()",
        f"getfenv(0).os.execute('touch {marker}')",
        f"setfenv(1, getfenv(print)) os.execute('touch {marker}')",
        f"require('os').execute('touch {marker}')",
        f"require('io').open('{marker}', 'w')",
        "os.exit(42)",
    ]
    for code in attempts:
        with pytest.raises(LuaRuntimeError):
            device.execute(code)
    assert not marker.exists()


def test_files_are_the_devices_not_the_hosts(device, tmp_path):
    host_file = tmp_path / "secret.lua"
    host_file.write_text("return 'host'")
    path = str(host_file)
    assert device.execute(f"return loadfile({path!r})") == (None, f"cannot open {path}".encode())
    assert lua_error(device, f"dofile({path!r})") == f"cannot open {path}"
    assert f"no file '{path}'" in lua_error(device, f"require({path[:-4]!r})")
    device.files["lib.lua"] = b"#!shebang line\nreturn ..."
    assert device.execute("return dofile('lib.lua'), require('lib')") == (None, b"lib")
    assert device.execute("return loadfile('lib.lua')('x')") == (b"x",)


def test_binary_chunks_load_only_from_this_vms_dump(device):
    assert device.execute(
        "local s = string.dump(function(a) return a * 2 end) return loadstring(s)(21)"
    ) == (42,)
    refused = "binary chunk refused"
    for code in [
        "local s = string.dump(function() return 1 end) return loadstring(s:sub(1, -2) .. 'x')",
        "return loadstring('\\27Lua\\81\\0\\1\\4\\8\\4\\8\\0')",
        "local s = string.dump(function() return 1 end) .. ''"
        " return load(function() local c = s s = nil return c and c:upper() end)",
    ]:
        f, message = device.execute(code)
        assert f is None and message.decode().startswith(refused)
    device.files["evil.lc"] = b"\x1bLua\x51\x00"
    assert device.execute("return loadfile('evil.lc')")[1].decode().startswith(refused)


def test_python_objects_show_no_internals(device):
    assert device.execute("return type(stub), stub().answer") == (b"function", 42)
    with pytest.raises(LuaRuntimeError, match="attempt to index global 'stub'"):
        device.execute("return stub.__globals__")
    opaque = LfsDevice(globals={"obj": type("Obj", (), {"value": 1})()})
    opaque.load(image("float/image/one-module"))
    assert opaque.execute("return obj.value") == (1,)
    for attribute in ["__class__", "__dict__", "__init__", "_private"]:
        with pytest.raises(LuaRuntimeError, match="not accessible"):
            opaque.execute(f"return obj.{attribute}")


def test_registry_is_the_firmware_view(device):
    assert names(device, "debug.getregistry()") == ["_LOADED"]
    assert device.execute("return debug.getregistry()._LOADED == package.loaded") == (True,)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("error(nil)", "(error object is a nil value)"),
        ("error(true)", "(error object is a boolean value)"),
        ("error({})", "(error object is a table value)"),
        ("error(print)", "(error object is a function value)"),
        ("error(12)", "stdin:1: 12"),
        ("error(setmetatable({}, {__tostring = function() return 'mine' end}))", "mine"),
    ],
)
def test_error_objects_are_worded_as_lua_does(device, code, message):
    with pytest.raises(LuaRuntimeError) as error:
        device.execute(code)
    assert error.value.lua_message == message


def test_memory_limit():
    dev = LfsDevice(memory_limit=4 << 20)
    dev.load(image("float/image/one-module"))
    assert lua_error(dev, "local t = {} for i = 1, 1e8 do t[i] = i end") == (
        "not enough memory (the Lua memory limit is 4 MiB)"
    )
    assert dev.execute("return 1 + 1") == (2,)  # the VM goes on after the error


@pytest.mark.parametrize(
    "code",
    [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end,"
        " function() while true do end end) end",
        "coroutine.wrap(function() while true do end end)()",
        "local co = coroutine.create(function() while true do coroutine.yield() end end)"
        " while true do coroutine.resume(co) end",
    ],
)
def test_timeout_stops_lua_that_keeps_catching_it(code):
    dev = LfsDevice(timeout=0.2)
    dev.load(image("float/image/one-module"))
    assert lua_error(dev, code) == "timeout: Lua was still running after 0.2 s"
    assert dev.execute("local n = 0 for i = 1, 1e5 do n = n + i end return n") == (5000050000,)
    assert dev.execute("return coroutine.wrap(function(a) return a + 1 end)(1)") == (2,)
    assert dev.execute("return xpcall(error, function(m) return 'handled' end)") == (
        False,
        b"handled",
    )


def test_partition_sizes_the_device_cannot_have():
    for size in (0x100000000, 0x101000, 0x1001):
        with pytest.raises(Exception, match="LFS size"):
            LfsDevice(lfs_size=size)


# -- the command line ---------------------------------------------------------


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    path = tmp_path / "demo.img"
    sources = sorted(str(p) for p in FIXTURES.glob("*.lua"))
    assert run_cli(["-f", "-o", str(path), *sources]).status == 0
    return path


def one_line_error(run) -> str:
    assert run.status == 1
    text = run.stderr.decode("utf-8", "surrogateescape")
    assert text.startswith("luacross: ") and "Traceback" not in text
    return text.splitlines()[0][len("luacross: ") :]


def test_run_deep_pattern_crash_is_one_line(demo):
    code = 'string.find(string.rep("a", 1000000), string.rep("a?", 1000000))'
    run = run_cli(["run", str(demo), "-e", code])
    assert run.stderr.count(b"\n") == 1
    assert "crashed the Lua VM (SIGSEGV)" in one_line_error(run)


def test_run_timeout(demo):
    code = "print('started') while true do end"
    run = run_cli(["run", str(demo), "--timeout", "0.5", "-e", code])
    assert run.stdout == b"started\n"
    assert one_line_error(run) == "timeout: the image was still running after 0.5 s (--timeout)"


def test_run_memory_limit(demo):
    run = run_cli(["run", str(demo), "--memory", "2M", "-e", "local s = string.rep('x', 3e6)"])
    assert one_line_error(run) == "not enough memory (the Lua memory limit is 2 MiB)"


def test_run_os_exit_is_not_luacross_exit(demo):
    run = run_cli(["run", str(demo), "-e", "os.exit(42)"])
    assert one_line_error(run) == "stdin:1: attempt to index global 'os' (a nil value)"


def test_run_error_object_wording(demo):
    run = run_cli(["run", str(demo), "-e", "error({})"])
    assert one_line_error(run) == "(error object is a table value)"


@pytest.mark.parametrize("target", ["missing.img", "."])
def test_run_unreadable_image(demo, target):
    path = demo.parent / target
    assert one_line_error(run_cli(["run", str(path)])).startswith(f"cannot open {path}: ")


def test_run_rejects_a_non_image_alone(tmp_path):
    path = tmp_path / "random.bin"
    path.write_bytes(bytes(range(256)) * 4)
    run = run_cli(["run", str(path)])
    assert one_line_error(run) == (
        "not an LFS image: neither a Lua 5.1 image (gzip, or -a) nor a Lua 5.3 image (-f, or -a)"
    )
    assert run.stderr.count(b"\n") == 1


def test_run_non_utf8_module_name_and_code(demo):
    run = run_cli(["run", str(demo), "\udcff"])
    assert run.stderr.startswith(b"luacross: module '\xff' is not in LFS")
    run = run_cli(["run", str(demo), "-e", "print('\udcff')"])
    assert run.status == 0 and run.stdout.endswith(b"\n")


def test_check_refuses_impossible_partition_sizes(demo):
    message = one_line_error(run_cli(["check", str(demo), "--lfs-size", "0x100000000"]))
    assert message.startswith("LFS size 0x100000000 is larger than")
    assert one_line_error(run_cli(["check", str(demo), "--lfs-size", "0x1001"])).startswith(
        "LFS size 0x1001 is not a multiple of 4 KiB"
    )


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_run_stops_on_a_signal(demo, signum, status, word):
    code = "print('looping') io = nil while true do pcall(function() while true do end end) end"
    process = subprocess.Popen(
        [sys.executable, "-m", "luacross", "run", str(demo), "-e", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert process.stdout.readline() == b"looping\n"  # the Lua loop is running
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == status
    assert err == f"luacross: {word}\n".encode()


def test_in_process_fallback_has_the_same_endings(demo, capsys):
    """Where there is no fork, run goes on in-process with the VM's own time limit."""
    from luacross import device_cli

    data = demo.read_bytes()
    endings = []
    for code in ["print('hi')", "while true do end", "error({})"]:
        job = device_cli._DeviceJob(data, None, code, 0x40220000, None, 8 << 20)
        job.timeout = 0.3
        endings.append(device_cli.run_in_process(job))
    assert endings == [0, 1, 1]
    err = capsys.readouterr().err
    assert "luacross: timeout: Lua was still running after 0.3 s\n" in err
    assert "luacross: (error object is a table value)\n" in err
