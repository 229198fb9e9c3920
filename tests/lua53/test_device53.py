"""`luacross check` and `luacross run` with Lua 5.3 images.

`check` must accept every image the reference luac.cross 5.3 wrote and name
its build, and refuse damaged or wrong-build images with the 5.3 firmware
loader's message (lundump.c) on one line. `run` must print what stock Lua
5.3 (lupa.lua53) prints for the same program, inside the same sandbox as 5.1.
"""

import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import lupa.lua53 as lua53
import pytest

import golden
from golden import run_cli
from lfs_format.errors import LoaderError
from lfs_format.lua53.loader import load_image
from lfs_format.lua53.region import read_region
from luacross import device
from luacross.device import lua53 as device53

from .golden53 import CORPUS, GOLDEN53, blob, cases, epoch

DATA = Path(__file__).resolve().parent / "data"
PROGRAMS = DATA / "device"
IMAGES = CORPUS / "images"
BUILD_LINE = {
    "lua53": b"build: Lua 5.3, default build (32-bit integers, 32-bit floats)\n",
    "lua53-64": b"build: Lua 5.3, 64-bit build (LUA_NUMBER_64BITS: 64-bit integers, doubles)\n",
}
FLAGS = {"lua53": ["--lua", "5.3"], "lua53-64": ["--lua", "5.3", "--numbers", "64"]}


def recorded_images() -> list[tuple[str, str, bytes]]:
    """(case id, variant, bytes) of every LFS image the reference wrote."""
    found = []
    for category in ("image", "image-list", "image-strip", "stdin"):
        for case in cases(category):
            for name, meta in case["expect"].get("files", {}).items():
                data = (
                    blob(meta["sha256"]) if (GOLDEN53 / "blobs" / meta["sha256"]).exists() else None
                )
                if data is not None and data[5:6] == b"\x0b":  # format 11: an LFS image
                    found.append((f"{case['id']}:{name}", case["variant"], data))
    return found


RECORDED = recorded_images()


def one_line_error(run) -> str:
    assert run.status == 1
    assert run.stdout == b""
    text = run.stderr.decode()
    assert text.startswith("luacross: ") and text.count("\n") == 1, text
    assert "Traceback" not in text and "internal error" not in text
    return text[len("luacross: ") : -1]


def check(tmp_path, data: bytes, *options: str):
    path = tmp_path / "lfs.img"
    path.write_bytes(data)
    return run_cli(["check", *options, str(path)])


# ---------------------------------------------------------------------------
# check: recorded images


def test_there_are_recorded_images_of_both_builds():
    variants = [variant for _, variant, _ in RECORDED]
    assert variants.count("lua53") >= 5 and variants.count("lua53-64") >= 5


@pytest.mark.parametrize("case_id,variant,data", RECORDED, ids=[r[0] for r in RECORDED])
def test_check_accepts_every_recorded_image_and_names_its_build(tmp_path, case_id, variant, data):
    run = check(tmp_path, data)
    assert run.status == 0, run.stderr
    assert run.stdout.startswith(b"LFS image OK (Lua 5.3)\n" + BUILD_LINE[variant])
    assert f"image size: {len(data)} bytes".encode() in run.stdout
    # the device's build named explicitly: the same verdict
    assert check(tmp_path, data, *FLAGS[variant]).status == 0


def test_check_summary_of_the_corpus_images(tmp_path):
    for name, variant in (("apps3.img", "lua53"), ("apps3_64.img", "lua53-64")):
        run = run_cli(["check", str(IMAGES / name)])
        assert run.status == 0
        text = run.stdout.decode()
        assert BUILD_LINE[variant].decode() in text
        assert "modules (3): init fifo led_blink" in text
        assert f"timestamp: {epoch()} (2024-01-01 00:00:00 UTC)" in text


def absimage_cases(succeeded: bool) -> list[tuple[dict, Path]]:
    """The recorded `-F IMAGE -a ADDR` runs (the loader of luac.cross 5.3) and their input."""
    picked = []
    for case in cases("absimage"):
        args = case["args"]
        source = CORPUS / args[args.index("-F") + 1]
        if (case["expect"]["exit"] == 0) == succeeded and source.exists():
            picked.append((case, source))
    return picked


def test_check_reports_the_flash_the_loader_writes(tmp_path):
    """The flash size is the size of the region luac.cross -F writes for the image."""
    found = absimage_cases(True)
    assert len(found) >= 3
    for case, source in found:
        (meta,) = case["expect"]["files"].values()
        run = run_cli(["check", *FLAGS[case["variant"]], str(source)])
        assert f"flash size: {meta['size']} bytes".encode() in run.stdout, case["id"]


def test_check_gives_the_reference_loaders_messages(tmp_path):
    """Images luac.cross 5.3's loader refused (-F): check, told the build
    the reference was, refuses them with the same message."""
    found = absimage_cases(False)
    assert len(found) >= 4
    for case, source in found:
        expected = case["expect"]["stderr"].removeprefix("PROG: ").rstrip("\n")
        run = run_cli(["check", *FLAGS[case["variant"]], str(source)])
        assert one_line_error(run).split(" (the image")[0] == expected, case["id"]


def test_check_partition_fit(tmp_path):
    data = (IMAGES / "apps3.img").read_bytes()
    flash = device53.check_image(data, device.LUA53_32).loaded.flash
    run = check(tmp_path, data, "--lfs-size", "64K")
    assert run.status == 0
    assert f"partition: 65536 bytes, {65536 - len(flash)} free".encode() in run.stdout
    message = one_line_error(check(tmp_path, data, "--lfs-size", "4K"))
    assert message.startswith(f"the image needs {len(flash)} bytes of flash, more than the 4096")


# ---------------------------------------------------------------------------
# check: damaged and wrong-build images, one line each with the loader's words


def test_check_recorded_truncated_image(tmp_path):
    run = run_cli(["check", str(IMAGES / "truncated.img")])
    assert one_line_error(run) == "(null): truncated precompiled chunk"


def test_check_recorded_lc_file(tmp_path):
    run = run_cli(["check", str(IMAGES / "not_image.lc")])
    assert one_line_error(run).startswith("(null): format mismatch in precompiled chunk")


@pytest.mark.parametrize("name", ["apps3.img", "apps3_64.img"])
def test_check_every_truncation(tmp_path, name):
    data = (IMAGES / name).read_bytes()
    for size in list(range(5, 64)) + list(range(64, len(data), 97)) + [len(data) - 1]:
        run = check(tmp_path, data[:size])
        assert one_line_error(run) == "(null): truncated precompiled chunk", size


# (offset, xor, lundump.c's message) in a 5.3 image header
HEADER_DAMAGE = [
    (1, 0x01, "(null): not a precompiled chunk"),
    (3, 0x20, "(null): not a precompiled chunk"),
    (4, 0x04, "(null): version mismatch in precompiled chunk"),
    (5, 0x04, "(null): format mismatch in precompiled chunk"),
    (7, 0x10, "(null): corrupted precompiled chunk"),
    (12, 0x01, "(null): int size mismatch in precompiled chunk"),
    (13, 0x0C, "(null): Instruction size mismatch in precompiled chunk"),
    (15, 0x0C, "(null): lua_Number size mismatch in precompiled chunk"),
]


@pytest.mark.parametrize("offset,xor,message", HEADER_DAMAGE)
def test_check_bit_flipped_header(tmp_path, offset, xor, message):
    data = bytearray((IMAGES / "apps3.img").read_bytes())
    data[offset] ^= xor
    assert one_line_error(check(tmp_path, bytes(data))) == message


def test_check_bit_flips_anywhere_end_in_one_line(tmp_path):
    """A flipped bit anywhere: the loader accepts it (as the firmware would,
    e.g. in code) or refuses with one line; never a traceback."""
    data = (IMAGES / "apps3_64.img").read_bytes()
    outcomes = set()
    for offset in range(0, len(data), 11):
        damaged = bytearray(data)
        damaged[offset] ^= 1 << (offset % 8)
        run = check(tmp_path, bytes(damaged))
        if run.status == 0:
            outcomes.add("accepted")
        else:
            outcomes.add(one_line_error(run).split(" (")[0])
    assert "accepted" in outcomes and len(outcomes) > 3, outcomes


def test_check_wrong_build(tmp_path):
    narrow = (IMAGES / "apps3.img").read_bytes()
    wide = (IMAGES / "apps3_64.img").read_bytes()
    assert one_line_error(check(tmp_path, wide, "--lua", "5.3")) == (
        "(null): lua_Integer size mismatch in precompiled chunk "
        "(the image is for Lua 5.3, 64-bit build (LUA_NUMBER_64BITS))"
    )
    assert one_line_error(check(tmp_path, narrow, "--numbers", "64")) == (
        "(null): lua_Integer size mismatch in precompiled chunk "
        "(the image is for Lua 5.3, default build (32-bit integers and floats))"
    )
    # a 5.3 image on a 5.1 device, a 5.1 image on a 5.3 device
    message = one_line_error(check(tmp_path, narrow, "--lua", "5.1"))
    assert message.endswith(
        "(the image is for Lua 5.3, default build (32-bit integers and floats))"
    )
    (meta,) = golden.cases("float/image/apps")[0]["expect"]["files"].values()
    gz = golden.blob(meta["sha256"])
    message = one_line_error(check(tmp_path, gz, "--lua", "5.3"))
    assert message.startswith("(null): ") and "(the image is for Lua 5.1" in message


def test_detect_names_what_is_no_image():
    with pytest.raises(LoaderError, match="Lua 5.1 .lc file"):
        device.detect(b"\x1bLuaQ\x00\x01\x04\x04\x04\x08\x00")
    with pytest.raises(LoaderError, match="not an LFS image"):
        device.detect(b"hello world")


# ---------------------------------------------------------------------------
# run


def build_image(tmp_path, monkeypatch, *flags: str) -> Path:
    """The held-out program's image, compiled in `tmp_path` under plain names."""
    for path in PROGRAMS.glob("*.lua"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch()))
    run = run_cli([*flags, "-f", "-o", "prog.img", "_init.lua", "prog53.lua", "util53.lua"])
    assert run.status == 0, run.stderr
    return tmp_path / "prog.img"


def stock_output() -> list[str]:
    """Stock Lua 5.3 running the sources directly (util53 via package.preload)."""
    lua = lua53.LuaRuntime(encoding=None)
    printed: list[bytes] = []
    lua.globals().print = lambda *args: printed.append(
        b"\t".join(lua.globals().tostring(a) for a in args)
    )
    load = lua.eval("function(s, n) return assert(load(s, n)) end")
    lua.eval("package.preload")[b"util53"] = load(
        (PROGRAMS / "util53.lua").read_bytes(), b"@util53.lua"
    )
    load((PROGRAMS / "prog53.lua").read_bytes(), b"@prog53.lua")()
    return b"\n".join(printed).decode().splitlines()


@pytest.mark.parametrize("variant", ["lua53", "lua53-64"])
def test_run_held_out_program_prints_what_stock_lua_prints(tmp_path, monkeypatch, variant):
    image = build_image(tmp_path, monkeypatch, *FLAGS[variant])
    run = run_cli(["run", str(image), "prog53"])
    assert run.status == 0, run.stderr
    assert run.stdout.decode().splitlines() == stock_output()
    if variant == "lua53":
        assert run.stderr == f"luacross: note: {device53.NARROW_BUILD_NOTE}\n".encode()
    else:
        assert run.stderr == b""


def test_run_quiet_drops_the_build_note_but_not_errors(tmp_path, monkeypatch):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53"])
    run = run_cli(["run", "-q", str(image), "prog53"])
    assert run.status == 0 and run.stderr == b""
    assert run.stdout.decode().splitlines() == stock_output()
    run = run_cli(["run", "--quiet", str(image), "--code", "error('boom')"])
    assert run.status == 1 and run.stderr.startswith(b"luacross: ")
    assert b"note:" not in run.stderr and b"boom" in run.stderr


def test_run_the_lfs_api(tmp_path, monkeypatch):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    flash = device53.check_image(image.read_bytes(), device.LUA53_64BIT).loaded.flash
    code = """
    print(table.concat(node.LFS.list(), ","))
    print(type(node.LFS.get("util53")), node.LFS.get("nope"), node.LFS.nope)
    print(node.LFS.get("util53") ~= node.LFS.get("util53"), node.flashindex("util53")().gcd(12, 18))
    print(node.LFS.util53().fib(10), node.LFS.time, math.type(node.LFS.time))
    local c = node.LFS.config
    print(c.lfs_used, c.lfs_mapped, c.lfs_base, node.info("lfs").lfs_used == c.lfs_used)
    print(node.LFS.reload("missing.img"), node.flashreload("missing.img"))
    print(require("util53").gcd(100, 75))
    """
    run = run_cli(["run", str(image), "-e", code])
    assert run.status == 0, run.stderr
    assert run.stdout.decode().splitlines() == [
        "_init,prog53,util53",
        "function\tnil\tnil",
        "true\t6",
        f"55\t{epoch()}\tinteger",
        f"{len(flash)}\t{0x40220000}\t{0x20000}\ttrue",
        "No LFS partition allocated\tNo LFS partition allocated",
        "25",
    ]


def test_run_lua_error_has_the_image_source_and_a_traceback(tmp_path, monkeypatch):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53"])
    run = run_cli(["run", str(image), "-e", "print('before') node.LFS.util53().fib('x')"])
    assert run.status == 1
    assert run.stdout == b"before\n"
    text = run.stderr.decode()
    assert "util53.lua:2: attempt to compare" in text and "stack traceback" in text
    assert text.splitlines()[-1] == "\tstdin:1: in main chunk"  # no frame of the sandbox


# the sandbox: what the 5.3 firmware does not have, or what would reach the host
ESCAPES = {
    "io": "return io",
    "os": "return os",
    "python": "return python",
    "loadlib": "return package.loadlib",
    "cpath": "return package.cpath",
    "sethook": "return debug.sethook",
    "getupvalue": "return debug.getupvalue",
    "setupvalue": "return debug.setupvalue",
    "upvaluejoin": "return debug.upvaluejoin",
    "getlocal": "return debug.getlocal",
    "getinfo_func": "for l = 1, 9 do local i = debug.getinfo(l) "
    "if i and i.func then return i end end",
    "require_os": "local ok = pcall(require, 'os') return ok or nil",
    "require_io": "local ok = pcall(require, 'io') return ok or nil",
    "real_registry": "return debug.getregistry()._LOADED.os",
    "string_metatable": "return getmetatable('').__index.rep ~= string.rep or nil",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_run_sandbox_has_no_escape(tmp_path, monkeypatch, name):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    code = f"print((function() {ESCAPES[name]} end)() == nil)"
    run = run_cli(["run", str(image), "-e", code])
    assert run.status == 0, run.stderr
    assert run.stdout == b"true\n"


def test_run_refuses_binary_chunks_it_did_not_dump(tmp_path, monkeypatch):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    code = r"""
    local own = string.dump(function() return 42 end)
    print(load(own)())
    local forged = own:sub(1, -2) .. own:sub(-1)  -- the same bytes, built anew
    print(load(forged) ~= nil)
    local crafted = "\27Lua\83\0" .. own:sub(7, 20) .. "\0\0\0\0"
    print(load(crafted))
    print(loadstring(crafted, "x", "b"))
    print(load(function() local s = crafted; crafted = nil; return s end))
    print(loadfile("/etc/passwd"))
    print(pcall(dofile, "/etc/passwd"))
    """
    run = run_cli(["run", str(image), "-e", code])
    assert run.status == 0, run.stderr
    refused = (
        "attempt to load a binary chunk "
        "(luacross runs source code and chunks made by its own string.dump)"
    )
    assert run.stdout.decode().splitlines() == [
        "42",
        "true",
        f"nil\t{refused}",
        f"nil\t{refused}",
        f"nil\t{refused}",
        "nil\tcannot open /etc/passwd",
        "false\tcannot open /etc/passwd",
    ]


def test_run_timeout_and_memory_limit(tmp_path, monkeypatch):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    run = run_cli(["run", str(image), "--timeout", "0.5", "-e", "while true do pcall(error) end"])
    assert one_line_error(run).startswith("timeout: ")
    grow = "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end"
    run = run_cli(["run", str(image), "--memory", "4M", "-e", grow])
    assert run.status == 1
    assert b"not enough memory" in run.stderr or b"out of memory" in run.stderr


def test_run_modules_of_every_recorded_apps_image(tmp_path):
    """Each module of the recorded apps images loads into the 5.3 VM (the
    conversion to stock chunks is accepted by lupa's undump)."""
    for _, variant, data in RECORDED:
        build = device.detect(data)
        dev = device53.open_device(build)
        dev.load(data)
        for name in dev.modules:
            assert dev.module(name) is not None, (variant, name)


def test_run_timeout_reaches_coroutines_and_handlers(tmp_path, monkeypatch):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    for code in [
        "coroutine.wrap(function() while true do end end)()",
        "xpcall(function() while true do end end, function() while true do end end)",
    ]:
        run = run_cli(["run", str(image), "--timeout", "0.5", "-e", code])
        assert one_line_error(run).startswith("timeout: "), code


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_run_stops_on_a_signal(tmp_path, monkeypatch, signum, status, word):
    image = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    code = "print('looping') while true do pcall(function() while true do end end) end"
    process = subprocess.Popen(
        [sys.executable, "-m", "luacross", "run", str(image), "-e", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=golden.REPO,
    )
    assert process.stdout.readline() == b"looping\n"  # the Lua loop is running
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == status
    assert err == f"luacross: {word}\n".encode()


def test_in_process_fallback_runs_5_3_images(tmp_path, monkeypatch, capsys):
    """Where there is no fork, run goes on in-process with the VM's own time limit."""
    from luacross import device_cli

    data = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"]).read_bytes()
    endings = []
    for code in ["print(7 // 2)", "while true do end", "error({})"]:
        job = device_cli._DeviceJob(data, None, code, 0x40220000, None, 8 << 20)
        job.timeout = 0.3
        endings.append(device_cli.run_in_process(job))
    assert endings == [0, 1, 1]
    captured = capsys.readouterr()
    assert captured.out == "3\n"
    assert "luacross: timeout: Lua was still running after 0.3 s\n" in captured.err
    assert "luacross: (error object is a table value)\n" in captured.err


def test_lfs_reload_replaces_the_image_or_leaves_no_lfs(tmp_path, monkeypatch):
    """node.LFS.reload(file): the device restarts with the new image; an image
    the loader refuses leaves it without LFS (the 5.3 firmware erased it first)."""
    data = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"]).read_bytes()
    apps = (IMAGES / "apps3_64.img").read_bytes()
    dev = device53.open_device(device.detect(data), files={"apps.img": apps, "bad.img": apps[:100]})
    dev.load(data)
    dev.execute("print(table.concat(node.LFS.list(), ','))")
    dev.execute("print(node.LFS.reload('apps.img')) print('not reached')")
    dev.execute("print(table.concat(node.LFS.list(), ','), node.LFS.time)")
    dev.execute("node.LFS.reload('bad.img')")
    dev.execute("print(node.LFS.list(), node.LFS.get('fifo'), node.LFS.config.lfs_used)")
    assert dev.output == [
        "_init,prog53,util53",
        f"fifo,init,led_blink\t{epoch()}",
        "(null): truncated precompiled chunk",
        "nil\tnil\t0",
    ]


def test_run_damaged_images_end_in_one_line(tmp_path, monkeypatch):
    """Bit flips past the header: the loader refuses the image, or the damaged
    code runs (a Lua error, a VM crash in the child process, a timeout);
    whichever, luacross ends with one `luacross:` line, never a traceback."""
    data = build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"]).read_bytes()
    rng = random.Random(3)
    for _ in range(12):
        damaged = bytearray(data)
        for _ in range(3):
            damaged[rng.randrange(200, len(damaged))] ^= 1 << rng.randrange(8)
        path = tmp_path / "damaged.img"
        path.write_bytes(bytes(damaged))
        run = run_cli(["run", str(path), "prog53", "--timeout", "5"])
        text = run.stderr.decode()
        assert "Traceback" not in text and "internal error" not in text
        assert run.status in (0, 1)
        if run.status:  # one line, or a Lua error's message and its traceback
            assert text.startswith("luacross: "), text
            assert text.count("\n") == 1 or "\nstack traceback:\n" in text, text


# ---------------------------------------------------------------------------
# LFS regions (-F IMAGE -a ADDR, -a ADDR): flashed as they are


def test_check_accepts_every_recorded_region_and_reads_back_the_images_functions(tmp_path):
    """The regions luac.cross -F wrote: check names their build and address, and
    reads back exactly the functions the loader read from the image."""
    found = absimage_cases(True)
    for case, source in found:
        args = case["args"]
        address = int(args[args.index("-a") + 1], 16)
        (meta,) = case["expect"]["files"].values()
        region = blob(meta["sha256"])
        run = check(tmp_path, region)
        assert run.status == 0, (case["id"], run.stderr)
        assert run.stdout.startswith(
            b"LFS region OK (Lua 5.3, absolute: flash it as it is)\n" + BUILD_LINE[case["variant"]]
        )
        assert f"address: 0x{address:08x}\n".encode() in run.stdout
        build = device.detect(region)
        read_back = read_region(region)
        loaded = load_image(source.read_bytes(), build.target, address=address)
        assert read_back.names == loaded.names and read_back.protos == loaded.protos


def test_check_refuses_damaged_regions_in_one_line(tmp_path):
    (case, _), *_ = absimage_cases(True)
    (meta,) = case["expect"]["files"].values()
    region = blob(meta["sha256"])
    corrupted = bytearray(region)
    corrupted[1] ^= 0x01
    assert one_line_error(check(tmp_path, bytes(corrupted), "--lua", "5.3")) == (
        "LFS image corrupted."
    )
    short = one_line_error(check(tmp_path, region[:4000]))
    assert short.startswith("damaged LFS region: its header says")
    rng = random.Random(11)
    for _ in range(40):
        damaged = bytearray(region)
        damaged[rng.randrange(48, len(damaged))] ^= 1 << rng.randrange(8)
        run = check(tmp_path, bytes(damaged))
        if run.status:
            assert one_line_error(run)


def test_check_region_of_another_build(tmp_path):
    (case, _), *_ = [c for c in absimage_cases(True) if c[0]["variant"] == "lua53-64"]
    (meta,) = case["expect"]["files"].values()
    message = one_line_error(check(tmp_path, blob(meta["sha256"]), "--lua", "5.3"))
    assert message.startswith("an LFS region of another build: this firmware would misread it")


def test_run_a_region_prints_what_stock_lua_prints(tmp_path, monkeypatch):
    build_image(tmp_path, monkeypatch, *FLAGS["lua53-64"])
    sources = ["_init.lua", "prog53.lua", "util53.lua"]
    run = run_cli([*FLAGS["lua53-64"], "-a", "0x40230000", "-o", "abs.img", *sources])
    assert run.status == 0, run.stderr
    run = run_cli(["run", "abs.img", "prog53"])
    assert run.status == 0, run.stderr
    assert run.stdout.decode().splitlines() == stock_output()
    run = run_cli(["run", "abs.img", "-e", "print(node.LFS.config.lfs_mapped == 0x40230000)"])
    assert run.stdout == b"true\n"


def test_run_narrow_build_float_constants_keep_their_decimals(tmp_path, monkeypatch):
    """The default build stores C floats (0.1 is 0.100000001490116...); the
    64-bit VM gets the double of the shortest decimal, so it prints 0.1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch()))
    (tmp_path / "floats.lua").write_text("print(0.1, 3.14159, 1e-3, -2.5e10, 1/0 > 0)\n")
    assert run_cli([*FLAGS["lua53"], "-f", "-o", "f.img", "floats.lua"]).status == 0
    run = run_cli(["run", "f.img", "floats"])
    assert run.stdout == b"0.1\t3.14159\t0.001\t-25000000000.0\ttrue\n"


def test_widen_float32_round_trips_every_kind_of_float():
    import struct

    from lfs_format.lua53.stock import widen_float32

    flt_max = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]
    tiny = struct.unpack("<f", b"\x01\x00\x00\x00")[0]  # the smallest subnormal
    for number in (0.0, -0.0, 1.0, 0.1, -3.3, 1e30, flt_max, -flt_max, tiny):
        value = struct.unpack("<f", struct.pack("<f", number))[0]  # a C float
        wide = widen_float32(value)
        assert struct.unpack("<f", struct.pack("<f", wide))[0] == value
    assert widen_float32(0.10000000149011612) == 0.1
    assert widen_float32(float("inf")) == float("inf")


def test_stock_chunk_header_is_lupas_own():
    """dump_stock writes the header lupa.lua53's string.dump writes (format 0,
    size_t 8, 64-bit lua_Integer and double, LUAC_INT and LUAC_NUM)."""
    from lfs_format.lua53.stock import HEADER

    lua = lua53.LuaRuntime(encoding=None)
    assert lua.lua_version == (5, 3)
    dumped = lua.eval("string.dump(function() end)")
    assert dumped[: len(HEADER)] == HEADER
