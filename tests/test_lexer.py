"""The lexer: tokens, lines and numbers, and lexical errors worded as stock Lua 5.1's.

NodeMCU's llex.c is stock 5.1's (LUA_COMPAT_LSTR 1, MAXSRC 80), so stock Lua
(`lupa.lua51`) is the oracle for every message here.
"""

import lupa.lua51
import pytest

import luacross.lua51.lexer
from luacross.lua51.lexer import (
    LexState,
    LuaSyntaxError,
    TokenKind,
    chunkid,
    str2number_float,
    str2number_int,
    token2str,
    tokenize,
)
from luacross.lua51.parser import compile_source

_lua = lupa.lua51.LuaRuntime(encoding=None)
_loadstring = _lua.globals().loadstring


def stock_error(source: bytes, chunkname: bytes) -> str:
    result = _loadstring(source, chunkname)
    assert isinstance(result, tuple), "stock Lua compiled it"
    return result[1].decode("utf-8", "surrogateescape")


def our_error(source: bytes, chunkname: bytes) -> str:
    with pytest.raises(LuaSyntaxError) as exc:
        compile_source(source, chunkname)
    return str(exc.value)


def kinds_values_lines(source: bytes) -> list[tuple]:
    return [(t.kind, t.value, t.line) for t in tokenize(source, b"=t")]


def test_tokens_kinds_values_and_lines():
    source = b"local x = [[\nab\r\ncd]] .. 'q\\65' -- c\n--[==[ x\n]==] y ... ~= a.b"
    assert kinds_values_lines(source) == [
        (TokenKind.LOCAL, None, 1),
        (TokenKind.NAME, b"x", 1),
        (ord("="), None, 1),
        (TokenKind.STRING, b"ab\ncd", 3),  # first newline skipped, \r\n read as one
        (TokenKind.CONCAT, None, 3),
        (TokenKind.STRING, b"qA", 3),
        (TokenKind.NAME, b"y", 5),
        (TokenKind.DOTS, None, 5),
        (TokenKind.NE, None, 5),
        (TokenKind.NAME, b"a", 5),
        (ord("."), None, 5),
        (TokenKind.NAME, b"b", 5),
        (TokenKind.EOS, None, 5),
    ]


@pytest.mark.parametrize(
    ("breaks", "lines"),
    [
        (b"\n", 2),
        (b"\r", 2),
        (b"\r\n", 2),
        (b"\n\r", 2),
        (b"\n\n", 3),
        (b"\r\r", 3),
        (b"\n\r\n", 3),
    ],  # fmt: skip
)
def test_line_breaks_count_like_inclinenumber(breaks, lines):
    assert tokenize(b"a" + breaks + b"b", b"=t")[1].line == lines


def test_string_escapes():
    (token, _) = tokenize(b'"\\a\\b\\f\\n\\r\\t\\v\\\\\\"\\\'\\065\\0x\\\n\\z"', b"=t")
    assert token.value == b"\a\b\f\n\r\t\v\\\"'A\0x\nz"
    assert token.line == 2


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"3", 3.0),
        (b"3.", 3.0),
        (b".5", 0.5),
        (b"1e3", 1000.0),
        (b"1.E-2", 0.01),
        (b"0x10", 16.0),
        (b"0x1p4", 16.0),  # glibc strtod reads hex floats (formats reference, section 4)
        (b"0xA.8", 10.5),
        (b"1e999", float("inf")),
        (b"1..2", None),
        (b"0x", None),
        (b"0x1p", None),
        (b"1e", None),
        (b"3_0", None),
        (b"1x5", None),
    ],
)
def test_float_numerals(text, value):
    assert str2number_float(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # formats reference, section 10
        (b"4294967296", 0),
        (b"99999999999", 1215752191),
        (b"9223372036854775808", -1),
        (b"0xFFFFFFFF", -1),
        (b"0x8000000000000000", 0),
        (b"0x7FFFFFFFFFFFFFFF", -1),
        (b"2147483648", -2147483648),
        (b"1.5", None),
        (b"1e3", None),
        (b"0x1p4", None),
        (b".5", None),
    ],
)
def test_int_numerals(text, value):
    assert str2number_int(text) == value


@pytest.mark.parametrize(
    "source",
    [
        b'x = "abc',
        b'x = "abc\ny"',
        b'x = "a\\300b"',
        b"x = 'a\\",
        b"x = [==[ abc ]=]",
        b"--[[ abc\n\n",
        b"x = [[ a [[ b ]]",
        b"--[[ a\n [[ b ]]",
        b"x = [==[ a [==[ b ]==]",  # nesting is only an error for level 0
        b"x = [=",
        b"x = 1..2",
        b"x = 0x1p-4",
        b"x = 3e",
        b"x = 08x",
        b"x = \x01",
        b"x = \xff",
        b"x = @",
        b"x = \0",  # token 0 prints no `near`
        b"x = 'a\\0b' y",
        b"x = [[a\0b]] y",
        b"f(\n'\\\r\nb' 1)",
        b"x = ~ 1",
        b"x =\n\n\n",
        b"local t = {a\n\n= 1 2}",
    ],
)
def test_errors_match_stock(source):
    result = _loadstring(source, b"@lex.lua")
    if isinstance(result, tuple):
        assert our_error(source, b"@lex.lua") == result[1].decode("utf-8", "surrogateescape")
    else:
        compile_source(source, b"@lex.lua")  # stock compiles it: so must we


@pytest.mark.parametrize(
    "chunkname",
    [
        b"=stdin",
        b"@short.lua",
        b"@" + b"x" * 72,
        b"@" + b"y" * 73,
        b"=" + b"z" * 100,
        b"some code\nmore",
    ],  # fmt: skip
)
def test_chunkid_matches_stock(chunkname):
    message = stock_error(b"x = = 1", chunkname)
    assert message.startswith(chunkid(chunkname) + ":1:")


def test_token2str():
    assert [token2str(k) for k in (ord("+"), 1, 127, TokenKind.EOS, TokenKind.CONCAT)] == [
        "+",
        "char(1)",
        "char(127)",
        "<eof>",
        "..",
    ]


def test_lexical_error_is_raised_only_when_reached():
    ls = LexState(tokenize(b'a b "unfinished', b"=t"), b"=t")
    ls.next()
    assert ls.t.value == b"a"
    ls.next()
    assert ls.t.value == b"b"
    with pytest.raises(LuaSyntaxError, match="unfinished string near '<eof>'"):
        ls.next()


def test_lookahead_moves_linenumber():
    ls = LexState(tokenize(b"a\n\n=", b"=t"), b"=t")
    ls.next()
    assert ls.linenumber == 1
    assert ls.lookahead().kind == ord("=")
    assert ls.linenumber == 3
    ls.next()
    assert ls.lastline == 3


def test_tk_constants_match_token_kinds():
    # the parser compares kinds with plain-int TK_* names; they must follow luaX_tokens
    for kind in TokenKind:
        value = getattr(luacross.lua51.lexer, f"TK_{kind.name}")
        assert value == kind and type(value) is int
