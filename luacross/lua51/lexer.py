"""Lua 5.1 lexical analyser, as NodeMCU's `llex.c`.

`tokenize` scans a whole chunk up front into a list of `Token`s; `LexState`
hands them to the parser one at a time (`next`, `lookahead`) and keeps the
two line counters the parser and code generator read (`linenumber`,
`lastline`). A lexical error does not stop the scan from returning: it
becomes a final `ERROR` token, raised only when the parser reaches it, so
errors are reported in the same order as by the one-token-ahead C lexer.
"""

import re
from enum import IntEnum
from typing import TYPE_CHECKING, Final, cast

from lfs_format.errors import LuacrossError
from luacross.byte_classes import byte_table

if TYPE_CHECKING:
    from luacross.lua51.codegen import FuncState

MAXSRC: Final = 80  # llex.c: buffer for the chunk id in error messages
FIRST_RESERVED: Final = 257


class TokenKind(IntEnum):
    """Multi-character tokens, in `luaX_tokens` order (single characters are their byte)."""

    AND = FIRST_RESERVED
    BREAK = 258
    DO = 259
    ELSE = 260
    ELSEIF = 261
    END = 262
    FALSE = 263
    FOR = 264
    FUNCTION = 265
    IF = 266
    IN = 267
    LOCAL = 268
    NIL = 269
    NOT = 270
    OR = 271
    REPEAT = 272
    RETURN = 273
    THEN = 274
    TRUE = 275
    UNTIL = 276
    WHILE = 277
    CONCAT = 278
    DOTS = 279
    EQ = 280
    GE = 281
    LE = 282
    NE = 283
    NUMBER = 284
    NAME = 285
    STRING = 286
    EOS = 287
    ERROR = 288  # not Lua's: a deferred lexical error (value is the LuaSyntaxError)


# llex.h's TK_* names as plain ints for the parser's hot paths (an IntEnum member
# lookup costs ~60 ns in Python 3.11, a module global ~5 ns); Final literals, which
# mypyc compiles to constants (tests/test_types.py checks them against TokenKind)
TK_AND: Final = 257
TK_BREAK: Final = 258
TK_DO: Final = 259
TK_ELSE: Final = 260
TK_ELSEIF: Final = 261
TK_END: Final = 262
TK_FALSE: Final = 263
TK_FOR: Final = 264
TK_FUNCTION: Final = 265
TK_IF: Final = 266
TK_IN: Final = 267
TK_LOCAL: Final = 268
TK_NIL: Final = 269
TK_NOT: Final = 270
TK_OR: Final = 271
TK_REPEAT: Final = 272
TK_RETURN: Final = 273
TK_THEN: Final = 274
TK_TRUE: Final = 275
TK_UNTIL: Final = 276
TK_WHILE: Final = 277
TK_CONCAT: Final = 278
TK_DOTS: Final = 279
TK_EQ: Final = 280
TK_GE: Final = 281
TK_LE: Final = 282
TK_NE: Final = 283
TK_NUMBER: Final = 284
TK_NAME: Final = 285
TK_STRING: Final = 286
TK_EOS: Final = 287
TK_ERROR: Final = 288


TOKEN_TEXT = (
    "and", "break", "do", "else", "elseif",
    "end", "false", "for", "function", "if",
    "in", "local", "nil", "not", "or", "repeat",
    "return", "then", "true", "until", "while",
    "..", "...", "==", ">=", "<=", "~=",
    "<number>", "<name>", "<string>", "<eof>",
)  # fmt: skip
RESERVED = {
    TOKEN_TEXT[i].encode(): FIRST_RESERVED + i for i in range(TK_WHILE - FIRST_RESERVED + 1)
}


class LuaSyntaxError(LuacrossError):
    """A compile error, worded exactly like luac: `chunkid:line: message[ near 'tok']`."""

    def __init__(self, chunkid: str, line: int, message: str, near: str | None = None):
        super().__init__(chunkid, line, message, near)
        self.chunkid = chunkid
        self.line = line
        self.message = message
        self.near = near

    def __str__(self) -> str:
        text = f"{self.chunkid}:{self.line}: {self.message}"
        return text if self.near is None else f"{text} near '{self.near}'"


TokenValue = bytes | float | int | LuaSyntaxError | None


class Token:
    """One token. `value` is bytes (NAME, STRING), a number (NUMBER), the
    deferred LuaSyntaxError (ERROR) or None.

    `line` is the lexer's line counter right after the token was read (a long
    string's last line). `raw` keeps what luac's error messages quote: a
    NUMBER's source text, or a STRING's opening delimiter.
    """

    __slots__ = ("kind", "value", "line", "raw")

    def __init__(self, kind: int, value: TokenValue, line: int, raw: bytes = b"") -> None:
        self.kind = kind
        self.value = value
        self.line = line
        self.raw = raw

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.value!r}, {self.line!r}, {self.raw!r})"


def chunkid(source: bytes, bufflen: int = MAXSRC) -> str:
    """luaO_chunkid: how an error names its chunk."""
    if source.startswith(b"="):
        out = source[1:bufflen]
    elif source.startswith(b"@"):
        name = source[1:]
        room = bufflen - len(b" '...' ") - 1
        out = b"..." + name[len(name) - room :] if len(name) > room else name
    else:
        room = bufflen - len(b' [string "..."] ') - 1
        first = re.split(rb"[\r\n]", source, maxsplit=1)[0]
        cut = first[:room]
        out = b'[string "' + cut + (b'..."]' if len(cut) < len(source) else b'"]')
    return decode(out.split(b"\0")[0])


def decode(text: bytes) -> str:
    """Message text from Lua bytes; non-UTF-8 bytes survive as surrogates."""
    return text.decode("utf-8", "surrogateescape")


def token2str(kind: int) -> str:
    """luaX_token2str: a token kind as messages print it."""
    if kind < FIRST_RESERVED:
        return f"char({kind})" if kind < 32 or kind == 127 else decode(bytes((kind,)))
    return TOKEN_TEXT[kind - FIRST_RESERVED]


def token_text(token: Token) -> str:
    """txtToken: what `near '...'` shows for the current token."""
    kind = token.kind
    if kind == TK_NAME:
        text = cast(bytes, token.value)
    elif kind == TK_NUMBER:
        text = token.raw
    elif kind == TK_STRING:
        opening = token.raw
        closing = opening.replace(b"[", b"]")
        text = opening + cast(bytes, token.value) + closing
    else:
        return token2str(kind)
    return decode(text.split(b"\0")[0])


# --- numbers (luaO_str2d) ---------------------------------------------------

_DECIMAL = re.compile(rb"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEXFLOAT = re.compile(rb"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_DIGITS = re.compile(rb"[0-9]+")
_HEXINT = re.compile(rb"0[xX]([0-9a-fA-F]+)")
_LONG_MAX = 2**63 - 1
_ULONG_MAX = 2**64 - 1


def str2number_float(text: bytes) -> float | None:
    """strtod over the whole numeral (glibc: hex floats too), else None.

    The strtoul fallback for a numeral stopping at 'x' can never consume the
    rest of a numeral the lexer reads, so it is not needed here.
    """
    if _DECIMAL.fullmatch(text):
        return float(text)
    if _HEXFLOAT.fullmatch(text):
        try:
            return float.fromhex(text.decode())
        except OverflowError:
            return float("inf")  # strtod returns HUGE_VAL, Lua ignores ERANGE
    return None


def str2number_int(text: bytes) -> int | None:
    """strtol (or strtoul for hex) into 64 bits, saturating, then the low 32 bits."""
    if _DIGITS.fullmatch(text):
        value = min(int(text), _LONG_MAX)
    elif m := _HEXINT.fullmatch(text):
        value = min(int(m.group(1), 16), _ULONG_MAX)
    else:
        return None
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


# --- scanner -----------------------------------------------------------------

# What each byte can start (`_CLASS`, indexed by the byte): the scanner is one
# loop over the source that dispatches on that class, the same in both builds
# (mypyc compiles the indexing and table look-ups to plain C).
_OTHER: Final = 0  # a one-byte token
_BLANK: Final = 1  # ' ', '\t', '\v', '\f'
_LINE: Final = 2  # '\n', '\r' (inclinenumber)
_ALPHA: Final = 3  # a name or reserved word: [A-Za-z_]
_DIGIT: Final = 4  # a numeral
_DOT: Final = 5  # '.', '..', '...' or a numeral
_MINUS: Final = 6  # '-' or a comment
_QUOTE: Final = 7  # a short string
_BRACKET: Final = 8  # '[' or a long string
_COMPARE_START: Final = 9  # '=', '<', '>', '~': maybe followed by '='


_LOWER: Final = b"abcdefghijklmnopqrstuvwxyz"
_UPPER: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CLASS: Final = byte_table(
    (b" \t\v\f", _BLANK),
    (b"\n\r", _LINE),
    (_LOWER + _UPPER + b"_", _ALPHA),
    (b"0123456789", _DIGIT),
    (b".", _DOT),
    (b"-", _MINUS),
    (b"\"'", _QUOTE),
    (b"[", _BRACKET),
    (b"=<>~", _COMPARE_START),
)
_IS_ALNUM: Final = byte_table((_LOWER + _UPPER + b"_0123456789", 1))  # isalnum or '_'
# llex.c's check_next tests `strchr(set, current)`, which also matches a NUL byte:
# so after a numeral's digits a NUL counts as the exponent mark or its sign, and
# after a '.' as another '.'; a numeral's text then ends at its first NUL (C string).
_IS_DIGIT_OR_DOT: Final = byte_table((b"0123456789.", 1))
_IS_EXPONENT: Final = byte_table((b"Ee\0", 1))
_IS_SIGN: Final = byte_table((b"+-\0", 1))
_IS_DOT: Final = byte_table((b".\0", 1))
_TO_EOL = re.compile(rb"[^\r\n]*")
_NEWLINES = re.compile(rb"\n\r?|\r\n?")
_ESCAPES = {ord(c): code for c, code in zip("abfnrtv", b"\a\b\f\n\r\t\v", strict=True)}
_STRING_RUN = {ord('"'): re.compile(rb'[^"\\\n\r]+'), ord("'"): re.compile(rb"[^'\\\n\r]+")}
_COMPARE = {61: TK_EQ, 60: TK_LE, 62: TK_GE, 126: TK_NE}  # the byte before '='
_QUOTES = {34: b'"', 39: b"'"}


class _LexError(Exception):
    """Raised inside the scanner; turned into a final ERROR token."""

    def __init__(self, line: int, message: str, near: str | None):
        self.line, self.message, self.near = line, message, near


def tokenize(source: bytes, chunkname: bytes, integral: bool = False) -> list[Token]:
    """Scan `source` into tokens ending with EOS (or ERROR at a lexical error)."""
    tokens: list[Token] = []
    append = tokens.append
    line = 1
    pos = 0
    end = len(source)
    try:
        while pos < end:
            c = source[pos]
            kind = _CLASS[c]
            if kind == _BLANK:
                pos += 1
            elif kind == _ALPHA:
                start = pos
                pos += 1
                while pos < end and _IS_ALNUM[source[pos]]:
                    pos += 1
                text = source[start:pos]
                reserved = RESERVED.get(text)
                if reserved is None:
                    append(Token(TK_NAME, text, line))
                else:
                    append(Token(reserved, None, line))
            elif kind == _LINE:
                pos += 1
                if pos < end:
                    d = source[pos]
                    if d != c and (d == 10 or d == 13):
                        pos += 1
                line += 1
            elif kind == _OTHER:
                append(Token(c, None, line))
                pos += 1
            elif kind == _COMPARE_START:
                if pos + 1 < end and source[pos + 1] == 61:  # '='
                    append(Token(_COMPARE[c], None, line))
                    pos += 2
                else:
                    append(Token(c, None, line))
                    pos += 1
            elif kind == _QUOTE:
                pos, line, body = _read_string(source, pos + 1, line, c)
                append(Token(TK_STRING, body, line, _QUOTES[c]))
            elif kind == _DIGIT or (kind == _DOT and pos + 1 < end and 48 <= source[pos + 1] <= 57):
                stop = _numeral_end(source, pos)
                text = source[pos:stop]
                nul = text.find(b"\0")
                if nul >= 0:
                    text = text[:nul]
                number = str2number_int(text) if integral else str2number_float(text)
                if number is None:
                    raise _LexError(line, "malformed number", decode(text))
                append(Token(TK_NUMBER, number, line, text))
                pos = stop
            elif kind == _DOT:
                if pos + 1 < end and _IS_DOT[source[pos + 1]]:
                    if pos + 2 < end and _IS_DOT[source[pos + 2]]:
                        append(Token(TK_DOTS, None, line))
                        pos += 3
                    else:
                        append(Token(TK_CONCAT, None, line))
                        pos += 2
                else:
                    append(Token(46, None, line))
                    pos += 1
            elif kind == _MINUS:
                if pos + 1 < end and source[pos + 1] == 45:  # '--': a comment
                    pos += 2
                    sep, after = _skip_sep(source, pos)
                    if sep >= 0:
                        pos, line, _ = _read_long_string(source, after, line, sep, False)
                    else:
                        m = _TO_EOL.match(source, pos)
                        assert m is not None  # it matches the empty string
                        pos = m.end()
                else:
                    append(Token(45, None, line))
                    pos += 1
            else:  # _BRACKET
                sep, after = _skip_sep(source, pos)
                if sep >= 0:
                    raw = source[pos:after]
                    pos, line, body = _read_long_string(source, after, line, sep, True)
                    append(Token(TK_STRING, body, line, raw))
                elif after == pos + 1:
                    append(Token(91, None, line))
                    pos = after
                else:
                    near = decode(source[pos:after])
                    raise _LexError(line, "invalid long string delimiter", near)
        append(Token(TK_EOS, None, line))
    except _LexError as e:
        error = LuaSyntaxError(chunkid(chunkname), e.line, e.message, e.near)
        append(Token(TK_ERROR, error, e.line))
    return tokens


def _skip_sep(source: bytes, pos: int) -> tuple[int, int]:
    """skip_sep where `source[pos]` may be a '[': (the number of '=' between two
    '[', else -1; where the opening bracket ends, or the '='s if it does not)."""
    end = len(source)
    if pos >= end or source[pos] != 91:
        return -1, pos
    p = pos + 1
    while p < end and source[p] == 61:
        p += 1
    if p < end and source[p] == 91:
        return p - pos - 1, p + 1
    return -1, p


def _numeral_end(source: bytes, pos: int) -> int:
    """read_numeral from its first digit (or the '.' before it): where it ends."""
    end = len(source)
    pos += 1
    while pos < end and _IS_DIGIT_OR_DOT[source[pos]]:
        pos += 1
    if pos < end and _IS_EXPONENT[source[pos]]:
        pos += 1
        if pos < end and _IS_SIGN[source[pos]]:
            pos += 1
    while pos < end and _IS_ALNUM[source[pos]]:
        pos += 1
    return pos


def _match_end(pattern: "re.Pattern[bytes]", source: bytes, pos: int, end: int = -1) -> int:
    """Where `pattern` stops from `pos` (it matches there: the caller has checked)."""
    m = pattern.match(source, pos) if end < 0 else pattern.match(source, pos, end)
    assert m is not None
    return m.end()


def _read_long_string(
    source: bytes, pos: int, line: int, sep: int, is_string: bool
) -> tuple[int, int, bytes]:
    """read_long_string from just after the opening bracket: (pos, line, value)."""
    closing = b"]" + b"=" * sep + b"]"
    m = _NEWLINES.match(source, pos)
    if m:  # a first line break is skipped
        pos = m.end()
        line += 1
    stop = source.find(closing, pos)
    if sep == 0:  # LUA_COMPAT_LSTR 1: a nested [[ is an error
        nested = source.find(b"[[", pos, len(source) if stop < 0 else stop + 1)
        if nested >= 0 and (stop < 0 or nested < stop):
            line += len(_NEWLINES.findall(source, pos, nested))
            raise _LexError(line, "nesting of [[...]] is deprecated", "[")
    if stop < 0:
        line += len(_NEWLINES.findall(source, pos))
        what = "unfinished long string" if is_string else "unfinished long comment"
        raise _LexError(line, what, "<eof>")
    body = source[pos:stop]
    breaks = _NEWLINES.findall(body)
    if breaks:
        line += len(breaks)
        body = _NEWLINES.sub(b"\n", body)
    return stop + len(closing), line, body


def _read_string(source: bytes, pos: int, line: int, delim: int) -> tuple[int, int, bytes]:
    """read_string from just after the opening quote: (pos, line, value)."""
    buf = bytearray()
    run = _STRING_RUN[delim].match
    end = len(source)
    quote = bytes((delim,))
    while True:
        m = run(source, pos)
        if m:
            buf += m.group()
            pos = m.end()
        if pos >= end:
            raise _LexError(line, "unfinished string", "<eof>")
        c = source[pos]
        if c == delim:
            return pos + 1, line, bytes(buf)
        if c == 10 or c == 13:
            raise _LexError(line, "unfinished string", decode((quote + buf).split(b"\0")[0]))
        # backslash escape
        pos += 1
        if pos >= end:
            continue  # unfinished string at the next round
        c = source[pos]
        if c in _ESCAPES:
            buf.append(_ESCAPES[c])
            pos += 1
        elif c == 10 or c == 13:
            buf.append(10)
            pos = _match_end(_NEWLINES, source, pos)
            line += 1
        elif 48 <= c <= 57:
            digits = source[pos : _match_end(_DIGITS, source, pos, pos + 3)]
            pos += len(digits)
            value = int(digits)
            if value > 255:
                near = decode((quote + buf).split(b"\0")[0])
                raise _LexError(line, "escape sequence too large", near)
            buf.append(value)
        else:
            buf.append(c)
            pos += 1


_NO_TOKEN = Token(TK_EOS, None, 0)  # LexState.t before the first `next`


class LexState:
    """The parser's view of the token stream (LexState in llex.h).

    `t` is the current token and `ahead` the look-ahead one (or None).
    `linenumber` is the line of the last token read, look-ahead included;
    `lastline` is the line of the last token consumed (luaK_code's line).
    """

    __slots__ = (
        "tokens", "chunkname", "pos", "t", "ahead", "linenumber", "lastline", "fs", "nccalls",
    )  # fmt: skip

    fs: "FuncState"  # the parser's current FuncState (set by open_func)

    def __init__(self, tokens: list[Token], chunkname: bytes) -> None:
        self.tokens = tokens
        self.chunkname = chunkname
        self.pos = 0
        self.t = _NO_TOKEN
        self.ahead: Token | None = None
        self.linenumber = 1
        self.lastline = 1
        self.nccalls = 1  # L->nCcalls: luac parses from inside one C call

    def next(self) -> None:
        """luaX_next: consume the current token."""
        self.lastline = self.linenumber
        if self.ahead is not None:
            self.t = self.ahead
            self.ahead = None
            return
        token = self.tokens[self.pos]  # _read, inlined: this runs once per token
        if token.kind >= TK_EOS:
            token = self._read()
        else:
            self.pos += 1
            self.linenumber = token.line
        self.t = token

    def lookahead(self) -> Token:
        """luaX_lookahead: read one more token without consuming the current one."""
        self.ahead = self._read()
        return self.ahead

    def _read(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind >= TK_EOS:
            if token.kind == TK_ERROR:
                error = token.value
                assert isinstance(error, LuaSyntaxError)
                raise error
        else:
            self.pos += 1
        self.linenumber = token.line
        return token

    def error(self, message: str, near: Token | None = None) -> LuaSyntaxError:
        """luaX_lexerror: an error at the current line, quoting `near` if given.

        A NUL byte is token 0, which luaX_lexerror takes for "no token".
        """
        text = None if near is None or near.kind == 0 else token_text(near)
        return LuaSyntaxError(chunkid(self.chunkname), self.linenumber, message, text)

    def syntaxerror(self, message: str) -> LuaSyntaxError:
        """luaX_syntaxerror: an error near the current token."""
        return self.error(message, self.t)
