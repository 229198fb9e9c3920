"""`luacross check` / `luacross run`, the image options' reports, and the demo app."""

import gzip
import zlib

import lupa.lua51 as lua51
import pytest

from golden import REPO, blob, cases, run_cli

FIXTURES = REPO / "fixtures"
APPS_IMAGE = cases("float/image/apps")[0]


def golden_image() -> bytes:
    (meta,) = APPS_IMAGE["expect"]["files"].values()
    return blob(meta["sha256"])


@pytest.fixture
def demo_image(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    image = tmp_path / "demo.img"
    sources = sorted(str(path) for path in FIXTURES.glob("*.lua"))
    run = run_cli(["-f", "-o", str(image), *sources])
    assert run.status == 0, run.stderr
    return image


def test_check_summarises_a_luac_cross_image(tmp_path):
    image = tmp_path / "lfs.img"
    image.write_bytes(golden_image())
    run = run_cli(["check", str(image)])
    assert run.status == 0
    text = run.stdout.decode()
    assert "flash size: 71056 bytes" in text and "timestamp: 1704067200" in text
    assert "modules (16): _init app button" in text


def test_check_reports_the_firmware_message(tmp_path):
    data = bytearray(gzip.decompress(golden_image()))
    data[0] ^= 0x08  # the IN_PROGRESS bit: only a device sets it
    image = tmp_path / "bad.img"
    image.write_bytes(gzip.compress(bytes(data)))
    run = run_cli(["check", str(image)])
    assert run.status == 1
    assert run.stderr == b"luacross: incorrect LFS header signature\n"


def test_check_detects_the_integer_build_and_refuses_it_for_the_float_firmware(tmp_path):
    (meta,) = cases("int/image/apps")[0]["expect"]["files"].values()
    image = tmp_path / "int.img"
    image.write_bytes(blob(meta["sha256"]))
    for args in ([], ["--int"]):
        run = run_cli(["check", *args, str(image)])
        assert run.status == 0
        assert b"build: Lua 5.1, integer build\n" in run.stdout
    run = run_cli(["check", "--lua", "5.1", str(image)])  # a device with the float build
    assert run.status == 1
    assert run.stderr == (
        b"luacross: Incorrect LFS build type (the image is for Lua 5.1, integer build)\n"
    )


def test_check_of_a_missing_file(tmp_path):
    run = run_cli(["check", str(tmp_path / "none.img")])
    assert run.status == 1
    assert run.stderr.startswith(b"luacross: cannot open ")


def run_with_stock_lua(module: str) -> list[str]:
    """Run a fixture with lupa's Lua 5.1 straight from the sources."""
    lua = lua51.LuaRuntime()
    printed: list[str] = []
    lua.globals()["print"] = lambda *args: printed.extend("\t".join(map(str, args)).split("\n"))
    preload = lua.eval("package.preload")
    for path in FIXTURES.glob("*.lua"):
        preload[path.stem] = lua.execute(
            "return loadstring(...)", path.read_text(), "@" + path.name
        )
    lua.execute(f"require({module!r})")
    return printed


def test_run_demo_prints_what_stock_lua_prints(demo_image):
    run = run_cli(["run", str(demo_image), "demo_main"])
    assert run.status == 0, run.stderr
    assert run.stdout.decode().splitlines() == run_with_stock_lua("demo_main")


def test_run_reports_lua_errors_with_traceback_and_keeps_output(demo_image):
    run = run_cli(["run", str(demo_image), "-e", "print('before') error('boom')"])
    assert run.status == 1
    assert run.stdout == b"before\n"
    error = run.stderr.decode()
    assert error.startswith("luacross: ") and "boom" in error and "stack traceback" in error


def test_best_reports_its_saving_and_inflates_in_a_16k_window(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    sources = sorted(str(path) for path in FIXTURES.glob("*.lua"))
    default, best = tmp_path / "default.img", tmp_path / "best.img"
    assert run_cli(["-f", "-o", str(default), *sources]).status == 0
    run = run_cli(["-f", "--best", "-o", str(best), *sources])
    assert run.status == 0
    saved = default.stat().st_size - best.stat().st_size
    assert saved > 0
    assert f"--best: {best.stat().st_size} bytes, {saved} bytes smaller".encode() in run.stderr
    inflater = zlib.decompressobj(16 + 14)  # gzip framing, a 16 KiB window
    assert inflater.decompress(best.read_bytes()) == gzip.decompress(default.read_bytes())
    assert run_cli(["check", str(best)]).status == 0


def test_strip_image_reports_the_flash_it_saves(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    sources = sorted(str(path) for path in FIXTURES.glob("*.lua"))
    full = run_cli(["-f", "-o", str(tmp_path / "full.img"), *sources])
    stripped = run_cli(["-f", "--strip-image", "-o", str(tmp_path / "s.img"), *sources])
    saved = int(full.stdout.split()[-1]) - int(stripped.stdout.split()[-1])
    assert saved > 0
    assert f"{saved} bytes of flash saved".encode() in stripped.stderr
    assert run_cli(["run", str(tmp_path / "s.img"), "demo_main"]).status == 0


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python API example works as written (on the demo fixtures)."""
    readme = (REPO / "README.md").read_text()
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    for name in ("ringbuf.lua", "formatter.lua"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    device = namespace["device"]
    assert device.output[-1].startswith("table: ")
    assert set(device.modules) == {"ringbuf", "formatter"}
