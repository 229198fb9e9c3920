"""Running booted LFS images in lupa.lua51 with the firmware's LFS API."""

import lupa.lua51 as lua51
import pytest

from golden import CORPUS, cases, epoch, output_blob
from lfs_format.errors import LoaderError, LuacrossError
from lfs_format.target import FLOAT, INT
from luacross.runtime import LfsDevice, LuaRuntimeError, check_image, run_host_script, run_image


def image(case_id: str) -> bytes:
    (found,) = [c for c in cases() if c["id"] == case_id]
    return output_blob(found)


def module_names(case_id: str) -> list[str]:
    (found,) = [c for c in cases() if c["id"] == case_id]
    return [a.rsplit("/", 1)[-1][:-4] for a in found["args"] if a.endswith(".lua")]


@pytest.mark.parametrize(
    "case_id",
    [
        "float/image/apps",
        "int/image/apps",
        "float/absimage/apps",
        "int/absimage/apps",
        "float/image/syntax-b",
        "float/absimage/base-high",
    ],
)
def test_check_image_summary(case_id):
    (found,) = [c for c in cases() if c["id"] == case_id]
    summary = check_image(output_blob(found), integral=found["variant"] == "int")
    assert summary.modules == module_names(case_id)
    assert summary.flash_size == int(found["expect"]["stdout"].split()[-1])
    assert summary.timestamp == epoch()
    assert summary.build == found["variant"]
    assert any("modules" in line for line in summary.lines())


def test_check_image_errors_carry_firmware_messages():
    with pytest.raises(LoaderError, match="^Incorrect LFS build type$"):
        check_image(image("int/image/apps"))
    with pytest.raises(LoaderError, match="^LFS Image too big for configured LFS region$"):
        check_image(image("float/image/apps"), lfs_size=0x10000)


@pytest.fixture(scope="module")
def device():
    dev = LfsDevice()
    assert dev.load(image("float/image/apps")) == "LFS region updated.  Restarting."
    return dev


def test_every_module_resolves_through_flashindex(device):
    for name in module_names("float/image/apps"):
        assert device.execute(f"return type(node.flashindex('{name}'))") == (b"function",)
    assert device.execute("return node.flashindex('nope'), node.LFS.nope") == (None, None)


def test_lfs_table(device):
    names, stamp, used, info_used = device.execute(
        "return node.LFS.list(), node.LFS.time, node.LFS.config.lfs_used, node.info('lfs').lfs_used"
    )
    assert list(names.values()) == [n.encode() for n in sorted(module_names("float/image/apps"))]
    assert stamp == epoch() and used == info_used == 71056
    assert device.execute("return type(node.LFS.get('fifo'))") == (b"function",)


def test_require_runs_lfs_module_like_stock_lua(device):
    code = "local F = require('fifo').new(); F:push('a'); F:push('b'); return F:len(), F:pop()"
    stock = lua51.LuaRuntime(encoding=None)
    source = (CORPUS / "apps" / "fifo.lua").read_bytes()
    expected = stock.eval(
        "function(src, code) package.preload.fifo = loadstring(src) return loadstring(code)() end"
    )(source, code.encode())
    assert device.execute(code) == expected


def test_lua_errors_carry_message_and_traceback(device):
    lines = (CORPUS / "apps" / "fifo.lua").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "self.last - self.first + 1" in text)
    with pytest.raises(LuaRuntimeError) as exc:
        device.execute("local n = require('fifo').len(nil)\nreturn n")
    # images carry no local names (formats doc pitfall 1), so Lua cannot name 'self'
    assert exc.value.lua_message == f"apps/fifo.lua:{line}: attempt to index a nil value"
    assert exc.value.lua_traceback.startswith("stack traceback:")
    assert f"apps/fifo.lua:{line}: in function" in exc.value.lua_traceback
    assert exc.value.lua_traceback.endswith("stdin:1: in main chunk")
    assert isinstance(exc.value, LuacrossError)


def test_print_is_captured(device):
    device.output.clear()
    device.execute("print('a', 1, nil, true)")
    assert device.output == ["a\t1\tnil\ttrue"]


def test_injected_globals_and_prelude():
    calls = []
    dev = LfsDevice(
        globals={"gpio": {"OUTPUT": 1, "mode": lambda pin, mode: calls.append((pin, mode))}},
        prelude="tmr = {now = function() return 42 end}",
    )
    dev.load(image("float/image/one-module"))
    assert dev.execute("gpio.mode(4, gpio.OUTPUT); return tmr.now()") == (42,)
    assert calls == [(4, 1)]


def test_reload_from_lua():
    dev = LfsDevice(lfs_size=0x20000)
    dev.load(image("float/image/one-module"))
    dev.files["bad.img"] = image("int/image/apps")
    dev.files["lfs.img"] = image("float/image/apps")
    assert dev.execute("return node.LFS.reload('bad.img')") == (b"Incorrect LFS build type",)
    assert dev.execute("return node.LFS.reload('none.img')") == (b"LFS image file not found",)
    assert dev.modules == ["_init"]
    dev.execute("node.LFS.reload('lfs.img')")
    assert dev.output[-1] == "LFS region updated.  Restarting."
    assert len(dev.modules) == 16 and dev.execute("return type(node.flashindex('fifo'))") == (
        b"function",
    )


def test_integer_image_runs_on_the_float_vm():
    dev = LfsDevice()
    dev.load(image("int/image/apps"))
    assert dev.integral and dev.execute("return node.LFS.time") == (epoch(),)
    assert dev.execute("local F = require('fifo').new(); F:push(1); return F:len()") == (1,)


def test_absolute_image_boots_at_its_address():
    dev = LfsDevice()
    dev.load(image("float/absimage/base-high"))
    assert dev.flash.base == 0x40300000 and dev.modules == ["_init", "app", "button"]


def test_run_image_runs_init_then_code():
    lines = run_image(image("float/image/apps"), code="print(type(LFS), #LFS._list)")
    assert lines[-1] == "table\t16"


def test_run_host_script(tmp_path):
    script = tmp_path / "pre.lua"
    script.write_text("local x = 1\nreturn function(a)\n  return a + x\nend\n")
    proto = run_host_script(str(script), FLOAT)
    assert proto.numparams == 1 and proto.linedefined == 2 and proto.packedlineinfo
    assert proto.locvars == [] and proto.upvalues == []
    script.write_text("print('side effect only')\n")
    assert run_host_script(str(script), FLOAT) is None
    script.write_text("return (\n")
    with pytest.raises(LuacrossError):
        run_host_script(str(script), FLOAT)
    script.write_text("error('boom')\n")
    with pytest.raises(LuacrossError, match="boom"):
        run_host_script(str(script), FLOAT)


def test_host_script_is_compiled_for_the_target_first(tmp_path):
    """luac.cross.int's own VM compiles the -e script: a float literal is its
    "malformed number" error (the reference's exact message)."""
    script = tmp_path / "io.lua"
    script.write_bytes(b"print(1, 2.5)\nreturn nil\n")
    with pytest.raises(LuacrossError) as error:
        run_host_script(str(script), INT)
    assert str(error.value) == f"{script}:1: malformed number near '2.5'"
    assert run_host_script(str(script), FLOAT) is None
