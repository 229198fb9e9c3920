"""Reading and writing `.lc` chunks (NodeMCU `ldump.c`/`lundump.c`, stock 5.1).

Three variants share one record layout (formats reference §2):

- `FLOAT`/`INT`: NodeMCU's cross-compiler format. 4-byte size_t, Align4
  padding (zero bytes, counted from the start of the file, written even when
  0) before the code array and before the packed line-info bytes (+ NUL).
- `HOST`: stock Lua 5.1 on a 64-bit host (`lupa.lua51`, `luac5.1`). 8-byte
  size_t, no padding, line info as one int per instruction.

Number conversion when a Proto's constants do not match the target: an
`int` goes to a float target as the equal double; an integral `float` goes to
the INT target as that integer, a fractional one (or inf/NaN) raises
NodeMCU's "target lua_Number is integral but fractional value found". INT
numbers must lie in [-2147483647, 2147483646] (NodeMCU's DumpIntWithSize).

`read_chunk` identifies the variant from the 12-byte header by hand, reads
every field in lundump's order and verifies every function as lundump does
(`luaG_checkcode`), so callers (listing, image builder, loader) can index
constants and protos safely. Problems are reported as
`LcFormatError(reason, offset)` with lundump's reason for the first problem
it would meet ("unexpected end", "bad header", "bad integer", "bad
constant", "bad code", "code too deep"), so the CLI can print "<name>:
<reason> in precompiled chunk". A string length that is negative as
lundump's int32_t is a Lua memory error instead (`LcMemoryError`: "not
enough memory", or "memory allocation error: block too big"). Bytes after
the main function are ignored, as lua_load never reads them. Like lundump,
the reader accepts NULL names and NULL string constants (`NULL_STRING`,
dumped back as NULL) and packed line info as it comes: the dump keeps the
bytes up to the first NUL (ldump's strlen), a missing terminator is taken as
if a NUL followed.

Given a `target`, `read_chunk` checks the header as the target's own lundump
does (`LoadHeader`) before reading the body: byte 10 (sizeof lua_Number) is
taken from the file, and a chunk whose integral flag exceeds the target's has
its numbers read as integers of that size and converted (lundump's `toflt`:
an INT chunk loads into the float build). Any endianness byte but 1 makes
lundump read every int, size, number and instruction byte-swapped; so does
the reader.
"""

import struct
import sys
from array import array
from collections.abc import Callable
from typing import cast

from ..errors import LcFormatError, LcMemoryError
from ..instruction import (
    BITRK,
    get_opcode,
    getarg_a,
    getarg_b,
    getarg_bx,
    getarg_c,
    getarg_sbx,
    isk,
)
from ..target import FLOAT, HOST, INT, Target
from .lineinfo import decode_line_info
from .opcodes import MAXSTACK, OPMODES, OpArgMask, OpCode, OpMode
from .proto import (
    LUA_TBOOLEAN,
    LUA_TNIL,
    LUA_TNUMBER,
    LUA_TSTRING,
    VARARG_HASARG,
    VARARG_ISVARARG,
    VARARG_NEEDSARG,
    Constant,
    LocVar,
    Proto,
)

LUA_SIGNATURE = b"\x1bLua"
LUAC_VERSION = 0x51
LUAC_FORMAT = 0
LUAC_HEADERSIZE = 12
SIZEOF_INT = 4
SIZEOF_INSTRUCTION = 4
INT_TARGET_MIN = -0x7FFFFFFF  # NodeMCU reduces both int32 bounds by one
INT_TARGET_MAX = 0x7FFFFFFE
LUAI_MAXCCALLS = 200  # lundump's "code too deep" nesting limit
# C calls already counted when luac.cross's lua_load reaches LoadFunction (lua_cpcall of
# pmain), so the main function is call 2 and a function nested 199 deep is refused
_LOAD_CCALLS = 1
_LITTLE = sys.byteorder == "little"


def is_chunk(data: bytes) -> bool:
    """True if `data` starts like a precompiled chunk (ESC "Lua")."""
    return data[:4] == LUA_SIGNATURE


def identify_target(header: bytes) -> Target:
    """The variant named by a 12-byte chunk header (sizeof size_t, lua_Number, integral)."""
    if len(header) < LUAC_HEADERSIZE:
        raise LcFormatError("unexpected end", len(header))
    if not is_chunk(header):
        raise LcFormatError("bad header", 0)
    variant = (header[8], header[10], header[11])
    for target in (FLOAT, INT, HOST):
        if variant == (target.sizet_size, target.number_size, int(target.integral)):
            return target
    raise LcFormatError("bad header", 8)


# ---------------------------------------------------------------------------
# dumping (ldump.c)


# A Proto read back from an LFS image can share children (several parents point at one
# Proto, which the firmware runs as is); a chunk holds each child once per parent
MAX_SHARED_DUMP_FUNCTIONS = 100_000


def dump_chunk(proto: Proto, target: Target, strip: bool = False) -> bytes:
    """Encode `proto` as a chunk for `target`; `strip` drops source and debug info (-s)."""
    total, distinct = function_count(proto)
    if total > distinct and total > MAX_SHARED_DUMP_FUNCTIONS:
        raise LcFormatError(
            f"{distinct} functions that share nested functions would dump as {total}: "
            "too many to write as a chunk"
        )
    dumper = _Dumper(target, strip)
    dumper.out += header_bytes(target)
    dumper.dump_function(proto, None)
    return bytes(dumper.out)


def function_count(main: Proto) -> tuple[int, int]:
    """(functions a dump of `main` holds, distinct Proto objects among them)."""
    counts: dict[int, int] = {}

    def count(f: Proto) -> int:
        n = counts.get(id(f))
        if n is None:
            n = counts[id(f)] = 1 + sum(count(child) for child in f.protos)
        return n

    return count(main), len(counts)


def header_bytes(target: Target) -> bytes:
    """The 12-byte chunk header (both sides use it).

    Bytes 10-11 (sizeof lua_Number, integral flag) are chosen here and nowhere else.
    """
    return LUA_SIGNATURE + bytes(
        (
            LUAC_VERSION,
            LUAC_FORMAT,
            1,  # little endian
            SIZEOF_INT,
            target.sizet_size,
            SIZEOF_INSTRUCTION,
            target.number_size,
            int(target.integral),
        )
    )


# the writer packs with `struct` (construct is only loaded to read chunks)
_INT = struct.Struct("<i")
_FUNCTION_SCALARS = struct.Struct("<iiBBBB")  # linedefined .. maxstacksize
_LOCVAR_PCS = struct.Struct("<ii")  # startpc, endpc


def _fits_dump_int(value: int) -> bool:
    return INT_TARGET_MIN <= value <= INT_TARGET_MAX


class _Dumper:
    """DumpState: the output so far (Align4 counts from its start)."""

    def __init__(self, target: Target, strip: bool):
        self.target = target
        self.strip = strip
        self.out = bytearray()
        self.pack_sizet = struct.Struct("<I" if target.sizet_size == 4 else "<Q").pack
        self.pack_number = struct.Struct("<i" if target.integral else "<d").pack
        # NodeMCU's ldump refuses ints outside its reduced int32 range (stock ldump has no check)
        self.check_ints = target is not HOST

    def align4(self) -> None:
        if self.target.packed_lineinfo:
            self.out += bytes(-len(self.out) & 3)

    def dump_int(self, value: int) -> None:
        # DumpIntWithSize: NodeMCU reduces both int32 bounds by one (a loaded
        # linedefined or pc of 0x7FFFFFFF cannot be dumped)
        if self.check_ints and not INT_TARGET_MIN <= value <= INT_TARGET_MAX:
            raise LcFormatError("value too big or small for target integer type")
        self.out += _INT.pack(value)

    def dump_string(self, value: bytes | None) -> None:
        # size_t length including the NUL, 0 for NULL
        if value is None:
            self.out += self.pack_sizet(0)
        else:
            self.out += self.pack_sizet(len(value) + 1)
            self.out += value
            self.out.append(0)

    def dump_function(self, f: Proto, parent_source: bytes | None) -> None:
        self.dump_string(None if self.strip or f.source == parent_source else f.source)
        if self.check_ints and not (
            _fits_dump_int(f.linedefined) and _fits_dump_int(f.lastlinedefined)
        ):
            raise LcFormatError("value too big or small for target integer type")
        self.out += _FUNCTION_SCALARS.pack(
            f.linedefined, f.lastlinedefined, f.nups, f.numparams, f.is_vararg, f.maxstacksize
        )
        self.dump_code(f)
        self.dump_constants(f)
        self.dump_int(len(f.protos))
        for child in f.protos:
            self.dump_function(child, f.source)
        self.dump_debug(f)

    def dump_code(self, f: Proto) -> None:
        self.dump_int(len(f.code))
        self.align4()
        words = array("I", f.code)
        if not _LITTLE:
            words.byteswap()
        self.out += words.tobytes()

    def dump_constants(self, f: Proto) -> None:
        out = self.out
        out += _INT.pack(len(f.constants))
        pack_sizet, pack_number = self.pack_sizet, self.pack_number
        for value in f.constants:
            kind = type(value)  # exact types: bool is a subclass of int
            if kind is bytes:
                text = cast(bytes, value)
                out.append(LUA_TSTRING)
                out += pack_sizet(len(text) + 1)
                out += text
                out.append(0)
            elif kind is _NullString:
                out.append(LUA_TSTRING)
                # stock Lua would load a NULL constant and crash on it: "" there
                out += pack_sizet(1 if self.target is HOST else 0)
                if self.target is HOST:
                    out.append(0)
            elif kind is float or kind is int:
                out.append(LUA_TNUMBER)
                out += pack_number(self.target_number(cast("int | float", value)))
            elif kind is bool:
                out.append(LUA_TBOOLEAN)
                out.append(1 if value else 0)
            elif value is None:
                out.append(LUA_TNIL)
            else:
                raise LcFormatError(f"cannot dump constant of type {kind.__name__}")

    def target_number(self, value: int | float) -> int | float:
        if not self.target.integral:
            return float(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise LcFormatError("target lua_Number is integral but fractional value found")
            value = int(value)
        if not INT_TARGET_MIN <= value <= INT_TARGET_MAX:
            raise LcFormatError("value too big or small for target integer type")
        return value

    def dump_debug(self, f: Proto) -> None:
        if self.target.packed_lineinfo:
            packed = None if self.strip else f.packedlineinfo
            if packed is not None and 0 in packed:  # ldump takes its strlen
                packed = packed[: packed.index(0)]
            self.dump_int(0 if packed is None else len(packed) + 1)
            self.align4()
            if packed is not None:
                self.out += packed
                self.out.append(0)
        else:
            lines = [] if self.strip else f.lineinfo
            self.dump_int(len(lines))
            self.out += struct.pack(f"<{len(lines)}i", *lines)
        locvars = [] if self.strip else f.locvars
        self.dump_int(len(locvars))
        for var in locvars:
            self.dump_string(var.varname)
            if self.check_ints and not (_fits_dump_int(var.startpc) and _fits_dump_int(var.endpc)):
                raise LcFormatError("value too big or small for target integer type")
            self.out += _LOCVAR_PCS.pack(var.startpc, var.endpc)
        upvalues = [] if self.strip else f.upvalues
        self.dump_int(len(upvalues))
        for name in upvalues:
            self.dump_string(name)


# ---------------------------------------------------------------------------
# loading (lundump.c)


def read_chunk(data: bytes, target: Target | None = None) -> tuple[Proto, Target]:
    """Decode a chunk; returns the main Proto and the target its numbers belong to.

    Without `target`, any supported variant (HOST too) is read as its header
    names it. With `target`, the header is checked as that target's lundump
    checks it, so HOST and the other build's float chunks are a "bad header".
    A NULL source becomes the parent's (b"=?" for the main function), as
    lundump does. Packed line info is decoded into `lineinfo`.
    """
    header = bytes(data[:LUAC_HEADERSIZE])
    if target is None:
        target = identify_target(header)
        if header != header_bytes(target):
            raise LcFormatError("bad header", 0)
        loader = _Loader(bytes(data), target)
    else:
        loader = _loader_for_target(bytes(data), header, target)
    loader.pos = LUAC_HEADERSIZE
    return loader.load_function(b"=?", 0), target


def _loader_for_target(data: bytes, header: bytes, target: Target) -> "_Loader":
    # lundump's LoadHeader: the file's sizeof(lua_Number) is accepted as is, and
    # toflt (integral flag above the target's) lets integer numbers in
    if len(header) < LUAC_HEADERSIZE:
        raise LcFormatError("unexpected end", len(header))
    expected = bytearray(header_bytes(target))
    got = bytearray(header)
    # any endianness byte but the host's (little) means: swap every int, size,
    # number and instruction
    swap = got[6] != expected[6]
    got[6] = expected[6]
    numsize = expected[10] = got[10]
    toflt = _signed_char(got[11]) > int(target.integral)
    if toflt:
        got[11] = expected[11]
    if got != expected:
        raise LcFormatError("bad header", 0)
    if not toflt:  # numbers are read as the target's own, whatever byte 10 says
        return _Loader(data, target, swap=swap)
    layout = target._replace(name=f"int{8 * numsize}", integral=True, number_size=numsize)
    return _Loader(data, layout, _wrap_int32 if target.integral else float, swap=swap)


def _signed_char(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def _wrap_int32(value: int) -> int:
    # (lua_Number)y with an int32 lua_Number keeps the low 32 bits
    return (value + 0x80000000) % 0x100000000 - 0x80000000


class _Loader:
    """LoadState: the chunk, a read position, its layout, and how its numbers
    become the reading target's (lundump's toflt conversion).

    Every field is read in lundump's order, one at a time, so the first
    problem it meets decides the reason. Counts are not checked against the
    bytes left: an item loop stops at the end of the data by itself, and the
    model is a host with the memory lundump's allocations ask for.
    """

    def __init__(
        self,
        data: bytes,
        target: Target,
        convert_number: Callable[[int], int | float] | None = None,
        swap: bool = False,
    ):
        self.data = data
        self.size = len(data)
        self.pos = 0
        self.target = target
        self.convert_number = convert_number
        order = ">" if swap else "<"
        self.int = struct.Struct(order + "i")
        self.sizet = struct.Struct(order + ("I" if target.sizet_size == 4 else "Q"))
        if target.integral:
            # lundump reads 1/2/4/8-byte integers when converting (toflt); it reads
            # nothing for other sizes (lua_assert(0) is compiled out)
            code = _INTEGER_CODES.get(target.number_size)
            self.number = None if code is None else struct.Struct(order + code)
        else:
            self.number = struct.Struct(order + "d")
        self.byteswap_words = swap == _LITTLE  # arrays are read in host order

    def offset(self) -> int:
        return self.pos

    def load_block(self, size: int) -> bytes:
        start = self.pos
        end = start + size
        if end > self.size:
            raise LcFormatError("unexpected end", start)
        self.pos = end
        return self.data[start:end]

    def load_char(self) -> int:
        """LoadChar: one `char`, signed as on the hosts luac.cross is built for."""
        if self.pos >= self.size:
            raise LcFormatError("unexpected end", self.pos)
        byte = self.data[self.pos]
        self.pos += 1
        return byte - 256 if byte > 127 else byte

    def load_byte(self) -> int:
        return self.load_char() & 0xFF

    def load_int(self) -> int:
        start = self.pos
        value: int = self.int.unpack(self.load_block(4))[0]
        if value < 0:
            raise LcFormatError("bad integer", start)
        return value

    def align4(self) -> None:
        # Align4 counts from the end of the 12-byte header, i.e. from the chunk's start
        if self.target.packed_lineinfo:
            self.load_block(-self.pos & 3)

    def load_string(self) -> bytes | None:
        """LoadString: a length including the NUL (0: NULL), then the bytes, the
        last one dropped unread."""
        start = self.pos
        (size,) = self.sizet.unpack(self.load_block(self.sizet.size))
        if size == 0:
            return None
        if self.target.sizet_size == 4 and size >= 0x80000000:
            # NodeMCU reads the length as an int32_t; a negative one becomes a size_t
            # near 2**64 when lundump asks for a buffer of that size
            raise LcMemoryError(_huge_buffer_error(size), start)
        return self.load_block(size)[:-1]

    def load_number(self) -> int | float:
        if self.number is None:
            return 0  # lundump leaves the value undefined and reads nothing
        value: int | float = self.number.unpack(self.load_block(self.number.size))[0]
        if self.convert_number is not None:
            return self.convert_number(int(value))  # toflt: the chunk's numbers are integers
        return value

    def load_function(self, parent_source: bytes, depth: int) -> Proto:
        start = self.pos
        if _LOAD_CCALLS + depth + 1 > LUAI_MAXCCALLS:
            raise LcFormatError("code too deep", start)
        loaded = self.load_string()
        source = parent_source if loaded is None else loaded
        f = Proto(source=source)
        f.linedefined = self.load_int()
        f.lastlinedefined = self.load_int()
        f.nups = self.load_byte()
        f.numparams = self.load_byte()
        f.is_vararg = self.load_byte()
        f.maxstacksize = self.load_byte()
        self.load_code(f)
        self.load_constants(f)
        f.protos = [self.load_function(source, depth + 1) for _ in range(self.load_int())]
        self.load_debug(f)
        if check_code(f) is not None:  # check_code(f) says why
            raise LcFormatError("bad code", start)
        return f

    def load_code(self, f: Proto) -> None:
        n = self.load_int()
        self.align4()
        words = array("I")
        words.frombytes(self.load_block(4 * n))
        if self.byteswap_words:
            words.byteswap()
        f.code = words.tolist()

    def load_constants(self, f: Proto) -> None:
        constants: list[Constant] = []
        for _ in range(self.load_int()):
            start = self.pos
            kind = self.load_char()
            if kind == LUA_TNIL:
                constants.append(None)
            elif kind == LUA_TBOOLEAN:
                constants.append(self.load_char() != 0)
            elif kind == LUA_TNUMBER:
                constants.append(self.load_number())
            elif kind == LUA_TSTRING:
                value = self.load_string()
                constants.append(NULL_STRING if value is None else value)
            else:
                raise LcFormatError("bad constant", start)
        f.constants = constants

    def load_debug(self, f: Proto) -> None:
        if self.target.packed_lineinfo:
            n = self.load_int()
            self.align4()
            if n:
                # lundump keeps the n bytes as they are; what follows uses them as a
                # C string (ldump's strlen, luaG_getline stops at a NUL): a missing
                # terminator is taken as if a NUL followed the bytes
                raw = self.load_block(n)
                f.packedlineinfo = raw[:-1] if raw[-1] == 0 else raw
                f.lineinfo = decode_line_info(f.packedlineinfo)
        else:
            n = self.load_int()
            lines = array("i")
            lines.frombytes(self.load_block(4 * n))
            if self.byteswap_words:
                lines.byteswap()
            f.lineinfo = lines.tolist()
        for _ in range(self.load_int()):
            varname = self.load_string()  # NULL names load (the listing cannot show them)
            f.locvars.append(LocVar(varname, self.load_int(), self.load_int()))
        # NULL names load as None (Proto's type says bytes: the compiler never makes them)
        f.upvalues = cast("list[bytes]", [self.load_string() for _ in range(self.load_int())])


class _NullString(bytes):
    """A string constant stored with length 0: lundump loads it as a NULL TString,
    ldump writes it back the same way."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_STRING"


NULL_STRING = _NullString()

_INTEGER_CODES = {1: "b", 2: "h", 4: "i", 8: "q"}


def _huge_buffer_error(size: int) -> str:
    # luaM_reallocv refuses n+1 > MAX_SIZET (size_t max - 2) as too big; any other
    # size near 2**64 fails in the allocator
    n = (size - 0x100000000) & 0xFFFFFFFFFFFFFFFF  # sign-extended to size_t
    if (n + 1) & 0xFFFFFFFFFFFFFFFF > 0xFFFFFFFFFFFFFFFF - 2:
        return "memory allocation error: block too big"
    return "not enough memory"


# ---------------------------------------------------------------------------
# verification (ldebug.c: luaG_checkcode, i.e. symbexec without tracing)

LUA_MULTRET = -1


def check_code(f: Proto) -> str | None:
    """Why lundump would reject `f`'s code ("bad code"), or None if it is sound."""
    code, k, n = f.code, f.constants, len(f.code)
    if f.maxstacksize > MAXSTACK:
        return "stack too big"
    if f.numparams + (f.is_vararg & VARARG_HASARG) > f.maxstacksize:
        return "too many parameters"
    if f.is_vararg & VARARG_NEEDSARG and not f.is_vararg & VARARG_HASARG:
        return "bad vararg flags"
    if len(f.upvalues) > f.nups:
        return "too many upvalue names"
    if f.lineinfo and not f.packedlineinfo and len(f.lineinfo) != n:
        return "line info size does not match code"
    if n == 0 or get_opcode(code[-1]) != OpCode.RETURN:
        return "function does not end with RETURN"

    def reg_ok(r: int) -> bool:
        return r < f.maxstacksize

    def arg_ok(r: int, mode: OpArgMask) -> bool:
        if mode == OpArgMask.N:
            return r == 0
        if mode == OpArgMask.R:
            return reg_ok(r)
        if mode == OpArgMask.K:
            return r - BITRK < len(k) if isk(r) else reg_ok(r)
        return True

    def open_op_follows(pc: int) -> bool:
        # an open call's results must be consumed by the next instruction
        nxt = code[pc + 1]
        op = get_opcode(nxt)
        return op in _OPEN_OPS and getarg_b(nxt) == 0

    pc = 0
    while pc < n:
        i = code[pc]
        op = get_opcode(i)
        if op >= len(_MODES):
            return f"bad opcode at pc {pc}"
        testmode, _, bmode, cmode, opmode = _MODES[op]
        a, b, c = getarg_a(i), 0, 0
        if not reg_ok(a):
            return f"bad register at pc {pc}"
        if opmode == OpMode.iABC:
            b, c = getarg_b(i), getarg_c(i)
            if not (arg_ok(b, bmode) and arg_ok(c, cmode)):
                return f"bad operand at pc {pc}"
        elif opmode == OpMode.iABx:
            b = getarg_bx(i)
            if bmode == OpArgMask.K and b >= len(k):
                return f"bad constant index at pc {pc}"
        else:
            b = getarg_sbx(i)
            if bmode == OpArgMask.R:
                dest = pc + 1 + b
                if not 0 <= dest < n:
                    return f"bad jump at pc {pc}"
                # jumping onto a SETLIST count word: count the run of
                # SETLIST C=0 words before dest; an odd run means dest is a count
                j = 0
                while (
                    j < dest
                    and get_opcode(code[dest - 1 - j]) == OpCode.SETLIST
                    and (getarg_c(code[dest - 1 - j]) == 0)
                ):
                    j += 1
                if j & 1:
                    return f"jump into SETLIST count at pc {pc}"
        if testmode and not (pc + 2 < n and get_opcode(code[pc + 1]) == OpCode.JMP):
            return f"test without jump at pc {pc}"
        if op not in _SPECIAL_OPS:
            pc += 1
            continue
        if op == OpCode.LOADBOOL and c == 1:
            if not pc + 2 < n:
                return f"bad LOADBOOL skip at pc {pc}"
            nxt = code[pc + 1]
            if get_opcode(nxt) == OpCode.SETLIST and getarg_c(nxt) == 0:
                return f"bad LOADBOOL skip at pc {pc}"
        elif op in (OpCode.GETUPVAL, OpCode.SETUPVAL):
            if b >= f.nups:
                return f"bad upvalue index at pc {pc}"
        elif op in (OpCode.GETGLOBAL, OpCode.SETGLOBAL):
            if not isinstance(k[b], bytes):
                return f"global name not a string at pc {pc}"
        elif op == OpCode.SELF:
            if not reg_ok(a + 1):
                return f"bad register at pc {pc}"
        elif op == OpCode.CONCAT:
            if b >= c:
                return f"bad CONCAT range at pc {pc}"
        elif op == OpCode.TFORLOOP:
            if c < 1 or not reg_ok(a + 2 + c):
                return f"bad TFORLOOP at pc {pc}"
        elif op in (OpCode.FORLOOP, OpCode.FORPREP):
            if not reg_ok(a + 3):
                return f"bad register at pc {pc}"
        elif op in (OpCode.CALL, OpCode.TAILCALL):
            if b != 0 and not reg_ok(a + b - 1):
                return f"bad register at pc {pc}"
            c -= 1  # number of results
            if c == LUA_MULTRET:
                if not open_op_follows(pc):
                    return f"open call not consumed at pc {pc}"
            elif c != 0 and not reg_ok(a + c - 1):
                return f"bad register at pc {pc}"
        elif op == OpCode.RETURN:
            if b - 1 > 0 and not reg_ok(a + b - 2):
                return f"bad register at pc {pc}"
        elif op == OpCode.SETLIST:
            if b > 0 and not reg_ok(a + b):
                return f"bad register at pc {pc}"
            if c == 0:
                pc += 1
                if not pc < n - 1:
                    return f"missing SETLIST count at pc {pc}"
        elif op == OpCode.CLOSURE:
            if b >= len(f.protos):
                return f"bad function index at pc {pc}"
            nup = f.protos[b].nups
            if not pc + nup < n:
                return f"missing upvalue pseudo-instructions at pc {pc}"
            for j in range(1, nup + 1):
                if get_opcode(code[pc + j]) not in (OpCode.GETUPVAL, OpCode.MOVE):
                    return f"bad upvalue pseudo-instruction at pc {pc + j}"
        elif op == OpCode.VARARG:
            if not (f.is_vararg & VARARG_ISVARARG) or f.is_vararg & VARARG_NEEDSARG:
                return f"VARARG in a non-vararg function at pc {pc}"
            b -= 1
            if b == LUA_MULTRET and not open_op_follows(pc):
                return f"open VARARG not consumed at pc {pc}"
            if not reg_ok(a + b - 1):
                return f"bad register at pc {pc}"
        pc += 1
    return None


_OPEN_OPS = frozenset({OpCode.CALL, OpCode.TAILCALL, OpCode.RETURN, OpCode.SETLIST})
# OPMODES indexed by opcode number (the check runs over every instruction)
_MODES = [OPMODES[op] for op in sorted(OpCode)]
# the opcodes with checks of their own after the operand-mode checks
_SPECIAL_OPS = frozenset(
    {
        OpCode.LOADBOOL,
        OpCode.GETUPVAL,
        OpCode.SETUPVAL,
        OpCode.GETGLOBAL,
        OpCode.SETGLOBAL,
        OpCode.SELF,
        OpCode.CONCAT,
        OpCode.TFORLOOP,
        OpCode.FORLOOP,
        OpCode.FORPREP,
        OpCode.CALL,
        OpCode.TAILCALL,
        OpCode.RETURN,
        OpCode.SETLIST,
        OpCode.CLOSURE,
        OpCode.VARARG,
    }
)
