"""Lua 5.3 lexical analyser, as NodeMCU's app/lua53 `llex.c`.

`LexState` scans on demand, one token ahead at most, as the C lexer does, so
lexical errors surface exactly when the parser asks for the faulty token.
The current token is `t` (kind) with `seminfo` (bytes for names and strings,
int for TK_INT, float for TK_FLT); `buff` mirrors llex's buffer, which error
messages quote (`near '...'`).

Numerals follow `lobject.c` `luaO_str2num` in the target's types: integers
(decimal ones that overflow become floats, hex ones wrap) in `int_size`
bytes, floats read with `strtod` and, in the default build, cast to a C float
(luaconf.h redefines `lua_str2number` as `(lua_Number)strtod(s, p)`).
"""

import math
import re
import struct
from typing import Final

from lfs_format.errors import LuacrossError
from lfs_format.target import Lua53Target
from luacross.byte_classes import byte_table

FIRST_RESERVED = 257
LUA_IDSIZE = 60  # luaconf.h: size of a chunk id in messages

# llex.h RESERVED, in luaX_tokens order
(
    TK_AND, TK_BREAK, TK_DO, TK_ELSE, TK_ELSEIF, TK_END, TK_FALSE, TK_FOR, TK_FUNCTION,
    TK_GOTO, TK_IF, TK_IN, TK_LOCAL, TK_NIL, TK_NOT, TK_OR, TK_REPEAT, TK_RETURN, TK_THEN,
    TK_TRUE, TK_UNTIL, TK_WHILE, TK_IDIV, TK_CONCAT, TK_DOTS, TK_EQ, TK_GE, TK_LE, TK_NE,
    TK_SHL, TK_SHR, TK_DBCOLON, TK_EOS, TK_FLT, TK_INT, TK_NAME, TK_STRING,
) = range(FIRST_RESERVED, FIRST_RESERVED + 37)  # fmt: skip

TOKENS = (
    "and", "break", "do", "else", "elseif",
    "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat",
    "return", "then", "true", "until", "while",
    "//", "..", "...", "==", ">=", "<=", "~=",
    "<<", ">>", "::", "<eof>",
    "<number>", "<integer>", "<name>", "<string>",
)  # fmt: skip
RESERVED = {TOKENS[i].encode(): FIRST_RESERVED + i for i in range(TK_WHILE - FIRST_RESERVED + 1)}

SemInfo = bytes | int | float | None


class LuaSyntaxError(LuacrossError):
    """A 5.3 compile error; `str()` is luac.cross's message without the program name.

    `message` already holds `chunkid:line: text[ near TOKEN]` (the token text
    carries its own quotes, `<eof>` has none). Like the C tool's `fprintf("%s")`,
    the printed message ends at its first NUL byte.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message.split("\0", 1)[0]


def decode(text: bytes) -> str:
    """Message text from Lua bytes; non-UTF-8 bytes survive as surrogates."""
    return text.decode("utf-8", "surrogateescape")


def chunkid(source: bytes, bufflen: int = LUA_IDSIZE) -> str:
    """lobject.c luaO_chunkid: how messages name a chunk."""
    source = source.split(b"\0", 1)[0]
    size = len(source)
    if source.startswith(b"="):
        out = source[1:] if size <= bufflen else source[1:bufflen]
    elif source.startswith(b"@"):
        if size <= bufflen:
            out = source[1:]
        else:
            keep = bufflen - 3 - 1  # "..." and the terminator
            out = b"..." + source[size - keep :]
    else:
        newline = source.find(b"\n")
        room = bufflen - len(b'[string "..."]') - 1
        if size < room and newline < 0:
            out = b'[string "' + source + b'"]'
        else:
            cut = newline if newline >= 0 else size
            out = b'[string "' + source[: min(cut, room)] + b'..."]'
    return decode(out)


def token2str(token: int) -> str:
    """luaX_token2str: a token kind as messages print it."""
    if token < FIRST_RESERVED:
        # luaO_pushfstring's %c: non-printable bytes as their code
        return f"'{chr(token)}'" if 32 <= token < 127 else f"'<\\{token}>'"
    text = TOKENS[token - FIRST_RESERVED]
    return f"'{text}'" if token < TK_EOS else text


# --- numerals (lobject.c luaO_str2num) ----------------------------------------

_DEC_INT = re.compile(rb"[0-9]+")
_HEX_INT = re.compile(rb"0[xX]([0-9a-fA-F]+)")
_DEC_FLOAT = re.compile(rb"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT = re.compile(rb"0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?")
_PACK_F = struct.Struct("<f")


def to_float32(x: float) -> float:
    """(float)x: round a double to the nearest C float (ties to even)."""
    try:
        return _PACK_F.unpack(_PACK_F.pack(x))[0]  # type: ignore[no-any-return]
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _strtod(text: bytes) -> float | None:
    """glibc strtod over the whole numeral (decimal or hex), else None."""
    if _DEC_FLOAT.fullmatch(text):
        return float(text)
    m = _HEX_FLOAT.fullmatch(text)
    if m and (m.group(1) or m.group(2)):
        try:
            return float.fromhex(text.decode())
        except OverflowError:
            return math.inf  # HUGE_VAL; Lua ignores ERANGE
    return None


def str2number(text: bytes, target: Lua53Target) -> int | float | None:
    """luaO_str2num over a whole numeral: an int, a float, or None if malformed."""
    bits = 8 * target.int_size
    if _DEC_INT.fullmatch(text):
        value = int(text)
        if value < 1 << (bits - 1):
            return value
    elif m := _HEX_INT.fullmatch(text):
        value = int(m.group(1), 16) & ((1 << bits) - 1)
        return value - (1 << bits) if value >> (bits - 1) else value
    number = _strtod(text)
    if number is not None and target.float_size == 4:
        # luaconf.h: NodeMCU reads numerals with `(lua_Number)strtod(s, p)`,
        # so the float is the double rounded again (not strtof's direct rounding)
        return to_float32(number)
    return number


# --- scanner ------------------------------------------------------------------

# What each byte can start (`_CLASS`, indexed by the byte): llex dispatches on
# it first, one loop over the source in both builds (mypyc compiles the indexing
# and the table look-ups to plain C); the rarer cases go through llex's switch.
_SWITCH: Final = 0  # llex's switch: '=', '<', '>', '/', '~', ':', '.', '-', '[', others
_ONE: Final = 1  # a one-byte token that never starts a longer one
_BLANK: Final = 2  # ' ', '\t', '\v', '\f'
_LINE: Final = 3  # '\n', '\r' (inclinenumber)
_ALPHA: Final = 4  # a name or reserved word: [A-Za-z_]
_DIGIT: Final = 5  # a numeral
_QUOTE: Final = 6  # a short string


_LETTERS: Final = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_CLASS: Final = byte_table(
    (b"+*%^#&|(){}];,", _ONE),
    (b" \t\v\f", _BLANK),
    (b"\n\r", _LINE),
    (_LETTERS, _ALPHA),
    (b"0123456789", _DIGIT),
    (b"\"'", _QUOTE),
)
_IS_ALNUM: Final = byte_table((_LETTERS + b"0123456789", 1))  # isalnum or '_'
_IS_DIGIT: Final = byte_table((b"0123456789", 1))
_GOES_ON: Final = byte_table((_LETTERS + b"0123456789.", 1))  # more of a numeral
_DEC_NUMERAL = re.compile(rb"\.?[0-9](?:[eE][+-]?|[0-9a-fA-F.])*")
_HEX_NUMERAL = re.compile(rb"0[xX](?:[pP][+-]?|[0-9a-fA-F.])*")
_TO_EOL = re.compile(rb"[^\r\n]*")
_STRING_RUN = {ord('"'): re.compile(rb'[^"\\\n\r]+'), ord("'"): re.compile(rb"[^'\\\n\r]+")}
_LONG_RUN = re.compile(rb"[^\]\r\n]+")
_ZAP = re.compile(rb"[ \t\n\v\f\r]*")
_ESCAPES = {ord(c): code for c, code in zip("abfnrtv", b"\a\b\f\n\r\t\v", strict=True)}
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_NEWLINE = (10, 13)
EOZ = -1


class LexState:
    """The lexer and the token stream the parser reads (LexState in llex.h).

    `t`/`seminfo` are the current token, `ahead`/`ahead_seminfo` the look-ahead
    one (`ahead` is TK_EOS + 100 when there is none). `linenumber` is the line
    of the last character read; `lastline` the line of the last token consumed.
    """

    __slots__ = (
        "source", "pos", "chunkname", "target", "linenumber", "lastline", "t", "seminfo",
        "ahead", "ahead_seminfo", "buff", "fs", "nccalls", "envn", "maxint",
    )  # fmt: skip

    NO_AHEAD: Final = -2

    def __init__(self, source: bytes, chunkname: bytes, target: Lua53Target) -> None:
        self.source = source
        self.pos = 0
        self.chunkname = chunkname
        self.target = target
        self.linenumber = 1
        self.lastline = 1
        self.t = 0
        self.seminfo: SemInfo = None
        self.ahead = LexState.NO_AHEAD
        self.ahead_seminfo: SemInfo = None
        self.buff = b""  # what llex last saved (the text error messages quote)
        self.fs: object = None  # the parser's current FuncState
        self.nccalls = 0
        self.envn = b"_ENV"
        self.maxint = (1 << (8 * target.int_size - 1)) - 1

    # --- errors ---

    def error(self, msg: str, token: int) -> LuaSyntaxError:
        """lexerror: `chunkid:line: msg near TOKEN` (no `near` for token 0)."""
        text = f"{chunkid(self.chunkname)}:{self.linenumber}: {msg}"
        if token:
            text += " near " + self.txt_token(token)
        return LuaSyntaxError(text)

    def txt_token(self, token: int) -> str:
        if token in (TK_NAME, TK_STRING, TK_FLT, TK_INT):
            return "'" + decode(self.buff.split(b"\0", 1)[0]) + "'"
        return token2str(token)

    def syntaxerror(self, msg: str) -> LuaSyntaxError:
        """luaX_syntaxerror: an error near the current token."""
        return self.error(msg, self.t)

    # --- token stream ---

    def next(self) -> None:
        """luaX_next."""
        self.lastline = self.linenumber
        if self.ahead != LexState.NO_AHEAD:
            self.t = self.ahead
            self.seminfo = self.ahead_seminfo
            self.ahead = LexState.NO_AHEAD
        else:
            self.t, self.seminfo = self.llex()

    def lookahead(self) -> int:
        """luaX_lookahead."""
        self.ahead, self.ahead_seminfo = self.llex()
        return self.ahead

    # --- scanner ---

    def _inclinenumber(self, pos: int) -> int:
        """Skip the line break at `pos` ('\\n', '\\r', '\\n\\r' or '\\r\\n'); count it."""
        src = self.source
        old = src[pos]
        pos += 1
        if pos < len(src) and src[pos] in _NEWLINE and src[pos] != old:
            pos += 1
        self.linenumber += 1
        return pos

    def llex(self) -> tuple[int, SemInfo]:
        src = self.source
        end = len(src)
        pos = self.pos
        while True:
            if pos >= end:
                self.pos = pos
                self.buff = b""
                return TK_EOS, None
            c = src[pos]
            kind = _CLASS[c]
            if kind == _ALPHA:
                start = pos
                pos += 1
                while pos < end and _IS_ALNUM[src[pos]]:
                    pos += 1
                name = src[start:pos]
                self.pos = pos
                self.buff = name
                reserved = RESERVED.get(name)
                if reserved is not None:
                    return reserved, None
                return TK_NAME, name
            if kind == _BLANK:
                pos += 1
            elif kind == _LINE:
                pos = self._inclinenumber(pos)
            elif kind == _ONE:
                self.pos = pos + 1
                self.buff = b""
                return c, None
            elif kind == _QUOTE:
                m = _STRING_RUN[c].match(src, pos + 1)
                stop = m.end() if m else pos + 1
                if stop < end and src[stop] == c:  # no escape, no line break
                    self.pos = stop + 1
                    text = src[pos : stop + 1]
                    self.buff = text
                    return TK_STRING, text[1:-1]
                return TK_STRING, self._read_string(pos, c)
            elif kind == _DIGIT:
                stop = pos + 1
                while stop < end and _IS_DIGIT[src[stop]]:
                    stop += 1
                if stop >= end or not _GOES_ON[src[stop]]:  # a decimal integer
                    text = src[pos:stop]
                    value = int(text)
                    if value <= self.maxint:
                        self.pos = stop
                        self.buff = text
                        return TK_INT, value
                return self._read_numeral(pos)
            elif c == 45:  # '-'
                if pos + 1 >= end or src[pos + 1] != 45:
                    self.pos = pos + 1
                    self.buff = b""
                    return 45, None
                pos += 2
                if pos < end and src[pos] == 91:  # '['
                    sep, after = self._skip_sep(pos)
                    if sep >= 2:
                        pos = self._read_long_string(after, sep, False)[0]
                        continue
                    pos = after
                pos = _TO_EOL.match(src, pos).end()  # type: ignore[union-attr]
            elif c == 91:  # '['
                sep, after = self._skip_sep(pos)
                if sep >= 2:
                    self.pos, string = self._read_long_string(after, sep, True)
                    return TK_STRING, string
                if sep == 0:
                    self.buff = src[pos:after]
                    self.pos = after
                    raise self.error("invalid long string delimiter", TK_STRING)
                self.pos = pos + 1
                self.buff = b"["
                return 91, None
            elif c == 46 and pos + 1 < end and _IS_DIGIT[src[pos + 1]]:
                return self._read_numeral(pos)
            elif c == 34 or c == 39:
                return TK_STRING, self._read_string(pos, c)
            else:
                nxt = src[pos + 1] if pos + 1 < end else EOZ
                self.buff = b""
                kind = c
                width = 1
                if c == 61:  # '='
                    if nxt == 61:
                        kind, width = TK_EQ, 2
                elif c == 60:  # '<'
                    if nxt == 61:
                        kind, width = TK_LE, 2
                    elif nxt == 60:
                        kind, width = TK_SHL, 2
                elif c == 62:  # '>'
                    if nxt == 61:
                        kind, width = TK_GE, 2
                    elif nxt == 62:
                        kind, width = TK_SHR, 2
                elif c == 47:  # '/'
                    if nxt == 47:
                        kind, width = TK_IDIV, 2
                elif c == 126:  # '~'
                    if nxt == 61:
                        kind, width = TK_NE, 2
                elif c == 58:  # ':'
                    if nxt == 58:
                        kind, width = TK_DBCOLON, 2
                elif c == 46:  # '.'
                    self.buff = b"."
                    if nxt == 46:
                        if pos + 2 < end and src[pos + 2] == 46:
                            kind, width = TK_DOTS, 3
                        else:
                            kind, width = TK_CONCAT, 2
                self.pos = pos + width
                return kind, None

    def _read_numeral(self, pos: int) -> tuple[int, SemInfo]:
        src = self.source
        first = pos + 1 if src[pos] == 46 else pos
        if src[first] == 48 and first + 1 < len(src) and src[first + 1] in (120, 88):
            m = _HEX_NUMERAL.match(src, first)
        else:
            m = _DEC_NUMERAL.match(src, first)
        stop = m.end()  # type: ignore[union-attr]
        text = src[pos:stop]
        self.pos = stop
        self.buff = text
        value = str2number(text, self.target)
        if value is None:
            raise self.error("malformed number", TK_FLT)
        if isinstance(value, int):
            return TK_INT, value
        return TK_FLT, value

    def _skip_sep(self, pos: int) -> tuple[int, int]:
        """skip_sep at a '[' or ']': (count of '=' + 2 if well formed, 1 if no '=',
        else 0; position of the last bracket, or just past the '='s)."""
        src = self.source
        s = src[pos]
        p = pos + 1
        end = len(src)
        while p < end and src[p] == 61:
            p += 1
        count = p - pos - 1
        if p < end and src[p] == s:
            return count + 2, p
        return (1 if count == 0 else 0), p

    def _read_long_string(self, pos: int, sep: int, is_string: bool) -> tuple[int, bytes]:
        """read_long_string with `pos` at the second '['; (position after, value)."""
        src = self.source
        end = len(src)
        line = self.linenumber
        pos += 1
        if pos < end and src[pos] in _NEWLINE:
            pos = self._inclinenumber(pos)
        parts: list[bytes] = []
        run = _LONG_RUN.match
        while True:
            m = run(src, pos)
            if m:
                parts.append(m.group())
                pos = m.end()
            if pos >= end:
                what = "string" if is_string else "comment"
                self.pos = pos
                self.buff = b""
                raise self.error(f"unfinished long {what} (starting at line {line})", TK_EOS)
            c = src[pos]
            if c == 93:  # ']'
                got, after = self._skip_sep(pos)
                if got == sep:
                    value = b"".join(parts)
                    if is_string:
                        eq = b"=" * (sep - 2)
                        self.buff = b"[" + eq + b"[" + value + b"]" + eq + b"]"
                    return after + 1, value
                parts.append(src[pos:after])
                pos = after
            else:
                parts.append(b"\n")
                pos = self._inclinenumber(pos)

    def _read_string(self, pos: int, delim: int) -> bytes:
        """read_string from the opening quote; leaves self.pos after the closing one."""
        src = self.source
        end = len(src)
        buf = bytearray((delim,))
        run = _STRING_RUN[delim].match
        pos += 1
        while True:
            m = run(src, pos)
            if m:
                buf += m.group()
                pos = m.end()
            if pos >= end:
                self._fail(pos, buf, "unfinished string", TK_EOS)
            c = src[pos]
            if c == delim:
                self.pos = pos + 1
                buf.append(delim)
                self.buff = bytes(buf)
                return bytes(buf[1:-1])
            if c == 10 or c == 13:
                self._fail(pos, buf, "unfinished string", TK_STRING)
            # a backslash: kept in the buffer for messages until the escape is done
            buf.append(92)
            pos += 1
            cur = src[pos] if pos < end else EOZ
            if cur in _ESCAPES:
                buf[-1] = _ESCAPES[cur]
                pos += 1
            elif cur == 120:  # 'x'
                buf.append(120)
                pos += 1
                value = 0
                for _ in range(2):
                    d = src[pos] if pos < end else EOZ
                    if d not in _HEXDIGITS:
                        self._esc_fail(pos, buf, "hexadecimal digit expected")
                    value = value * 16 + int(chr(d), 16)
                    buf.append(d)
                    pos += 1
                del buf[-4:]
                buf.append(value)
            elif cur == 117:  # 'u'
                pos = self._utf8esc(pos, buf)
            elif cur == 10 or cur == 13:
                pos = self._inclinenumber(pos)
                buf[-1] = 10
            elif cur == 92 or cur == 34 or cur == 39:
                buf[-1] = cur
                pos += 1
            elif cur == EOZ:
                pass  # "unfinished string" at the next round
            elif cur == 122:  # 'z'
                del buf[-1]
                pos += 1
                while pos < end:
                    d = src[pos]
                    if d in _NEWLINE:
                        pos = self._inclinenumber(pos)
                    elif d in (32, 9, 11, 12):
                        pos += 1
                    else:
                        break
            elif cur in _DIGITS:
                value = 0
                i = 0
                while i < 3 and pos < end and src[pos] in _DIGITS:
                    value = value * 10 + src[pos] - 48
                    buf.append(src[pos])
                    pos += 1
                    i += 1
                if value > 255:
                    self._esc_fail(pos, buf, "decimal escape too large")
                del buf[-i - 1 :]
                buf.append(value)
            else:
                self._esc_fail(pos, buf, "invalid escape sequence")

    def _utf8esc(self, pos: int, buf: bytearray) -> int:
        """readutf8esc + utf8esc with `pos` at the 'u'; appends the UTF-8 bytes."""
        src = self.source
        end = len(src)
        start = len(buf) - 1  # the backslash
        buf.append(117)
        pos += 1
        if pos >= end or src[pos] != 123:
            self._esc_fail(pos, buf, "missing '{'")
        buf.append(123)
        pos += 1
        d = src[pos] if pos < end else EOZ
        if d not in _HEXDIGITS:
            self._esc_fail(pos, buf, "hexadecimal digit expected")
        value = int(chr(d), 16)
        while True:
            buf.append(src[pos])
            pos += 1
            d = src[pos] if pos < end else EOZ
            if d not in _HEXDIGITS:
                break
            value = value * 16 + int(chr(d), 16)
            if value > 0x10FFFF:
                self._esc_fail(pos, buf, "UTF-8 value too large")
        if d != 125:
            self._esc_fail(pos, buf, "missing '}'")
        pos += 1
        del buf[start:]
        buf += _utf8_encode(value)
        return pos

    def _esc_fail(self, pos: int, buf: bytearray, msg: str) -> None:
        """esccheck's failure: the current character joins the quoted text."""
        if pos < len(self.source):
            buf.append(self.source[pos])
        self._fail(pos, buf, msg, TK_STRING)

    def _fail(self, pos: int, buf: bytearray, msg: str, token: int) -> None:
        self.pos = pos
        self.buff = bytes(buf)
        raise self.error(msg, token)


def _utf8_encode(x: int) -> bytes:
    """luaO_utf8esc: up to 0x7FFFFFFF in the old 6-byte scheme (5.3 allows <= 10FFFF)."""
    if x < 0x80:
        return bytes((x,))
    out = bytearray()
    mfb = 0x3F
    while True:
        out.append(0x80 | (x & 0x3F))
        x >>= 6
        mfb >>= 1
        if x <= mfb:
            break
    out.append(((~mfb << 1) | x) & 0xFF)
    out.reverse()
    return bytes(out)
