"""Lua 5.3 `.lc` chunks: NodeMCU's format 10 (app/lua53 `ldump.c`, `lundump.c`).

Layout (`DumpHeader`, `DumpFunction`):

- header: ESC "Lua", version 0x53, format 10, `LUAC_DATA`, the sizes of int,
  Instruction, lua_Integer and lua_Number, then 370.5 as a typed float;
- the main function's upvalue count, one byte;
- per function: source (NULL when it equals the parent's), linedefined,
  lastlinedefined, numparams, is_vararg, maxstacksize, the sub-functions,
  code, constants, upvalues, line info and local variables.

Counts are MBE (`DumpInt`: 7-bit groups, high group first, bit 7 = more).
Typed values (`DumpIntTT`) pack a type into their first byte, `0bFTTTDDDD`:
F = more groups follow, TTT = one of the `LUAU_T*` types, DDDD = the highest
data bits. Strings store their length + 1 (0 is NULL); negative integers
`n` are stored as `-(n + 1)` with type `LUAU_TNUMNINT`.

`read_lc` follows `luaU_undump`, with its checks in its order, and words its
problems as lundump does: "NAME: truncated precompiled chunk".
"""

import struct
from collections.abc import Callable

from ..errors import LcFormatError
from ..target import Lua53Target
from .proto import Constant, LocVar, Proto, Upvaldesc

LUA_SIGNATURE = b"\x1bLua"
LUAC_VERSION = 0x53
LUAC_FORMAT = 10  # NodeMCU's .lc format (LFS images are 11)
LUAC_DATA = b"\x19\x93\r\n\x1a\n"
LUAC_NUM = 370.5
SIZEOF_INT = 4
SIZEOF_INSTRUCTION = 4
LUAI_MAXSHORTLEN = 40  # llimits.h: longer strings are long strings (LUA_TLNGSTR)

# lundump.h: the type field (bits 4-6) of a typed value's first byte
LUAU_TNIL = 0 << 4
LUAU_TBOOLEAN = 1 << 4
LUAU_TNUMFLT = 2 << 4
LUAU_TNUMPINT = 3 << 4
LUAU_TNUMNINT = 4 << 4
LUAU_TSSTRING = 5 << 4
LUAU_TLSTRING = 6 << 4
LUAU_TMASK = 7 << 4
LUAU_DMASK = 0x0F


def _float_struct(target: Lua53Target) -> struct.Struct:
    return struct.Struct("<f" if target.float_size == 4 else "<d")


def header_bytes(target: Lua53Target, fmt: int = LUAC_FORMAT) -> bytes:
    """`DumpHeader`: 17 bytes, then 370.5 as a typed lua_Number."""
    sizes = bytes((SIZEOF_INT, SIZEOF_INSTRUCTION, target.int_size, target.float_size))
    return (
        LUA_SIGNATURE
        + bytes((LUAC_VERSION, fmt))
        + LUAC_DATA
        + sizes
        + bytes((LUAU_TNUMFLT,))
        + _float_struct(target).pack(LUAC_NUM)
    )


# ---------------------------------------------------------------------------
# dumping (ldump.c)


def encode_count(value: int) -> bytes:
    """`DumpInt`: an unsigned count in 7-bit groups, high group first."""
    if value < 0:
        raise LcFormatError(f"negative count {value} cannot be dumped")
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


def encode_typed(tt: int, value: int) -> bytes:
    """`DumpIntTT`: `value` with the type `tt` packed into its first byte.

    A negative value is stored as -(value + 1) with type LUAU_TNUMNINT; a
    leading group whose bits 4-6 are in use gets an extra 0x80 byte in front.
    """
    x = value if value >= 0 else -(value + 1)
    groups = [x & 0x7F]
    x >>= 7
    while x:
        groups.append(0x80 | (x & 0x7F))
        x >>= 7
    if groups[-1] & LUAU_TMASK:
        groups.append(0x80)
    groups[-1] |= tt if value >= 0 else LUAU_TNUMNINT
    return bytes(reversed(groups))


def encode_string(value: bytes | None) -> bytes:
    """`DumpString`: NULL, or a short/long string's type, length + 1 and bytes."""
    if value is None:
        return b"\x50"  # LUAU_TSSTRING, length 0
    tt = LUAU_TSSTRING if len(value) <= LUAI_MAXSHORTLEN else LUAU_TLSTRING
    return encode_typed(tt, len(value) + 1) + value


def wrap_integer(value: int, target: Lua53Target) -> int:
    """`value` as the target's lua_Integer (two's complement wraparound)."""
    bits = 8 * target.int_size
    return (value + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))


class _Dumper:
    """DumpState: the output so far, the target's number packing and the strip flag."""

    __slots__ = ("out", "strip", "pack_float", "target", "string")

    def __init__(self, target: Lua53Target, strip: bool) -> None:
        self.out = bytearray()
        self.strip = strip
        self.pack_float = _float_struct(target).pack
        self.target = target
        # `DumpString`; an LFS image writes references instead
        self.string: Callable[[bytes | None], bytes] = encode_string

    def dump_function(self, f: Proto, psource: bytes | None) -> None:
        """`DumpFunction`; `psource` is the parent's (effective) source."""
        out = self.out
        source = f.source
        out += self.string(None if source == psource else source)
        if source is None:  # lundump gives such a function its parent's source
            source = psource
        out += encode_count(f.linedefined)
        out += encode_count(f.lastlinedefined)
        out += bytes((f.numparams & 0xFF, f.is_vararg & 0xFF, f.maxstacksize & 0xFF))
        out += encode_count(len(f.protos))
        for child in f.protos:
            self.dump_function(child, source)
        out += encode_count(len(f.code))
        out += struct.pack(f"<{len(f.code)}I", *f.code)
        self.dump_constants(f.constants)
        self.dump_upvalues(f.upvalues)
        # strip level 1 (`-s`) keeps the line info and drops the local variables
        out += encode_count(len(f.lineinfo))
        out += f.lineinfo
        locvars = [] if self.strip else f.locvars
        out += encode_count(len(locvars))
        for var in locvars:
            out += self.string(var.varname)
            out += encode_count(var.startpc)
            out += encode_count(var.endpc)

    def dump_constants(self, constants: list[Constant]) -> None:
        out = self.out
        out += encode_count(len(constants))
        for value in constants:
            if value is None:
                out.append(LUAU_TNIL)
            elif isinstance(value, bool):  # before int: bool is a subclass of it
                out.append(LUAU_TBOOLEAN + value)
            elif isinstance(value, float):
                out.append(LUAU_TNUMFLT)
                out += self.pack_float(value)
            elif isinstance(value, int):
                out += encode_typed(LUAU_TNUMPINT, wrap_integer(value, self.target))
            else:
                out += self.string(value)

    def dump_upvalues(self, upvalues: list[Upvaldesc]) -> None:
        out = self.out
        names = not self.strip
        out.append(int(names))
        out += encode_count(len(upvalues))
        for uv in upvalues:
            if names:
                out += self.string(uv.name)
            out.append(uv.instack & 0xFF)
            out.append(uv.idx & 0xFF)


def dump_lc(main: Proto, target: Lua53Target, *, strip: bool) -> bytes:
    """`luaU_dump`: the `.lc` bytes of `main`; `strip` is luac's `-s` (level 1)."""
    dumper = _Dumper(target, strip)
    dumper.out += header_bytes(target)
    dumper.out.append(len(main.upvalues) & 0xFF)
    dumper.dump_function(main, None)
    return bytes(dumper.out)


# ---------------------------------------------------------------------------
# reading (lundump.c)


def chunk_name(chunkname: bytes) -> bytes:
    """The name lundump's messages use: without a leading `@`/`=`, "binary string" for ESC."""
    if chunkname[:1] in (b"@", b"="):
        return chunkname[1:]
    if chunkname[:1] == LUA_SIGNATURE[:1]:
        return b"binary string"
    return chunkname


def chunk_error_message(chunkname: bytes, reason: str) -> str:
    """lundump's `error`: "NAME: REASON precompiled chunk"."""
    name = chunk_name(chunkname).decode("utf-8", "surrogateescape")
    return f"{name}: {reason} precompiled chunk"


class _OutOfMemory(LcFormatError):
    """lundump's allocation failed: Lua reports only "not enough memory"."""


def _to_int32(value: int) -> int:
    """A lua_Integer stored into a C `int` field (sizes, counts)."""
    return (value + 0x80000000) % 0x100000000 - 0x80000000


class _Reader:
    """LoadState over an in-memory chunk; every short read is "truncated"."""

    __slots__ = ("data", "pos", "target", "unpack_float", "float_size")

    def __init__(self, data: bytes, target: Lua53Target) -> None:
        self.data = data
        self.pos = 0
        self.target = target
        fmt = _float_struct(target)
        self.unpack_float = fmt.unpack_from
        self.float_size = fmt.size

    def fail(self, reason: str) -> LcFormatError:
        return LcFormatError(reason, self.pos)

    def block(self, size: int) -> bytes:
        """`LoadBlock`: exactly `size` bytes (a failed read consumes what there was)."""
        start = self.pos
        end = start + size
        if size < 0 or end > len(self.data):
            self.pos = len(self.data)
            raise self.fail("truncated")
        self.pos = end
        return self.data[start:end]

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise self.fail("truncated")
        self.pos = pos + 1
        return self.data[pos]

    def count(self) -> int:
        """`LoadInt`: MBE into a lua_Integer, then stored in an `int`."""
        x = 0
        while True:
            b = self.byte()
            x = (x << 7) + (b & 0x7F)
            if not b & 0x80:
                break
        return _to_int32(wrap_integer(x, self.target))

    def integer(self, tt: int) -> int:
        """`LoadInteger`: the rest of a typed value whose first byte is `tt`."""
        x = tt & LUAU_DMASK
        if tt & 0x80:
            while True:
                b = self.byte()
                x = (x << 7) + (b & 0x7F)
                if not b & 0x80:
                    break
        x = wrap_integer(x, self.target)
        if (tt & LUAU_TMASK) == LUAU_TNUMNINT:
            x = wrap_integer(-x - 1, self.target)
        return x

    def number(self) -> float:
        value: float = self.unpack_float(self.block(self.float_size))[0]
        return value

    def string(self, tt: int | None = None) -> bytes | None:
        """`LoadString_`: NULL or the string's bytes (`tt` already read, or read here)."""
        if tt is None:
            tt = self.byte()
        n = _to_int32(wrap_integer(self.integer(tt) - 1, self.target))
        if n < 0:
            return None
        return self.block(n)

    def vector_count(self) -> int:
        """A count that sizes a vector: lundump's allocation fails on a negative one."""
        n = self.count()
        if n < 0:
            raise _OutOfMemory("not enough memory", self.pos)
        return n

    def function(self) -> Proto:
        """`LoadFunction` (the source stays None where the chunk says NULL)."""
        f = Proto()
        f.source = self.string()
        f.linedefined = self.count()
        f.lastlinedefined = self.count()
        f.numparams = self.byte()
        f.is_vararg = self.byte()
        f.maxstacksize = self.byte()
        f.protos = [self.function() for _ in range(self.vector_count())]
        n = self.vector_count()
        f.code = list(struct.unpack(f"<{n}I", self.block(4 * n)))
        f.constants = [self.constant() for _ in range(self.vector_count())]
        names = self.byte()
        upvalues = []
        for _ in range(self.vector_count()):
            name = self.string() if names else None
            instack = self.byte()
            upvalues.append(Upvaldesc(name, instack, self.byte()))
        f.upvalues = upvalues
        f.lineinfo = self.block(self.vector_count())
        f.locvars = []
        for _ in range(self.vector_count()):
            varname = self.string()
            startpc = self.count()
            f.locvars.append(LocVar(varname or b"", startpc, self.count()))
        return f

    def constant(self) -> Constant:
        """One entry of `LoadConstants` (the type is in bits 4-6 of the first byte)."""
        tt = self.byte()
        kind = tt & LUAU_TMASK
        if kind == LUAU_TNIL:
            return None
        if kind == LUAU_TBOOLEAN:
            return tt != LUAU_TBOOLEAN
        if kind == LUAU_TNUMFLT:
            return self.number()
        if kind in (LUAU_TNUMPINT, LUAU_TNUMNINT):
            return self.integer(tt)
        if kind in (LUAU_TSSTRING, LUAU_TLSTRING):
            return self.string(tt)
        # type 7: lundump's lua_assert(0) is compiled out; it reads nothing more
        # and keeps whatever was on the C stack. luacross reads it as nil.
        return None

    def header(self) -> None:
        """`checkHeader`, after the first byte (ESC), in lundump's order."""
        if self.block(3) != LUA_SIGNATURE[1:]:
            raise self.fail("not a")
        if self.byte() != LUAC_VERSION:
            raise self.fail("version mismatch in")
        if self.byte() != LUAC_FORMAT:
            raise self.fail("format mismatch in")
        if self.block(len(LUAC_DATA)) != LUAC_DATA:
            raise self.fail("corrupted")
        target = self.target
        for size, what in (
            (SIZEOF_INT, "int"),
            (SIZEOF_INSTRUCTION, "Instruction"),
            (target.int_size, "lua_Integer"),
            (target.float_size, "lua_Number"),
        ):
            if self.byte() != size:
                raise self.fail(f"{what} size mismatch in")
        self.byte()  # the number's type byte is not checked
        if self.number() != LUAC_NUM:
            raise self.fail("float format mismatch in")


def read_lc(data: bytes, chunkname: bytes, target: Lua53Target) -> Proto:
    """`luaU_undump`: the main function of a `.lc` chunk for `target`.

    Raises LcFormatError whose message is what luac.cross prints after its
    name, e.g. "app.lc: truncated precompiled chunk" or "not enough memory".
    Sources stay None where the chunk says NULL (the parent's is meant);
    bytes after the main function are ignored, as lua_load never reads them.
    """
    reader = _Reader(data, target)
    try:
        if reader.byte() != LUA_SIGNATURE[0]:  # lua_load chooses binary by this byte
            raise reader.fail("not a")
        reader.header()
        reader.byte()  # the closure's upvalue count; the main's own count is what counts
        return reader.function()
    except _OutOfMemory as exc:
        raise LcFormatError(exc.reason, exc.offset) from None
    except LcFormatError as exc:
        raise LcFormatError(chunk_error_message(chunkname, exc.reason), exc.offset) from None
