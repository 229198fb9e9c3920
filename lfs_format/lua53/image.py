"""Lua 5.3 LFS images: NodeMCU's format 11 (app/lua53 `ldump.c` `luaU_DumpAllProtos`).

Layout:

- the `.lc` header with format 11 (21 bytes, or 25 with 64-bit numbers);
- the hash seed, a typed integer (`DumpInteger`; in the 32-bit build a seed of
  2^31 or more passes through a negative `lua_Integer`);
- `"\\x19ss"`, then MBE maxlen, the short and long string counts and the number
  of strings written, then those strings (`DumpString`). The counts include the
  71 fixed strings (`FIXED_STRINGS`) that the firmware creates itself and which
  are never written;
- `"\\x19pr"`, the lookup main's sub-functions (`DumpProtos`) with every string
  as a typed index into that list (0 = NULL), then the main's constants: one
  module name per function, and last the timestamp.

String numbering (`addFixedStrings`, `scanProtoStrings`, `DumpLFSstrings`):
the fixed strings come first in the index, then every string in first-use
order (the main's source, its constants, then each function depth first:
source, constants, upvalue names, local names, sub-functions). The written
strings are renumbered 1..N in that order and the fixed ones N+1.. after them,
so a constant equal to a fixed string ("__index", "nil") refers to the fixed one.
"""

from collections.abc import Iterator

from ..target import Lua53Target
from . import lc
from .proto import Proto

LUAC_LFS_IMAGE_FORMAT = 11
LUA_STRING_SIG = b"\x19ss"
LUA_PROTO_SIG = b"\x19pr"

# llex.c luaX_tokens: the reserved words (their TString `extra` is index + 1), then the rest
LUAX_TOKENS = (
    b"and", b"break", b"do", b"else", b"elseif", b"end", b"false", b"for", b"function",
    b"goto", b"if", b"in", b"local", b"nil", b"not", b"or", b"repeat", b"return", b"then",
    b"true", b"until", b"while",
    b"//", b"..", b"...", b"==", b">=", b"<=", b"~=", b"<<", b">>", b"::", b"<eof>",
    b"<number>", b"<integer>", b"<name>", b"<string>",
)  # fmt: skip
NUM_RESERVED = 22
MEMERRMSG = b"not enough memory"  # lstring.c, G(L)->memerrmsg
LUA_ENV = b"_ENV"
# ltm.c luaT_eventname (ORDER TM), then luaT_typenames_ (as luaT_getstr walks them)
LUAT_EVENTS = (
    b"__index", b"__newindex", b"__gc", b"__mode", b"__len", b"__eq", b"__add", b"__sub",
    b"__mul", b"__mod", b"__pow", b"__div", b"__idiv", b"__band", b"__bor", b"__bxor",
    b"__shl", b"__shr", b"__unm", b"__bnot", b"__lt", b"__le", b"__concat", b"__call",
)  # fmt: skip
LUAT_TYPENAMES = (
    b"no value", b"nil", b"boolean", b"userdata", b"number", b"string", b"table",
    b"function", b"userdata", b"thread", b"proto",
)  # fmt: skip
FIXED_SOURCES = (*LUAX_TOKENS, MEMERRMSG, LUA_ENV, *LUAT_EVENTS, *LUAT_TYPENAMES)


def _unique(items: tuple[bytes, ...]) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(items))


# The fixed strings in the dumper's order, each once (71: the token "nil" and
# "function" are also type names, and "userdata" is a type name twice)
FIXED_STRINGS = _unique(FIXED_SOURCES)


def is_short(value: bytes) -> bool:
    """A short string (LUA_TSHRSTR): at most LUAI_MAXSHORTLEN bytes."""
    return len(value) <= lc.LUAI_MAXSHORTLEN


def scan_strings(main: Proto) -> Iterator[bytes]:
    """`scanProtoStrings`: every string `main` refers to, in first-use order
    (repeats included; the caller keeps the first)."""
    stack = [main]
    while stack:
        f = stack.pop()
        if f.source is not None:
            yield f.source
        for value in f.constants:
            if isinstance(value, bytes):
                yield value
        for uv in f.upvalues:
            if uv.name is not None:
                yield uv.name
        for var in f.locvars:
            yield var.varname
        stack.extend(reversed(f.protos))


class StringIndex:
    """The dumper's `stringIndex`: a string's number in the image (1-based)."""

    __slots__ = ("index", "written", "short_count", "long_count", "maxlen")

    def __init__(self, main: Proto) -> None:
        fixed = set(FIXED_STRINGS)
        written: dict[bytes, None] = {}
        for value in scan_strings(main):
            if value not in fixed:
                written.setdefault(value, None)
        self.written = list(written)
        index = {value: number for number, value in enumerate(self.written, 1)}
        base = len(self.written)
        for number, value in enumerate(FIXED_STRINGS, base + 1):
            index[value] = number
        self.index = index
        every = self.written + list(FIXED_STRINGS)
        self.short_count = sum(1 for value in every if is_short(value))
        self.long_count = len(every) - self.short_count
        self.maxlen = max(len(value) for value in every)

    def reference(self, value: bytes | None) -> bytes:
        """`DumpString` in reference mode: the string's type and its number."""
        if value is None:
            return b"\x50"
        tt = lc.LUAU_TSSTRING if is_short(value) else lc.LUAU_TLSTRING
        return lc.encode_typed(tt, self.index[value])

    def prologue(self) -> bytes:
        """`DumpLFSstrings`: maxlen, the counts, then the written strings."""
        out = bytearray()
        out += lc.encode_count(self.maxlen)
        out += lc.encode_count(self.short_count)
        out += lc.encode_count(self.long_count)
        out += lc.encode_count(len(self.written))
        for value in self.written:
            out += lc.encode_string(value)
        return bytes(out)


def seed_integer(seed: int, target: Lua53Target) -> int:
    """The `unsigned int` seed as the target's lua_Integer (`DumpInteger`'s argument)."""
    return lc.wrap_integer(seed & 0xFFFFFFFF, target)


def dump_image(main: Proto, target: Lua53Target, *, seed: int, strip: bool) -> bytes:
    """`luaU_DumpAllProtos`: the format-11 image of `main`, a lookup main whose
    constants are the module names and last the timestamp; `strip` is `-s`."""
    strings = StringIndex(main)
    dumper = lc._Dumper(target, strip)
    out = dumper.out
    out += lc.header_bytes(target, LUAC_LFS_IMAGE_FORMAT)
    out += lc.encode_typed(lc.LUAU_TNUMPINT, seed_integer(seed, target))
    out += LUA_STRING_SIG
    out += strings.prologue()
    out += LUA_PROTO_SIG
    dumper.string = strings.reference
    out += lc.encode_count(len(main.protos))
    source = main.source
    for child in main.protos:
        dumper.dump_function(child, source)
    dumper.dump_constants(main.constants)
    return bytes(out)
