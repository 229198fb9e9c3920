"""The 5.3 lexer: numerals in the target's types, escapes, long brackets, and
lexical error messages. Expected values come from luac.cross 5.3 (constants
read back from its `.lc` output; messages as it printed them after its name).
"""

import pytest

from lfs_format.target import LUA53, LUA53_64
from luacross.lua53.lexer import (
    TK_DBCOLON,
    TK_EOS,
    TK_FLT,
    TK_GOTO,
    TK_IDIV,
    TK_INT,
    TK_NAME,
    TK_SHL,
    TK_SHR,
    LexState,
    LuaSyntaxError,
    chunkid,
    str2number,
)
from luacross.lua53.parser import compile_source


def tokens(source: bytes) -> list[tuple[int, object]]:
    ls = LexState(source, b"=t", LUA53)
    out = []
    while True:
        ls.next()
        out.append((ls.t, ls.seminfo))
        if ls.t == TK_EOS:
            return out


def test_53_tokens() -> None:
    kinds = [t for t, _ in tokens(b"a // b << c >> d :: goto ~x")]
    assert kinds == [
        TK_NAME, TK_IDIV, TK_NAME, TK_SHL, TK_NAME, TK_SHR, TK_NAME, TK_DBCOLON, TK_GOTO,
        ord("~"), TK_NAME, TK_EOS,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("numeral", "lua53", "lua53_64"),
    [
        # decimal integers past the range become floats; hex integers wrap
        (b"2147483647", 2147483647, 2147483647),
        (b"2147483648", 2147483648.0, 2147483648),
        (b"9223372036854775808", 9.223372036854776e18, 9.223372036854776e18),
        (b"0xffffffff", -1, 4294967295),
        (b"0x80000000", -2147483648, 2147483648),
        (b"0xffffffffffffffff", -1, -1),
        # floats: (float)strtod in the default build, so decimals are rounded twice
        (b"0.1", 0.10000000149011612, 0.1),
        (b"1e309", float("inf"), float("inf")),
        (b"3.5e38", float("inf"), 3.5e38),
        (b"1e-320", 0.0, 1e-320),
        (b"1.0000000596046447753906251", 1.0, 1.0000000596046448),
        (b"16777217.0000000001", 16777216.0, 16777217.0),
        (b"0xA.8P0", 10.5, 10.5),
        (b"0x.8p1", 1.0, 1.0),
        (b".5", 0.5, 0.5),
        (b"5.", 5.0, 5.0),
        (b"1E+2", 100.0, 100.0),
    ],
)
def test_numerals(numeral: bytes, lua53: float, lua53_64: float) -> None:
    for target, expected in ((LUA53, lua53), (LUA53_64, lua53_64)):
        value = str2number(numeral, target)
        assert type(value) is type(expected)
        assert value == expected


@pytest.mark.parametrize("numeral", [b"3..2", b"0x", b"1e", b".0x5", b"12abc", b"0x1p"])
def test_malformed_numerals(numeral: bytes) -> None:
    assert str2number(numeral, LUA53) is None


def test_escapes_and_long_strings() -> None:
    source = (
        b'return "\\x41\\u{48}\\u{7FF}\\u{FFFF}\\u{10FFFF}", "a\\z  \n\n  b", '
        b'"\\065\\0\\255", "x\\\r\ny", [==[\r\nab\r\n\rc]]==]'
    )
    proto = compile_source(source, b"@esc.lua", LUA53)
    assert proto.constants == [
        b"AH\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf", b"ab", b"A\x00\xff", b"x\ny", b"ab\n\nc]",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b'return "\\u{7FFFFFFF}"', "t.lua:1: UTF-8 value too large near '\"\\u{7FFFFF'"),
        (b'return "\\u{110000}"', "t.lua:1: UTF-8 value too large near '\"\\u{110000'"),
        (b'return "\\xZZ"', "t.lua:1: hexadecimal digit expected near '\"\\xZ'"),
        (b'return "abc\\400"', "t.lua:1: decimal escape too large near '\"abc\\400\"'"),
        (b"return 3..2", "t.lua:1: malformed number near '3..2'"),
        (b"return .0x5", "t.lua:1: malformed number near '.0x5'"),
        (b'return "a\0b" x', "t.lua:1: <eof> expected near 'x'"),
        (b"return \0", "t.lua:1: unexpected symbol"),
        (b"return [=x", "t.lua:1: invalid long string delimiter near '[='"),
        (b"--[==[ unfinished", "t.lua:1: unfinished long comment (starting at line 1) near <eof>"),
    ],
)
def test_lexical_errors(source: bytes, message: str) -> None:
    with pytest.raises(LuaSyntaxError) as info:
        compile_source(source, b"@t.lua", LUA53)
    assert str(info.value) == message


def test_chunkid() -> None:
    # luac.cross on a file named "a" * 70 + ".lua": "...aaa(52 a's).lua:1: ..."
    assert chunkid(b"@" + b"a" * 70 + b".lua") == "..." + "a" * 52 + ".lua"
    assert chunkid(b"=stdin") == "stdin"


def test_token_kinds_for_numbers() -> None:
    assert tokens(b"1 1.0") == [(TK_INT, 1), (TK_FLT, 1.0), (TK_EOS, None)]
