"""The compiler against the recorded luac.cross runs (tests/golden).

Every `lc` case must give the reference `.lc` byte for byte once dumped, and
every `error` case the reference's message (stderr minus the program name).
Int-build `lc` cases that luac.cross rejects fail either while compiling
(a malformed number) or while dumping (a constant outside int32's dump range).
"""

import importlib.util

import pytest

from golden import CORPUS, REPO, cases, output_blob
from lfs_format.errors import LcFormatError
from lfs_format.lua51.lc import dump_chunk, read_chunk
from lfs_format.lua51.proto import constant_key
from lfs_format.target import FLOAT, INT
from luacross.api import read_input
from luacross.lua51.codegen import CompileLimitError
from luacross.lua51.lexer import LuaSyntaxError
from luacross.lua51.parser import compile_source

TARGETS = {"float": FLOAT, "int": INT}
COMPILE_CASES = [
    case
    for prefix in ("float/lc/", "int/lc/", "float/error/", "int/error/")
    for case in cases(prefix)
]


def compile_case(case: dict):
    """Compile the case's one source file as luac.cross was asked to."""
    path = case["args"][-1]
    source, _ = read_input(str(CORPUS / path))  # luaL_loadfile's '#' line skip
    return compile_source(source, b"@" + path.encode(), TARGETS[case["variant"]])


def expected_message(case: dict) -> str:
    stderr = case["expect"]["stderr"]
    assert stderr.startswith("PROG: ") and stderr.endswith("\n")
    return stderr[len("PROG: ") : -1]


@pytest.mark.parametrize("case", COMPILE_CASES, ids=lambda case: case["id"])
def test_golden_case(case):
    target = TARGETS[case["variant"]]
    if case["expect"]["exit"] == 0:
        assert dump_chunk(compile_case(case), target) == output_blob(case)
        return
    message = expected_message(case)
    try:
        proto = compile_case(case)
    except LuaSyntaxError as exc:
        assert str(exc) == message
        return
    with pytest.raises(LcFormatError) as exc:  # luac.cross failed while dumping
        dump_chunk(proto, target)
    assert str(exc.value) == message


def stock_constants(source: bytes) -> list:
    """Stock Lua 5.1's constants for `source` (same IEEE doubles and libm as luac.cross)."""
    import lupa.lua51

    lua = lupa.lua51.LuaRuntime(encoding=None)
    chunk = lua.globals().string.dump(lua.globals().loadstring(source, b"=test"))
    return read_chunk(chunk)[0].constants


def compile_file(path, text: bytes):
    path.write_bytes(text)
    source, chunkname = read_input(str(path))
    return compile_source(source, chunkname)


def test_shebang_line_is_skipped_but_counted(tmp_path):
    proto = compile_file(tmp_path / "s.lua", b"#!/usr/bin/lua ( [[\nreturn x\n")
    assert proto.lineinfo == [2, 2, 2]


def test_shebang_without_newline_is_an_empty_chunk(tmp_path):
    assert compile_file(tmp_path / "s.lua", b"#!lua").lineinfo == [1]


def test_compile_source_leaves_a_hash_line_alone():
    """Only luaL_loadfile skips a '#' line: stock loadstring("#!lua") is a syntax error."""
    import lupa.lua51

    lua = lupa.lua51.LuaRuntime(encoding=None)
    _, stock = lua.globals().loadstring(b"#!lua\nreturn 1\n", b"=s")
    with pytest.raises(LuaSyntaxError) as exc:
        compile_source(b"#!lua\nreturn 1\n", b"=s")
    assert str(exc.value).encode() == stock


def test_error_message_fields():
    with pytest.raises(LuaSyntaxError) as exc:
        compile_source(b"x = = 1", b"@dir/f.lua")
    error = exc.value
    assert (error.chunkid, error.line, error.message, error.near) == (
        "dir/f.lua",
        1,
        "unexpected symbol",
        "=",
    )
    assert str(error) == "dir/f.lua:1: unexpected symbol near '='"


def test_long_chunkname_is_shortened_like_luaO_chunkid():
    name = "d/" * 50 + "f.lua"  # 105 characters; luac's MAXSRC buffer keeps the last 72
    with pytest.raises(LuaSyntaxError) as exc:
        compile_source(b"x = = 1", b"@" + name.encode())
    assert exc.value.chunkid == "..." + name[-72:]


def test_lua_modulo_is_not_pythons():
    # formats reference, pitfall 7
    assert compile_source(b"return 91.788 % 28.352", b"=t").constants == [6.731999999999999]


@pytest.mark.parametrize(
    "source",
    [
        b"return 1e308 % 1e-308",
        b"return 2 ^ 0.5, 10 ^ 400, (-10) ^ 401, 0 ^ -1, (-0) ^ -3",
        b"return (-8) ^ (1/3)",  # NaN: not folded
        b"return 1 / 0, 1 % -0, 0/0",
        b"return -0 % 1, -(0), 0, -0",  # 0 and -0 are one key in Lua's constant table
        b"return 1, true, 1.0, false, nil, x[true], x[1], x[nil]",
    ],
)
def test_float_constants_match_stock(source):
    ours = compile_source(source, b"=test").constants
    assert [constant_key(k) for k in ours] == [constant_key(k) for k in stock_constants(source)]


@pytest.mark.parametrize(
    ("source", "constants"),
    [
        # formats reference, section 10
        (b"return 4294967297", [1]),
        (b"return 99999999999", [1215752191]),
        (b"return 9223372036854775808", [-1]),
        (b"return 0xFFFFFFFF", [-1]),
        (b"return 0x8000000000000000", [0]),
        (b"return 65536*65536", [0]),
        (b"return -7/2, 7/2", [-4, 3]),
        (b"return 7%-3, -7%3", [-2, 2]),
        (b"return 3^21, 2^-1, 0^0", [1870418611, 0, 1]),
        (b"return 1/0", [0, 1]),  # never folded; the divisor is added first
    ],
)
def test_int_build_numbers(source, constants):
    assert compile_source(source, b"=test", INT).constants == constants


def test_int_build_rejects_fractions():
    with pytest.raises(LuaSyntaxError, match=r"malformed number near '1e3'"):
        compile_source(b"return 1e3", b"@x.lua", INT)


# -- luaM_growvector limits: luaG_runerror messages with no chunk or line ----------


def table_of_strings(n: int) -> bytes:
    return b"local t = {" + b",".join(b'"%d"' % i for i in range(n)) + b"}\n"


def test_constant_table_overflow():
    """luac.cross: 262143 (MAXARG_Bx) constants compile, the 262144th is
    "PROG: constant table overflow" in both builds."""
    assert len(compile_source(table_of_strings(262143), b"@k.lua").constants) == 262143
    with pytest.raises(CompileLimitError) as exc:
        compile_source(table_of_strings(262144), b"@k.lua", INT)
    assert str(exc.value) == "constant table overflow"


def test_nested_function_overflow(monkeypatch):
    """pushclosure grows f->p with the same limit and message (luac.cross checked by hand:
    262143 `function() end` in one constructor compile, 262144 fail); here the limit is
    lowered to keep the test fast, in a copy of the parser run from its source (a compiled
    parser has the limit built in)."""
    spec = importlib.util.spec_from_file_location(
        "parser_source", REPO / "luacross" / "lua51" / "parser.py"
    )
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    monkeypatch.setattr(source, "MAXARG_BX", 5)
    source.compile_source(b"local t = {" + b"function() end," * 5 + b"}", b"@p.lua")
    with pytest.raises(CompileLimitError, match="^constant table overflow$"):
        source.compile_source(b"local t = {" + b"function() end," * 6 + b"}", b"@p.lua")


@pytest.mark.parametrize(
    "ok, too_many",
    [
        (b"do local a end\n" * 32767, b"do local a end\n" * 32768),
        # 3 hidden locals and the loop variable each: 8192 loops register 32768
        (b"for i = 1, 2 do end\n" * 8191, b"for i = 1, 2 do end\n" * 8192),
        (
            b"local function f()\n" + b"do local a end\n" * 32766 + b"end\n",
            b"local function f()\n" + b"do local a end\n" * 32768 + b"end\n",
        ),
    ],
    ids=["do-blocks", "for-loops", "nested"],
)
def test_too_many_local_variables(ok, too_many):
    """luac.cross counts every local ever declared in a function (SHRT_MAX = 32767)."""
    compile_source(ok, b"@l.lua")
    with pytest.raises(CompileLimitError) as exc:
        compile_source(too_many, b"@l.lua")
    assert str(exc.value) == "too many local variables"


def test_stock_lua_agrees_on_a_mixed_chunk():
    """Spot check against stock 5.1 (the full differential test is test_differential.py)."""
    import lupa.lua51

    lua = lupa.lua51.LuaRuntime(encoding=None)
    source = b"local t = {1, 2, x = f(...)}\nfor i = 1, #t do t[i] = t[i] and not t[i] or -i end"
    stock, _ = read_chunk(lua.globals().string.dump(lua.globals().loadstring(source, b"=s")))
    ours = compile_source(source, b"=s")
    assert ours.code == stock.code
    assert (ours.constants, ours.lineinfo) == (stock.constants, stock.lineinfo)
