"""The 5.3 compiler against stock Lua 5.3 (`lupa.lua53`), function by function.

NodeMCU's 5.3 compiler is stock 5.3.6's apart from the packed line info and the
dropped local/upvalue names, and its LUA_NUMBER_64BITS build has stock's number
types; so for any source both must give the same instruction words, constants,
upvalue descriptors, proto tree and header fields, or the same syntax error.
"""

import lupa.lua53
import pytest
from hypothesis import HealthCheck, given, settings

from lfs_format.lua53.proto import Proto, constant_key
from lfs_format.target import LUA53_64
from lua53.golden53 import CORPUS53
from lua53.luagen53 import lua53_chunks, lua53_program
from lua53.stock53 import read_stock_dump
from luacross.lua53.lexer import LuaSyntaxError
from luacross.lua53.parser import compile_source

_lua = lupa.lua53.LuaRuntime(encoding=None)
_load = _lua.globals().load
_dump = _lua.globals().string.dump


def stock_compile(source: bytes) -> Proto | str:
    result = _load(source, b"=t")
    if isinstance(result, tuple):
        return result[1].decode("utf-8", "surrogateescape")
    return read_stock_dump(_dump(result))


def our_compile(source: bytes) -> Proto | str:
    try:
        return compile_source(source, b"=t", LUA53_64)
    except LuaSyntaxError as error:
        return str(error)


def assert_same(ours: Proto, stock: Proto, where: str = "main") -> None:
    assert ours.header()[1:] == stock.header()[1:], where
    assert ours.code == stock.code, where
    assert [constant_key(k) for k in ours.constants] == [constant_key(k) for k in stock.constants]
    assert [(u.instack, u.idx) for u in ours.upvalues] == [
        (u.instack, u.idx) for u in stock.upvalues
    ]
    assert len(ours.protos) == len(stock.protos), where
    for i, (a, b) in enumerate(zip(ours.protos, stock.protos, strict=True)):
        assert_same(a, b, f"{where}.{i}")


def check(source: bytes) -> None:
    ours, stock = our_compile(source), stock_compile(source)
    if isinstance(stock, str) or isinstance(ours, str):
        assert ours == stock
    else:
        assert_same(ours, stock)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 165, 24, 1001, 2002])
def test_generated_examples(seed: int) -> None:
    check(lua53_program(seed))


@given(lua53_chunks())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_chunks(source: bytes) -> None:
    check(source)


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in [*(CORPUS53 / "syntax").glob("*.lua"), *(CORPUS53 / "errors").glob("*.lua")]
        if p.name != "constants_loadkx.lua"
    ),
    ids=lambda p: p.name,
)
def test_corpus(path) -> None:  # type: ignore[no-untyped-def]
    check(path.read_bytes())
