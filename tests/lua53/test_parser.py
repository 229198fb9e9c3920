"""Limits of the 5.3 parser that need large generated sources. The messages are
luac.cross 5.3's for the same sources (default build; LUA_NUMBER_64BITS agrees)."""

import pytest

from lfs_format.target import LUA53, LUA53_64
from luacross.lua53.lexer import LuaSyntaxError
from luacross.lua53.parser import compile_source

LIMIT_CASES = {
    # registerlocalvar: 32767 locals ever declared in one function (a runtime
    # error raised from C: no position)
    "locvars": (b"do local a end\n" * 32768, "too many local variables (limit is 32767)"),
    "gotos": (
        b"do " + b"goto x " * 32768 + b" end ::x::",
        "too many labels/gotos (limit is 32767)",
    ),
    # labelstat -> skipnoopstat -> statement -> labelstat ... nests C levels
    "labels": (
        b"do " + b" ".join(b"::l%d::" % i for i in range(32768)) + b" end",
        "labels.lua:1: too many C levels (limit is 200) in main function near '::'",
    ),
}


@pytest.mark.parametrize("name", list(LIMIT_CASES))
@pytest.mark.parametrize("target", [LUA53, LUA53_64], ids=["lua53", "lua53-64"])
def test_limits(name: str, target: object) -> None:
    source, message = LIMIT_CASES[name]
    with pytest.raises(LuaSyntaxError) as info:
        compile_source(source, f"@{name}.lua".encode(), target)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_locals_up_to_the_limit() -> None:
    proto = compile_source(b"do local a end\n" * 32767, b"@locvars.lua", LUA53)
    assert proto.locvars == []


@pytest.mark.parametrize(
    ("inner", "near"),
    [(b"a", "''"), (b"a.b", "'.'"), (b'a "s"', "'\"s\"'")],
)
def test_error_near_a_name_quotes_the_lookahead_text(inner: bytes, near: str) -> None:
    # In a table constructor the lexer has already read the token after a name
    # (luaX_lookahead) when the 199th C level fails, and txtToken quotes llex's
    # buffer, which holds that token's text (luac.cross output, 198 braces).
    source = b"x = " + b"{" * 198 + inner + b"}" * 198
    with pytest.raises(LuaSyntaxError) as info:
        compile_source(source, b"@t.lua", LUA53)
    assert (
        str(info.value) == f"t.lua:1: too many C levels (limit is 200) in main function near {near}"
    )


def test_jump_too_long() -> None:
    source = b"local a\nwhile a do\n" + b"a = 1\n" * 131070 + b"end\n"
    with pytest.raises(LuaSyntaxError) as info:
        compile_source(source, b"@big_jump.lua", LUA53)
    assert str(info.value) == "big_jump.lua:131073: control structure too long near 'end'"
