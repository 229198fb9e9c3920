"""Code generation details: packed line info events and registers/jumps.

Expected bytes are the reference outputs quoted in the formats reference
(section 3.2); per-pc lines come from stock Lua 5.1.
"""

import lupa.lua51
import pytest

import lfs_format.lua51.opcodes
from lfs_format.lua51.lc import read_chunk
from luacross.lua51.parser import compile_source

_lua = lupa.lua51.LuaRuntime(encoding=None)


def stock_lines(source: bytes) -> list[int]:
    chunk = _lua.globals().string.dump(_lua.globals().loadstring(source, b"=t"))
    return read_chunk(chunk)[0].lineinfo


@pytest.mark.parametrize(
    ("source", "packed"),
    [
        (b"local a=1\nlocal b=2\n\n\nlocal c=3", "01 01 81 02"),
        (b"local a=1" + b"\n" * 100 + b"local b=2", "01 a2 81 02"),
        (b"local a=1" + b"\n" * 10000 + b"local b=2", "01 8e 9c 81 02"),
        (b"f(\n1)", "01 01 c1 01 01"),
        (b"function g()\nend", "80 01 c1 01 01"),
        (b"f(" + b"\n" * 71 + b")\nlocal z=1", "01 be 01 86 81 02"),  # the rewind bug
        (b"", "01"),
        (b"-- only a comment\n", "01"),
        (b"\n\n\nreturn\n\n\n", "82 02"),
    ],
)
def test_packed_line_info_reference_examples(source, packed):
    proto = compile_source(source, b"=t")
    assert proto.packedlineinfo.hex(" ") == packed
    assert proto.lineinfo == stock_lines(source)


def test_function_body_line_info():
    (child,) = compile_source(b"function g()\nend", b"=t").protos
    assert child.packedlineinfo.hex(" ") == "80 01"


def test_run_of_135_instructions_on_one_line():
    source = b"local a " + b"a=1 " * 134  # 134 LOADKs and the final RETURN
    proto = compile_source(source, b"=t")
    assert len(proto.code) == 135
    assert proto.packedlineinfo.hex(" ") == "7e c0 09"


def test_names_are_dropped_but_counts_kept():
    proto = compile_source(b"local x\nreturn function() return x end", b"=t")
    (child,) = proto.protos
    assert (proto.locvars, child.upvalues, child.nups) == ([], [], 1)


def test_main_function_is_vararg_and_arg_compat_params():
    source = b"return function(a, ...) end, function(...) return ... end"
    proto = compile_source(source, b"=t")
    stock = read_chunk(_lua.globals().string.dump(_lua.globals().loadstring(source, b"=t")))[0]
    # LUA_COMPAT_VARARG: HASARG | ISVARARG | NEEDSARG unless `...` is used; `arg` is a hidden local
    assert [p.header() for p in proto.walk()] == [p.header() for p in stock.walk()]
    assert [p.is_vararg for p in proto.walk()] == [2, 7, 3]


def test_op_constants_match_opcodes():
    # the code generator emits plain-int OP_* names; they must follow lopcodes.h's order
    for op in lfs_format.lua51.opcodes.OpCode:
        value = getattr(lfs_format.lua51.opcodes, f"OP_{op.name}")
        assert value == op and type(value) is int
