"""Lua 5.3 Protos as a stock Lua 5.3 binary chunk (lua.org `ldump.c`, format 0).

`luacross run` executes the functions of a 5.3 LFS image in lupa's Lua 5.3,
which loads what its own `string.dump` writes: the stock header (format 0,
`LUAC_DATA`, the sizes of int, size_t, Instruction, lua_Integer and
lua_Number, then `LUAC_INT` 0x5678 and `LUAC_NUM` 370.5 as raw values), the
main function's upvalue count, then per function: source (NULL when it is the
parent's), linedefined, lastlinedefined, numparams, is_vararg, maxstacksize,
code, constants, upvalues, sub-functions, and the debug part (one int of line
per instruction, local variables, upvalue names). Counts are C ints, strings
a length byte (0xFF then a size_t when longer), all little-endian, for the
64-bit host build (size_t 8, lua_Integer `long long`, lua_Number `double`).

NodeMCU's 5.3 core has the stock opcodes, so code words pass through
unchanged; its packed line info is expanded to a line per instruction.
"""

import struct

from .lineinfo import decode_line_info
from .proto import Proto

HEADER = (
    b"\x1bLua\x53\x00"  # signature, version, format 0 (official)
    + b"\x19\x93\r\n\x1a\n"  # LUAC_DATA
    + bytes((4, 8, 4, 8, 8))  # int, size_t, Instruction, lua_Integer, lua_Number
    + struct.pack("<qd", 0x5678, 370.5)  # LUAC_INT, LUAC_NUM
)
LUAI_MAXSHORTLEN = 40

_INT = struct.Struct("<i")
_TNIL, _TBOOLEAN, _TNUMFLT, _TNUMINT, _TSHRSTR, _TLNGSTR = 0, 1, 3, 3 | 16, 4, 4 | 16


def widen_float32(value: float) -> float:
    """A C float as the double of its shortest decimal: 0.1f (0.100000001490116...)
    becomes 0.1, so a 64-bit VM prints what the source said."""
    if value != value or value in (float("inf"), float("-inf")):
        return value
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if struct.unpack("<f", struct.pack("<f", candidate))[0] == value:
                return candidate
        except OverflowError:  # rounded past FLT_MAX: more digits
            continue
    return value


def _string(out: bytearray, value: bytes | None) -> None:
    if value is None:
        out.append(0)
        return
    size = len(value) + 1
    if size < 0xFF:
        out.append(size)
    else:
        out.append(0xFF)
        out += struct.pack("<Q", size)
    out += value


def _function(out: bytearray, f: Proto, parent_source: bytes | None, float32: bool) -> None:
    _string(out, None if f.source == parent_source else f.source)
    out += struct.pack("<iiBBB", f.linedefined, f.lastlinedefined,
                       f.numparams, f.is_vararg, f.maxstacksize)  # fmt: skip
    out += _INT.pack(len(f.code))
    out += struct.pack(f"<{len(f.code)}I", *f.code)
    out += _INT.pack(len(f.constants))
    for k in f.constants:
        if k is None:
            out.append(_TNIL)
        elif isinstance(k, bool):
            out += bytes((_TBOOLEAN, k))
        elif isinstance(k, int):
            out.append(_TNUMINT)
            out += struct.pack("<q", k)
        elif isinstance(k, float):
            out.append(_TNUMFLT)
            out += struct.pack("<d", widen_float32(k) if float32 else k)
        else:
            out.append(_TSHRSTR if len(k) <= LUAI_MAXSHORTLEN else _TLNGSTR)
            _string(out, k)
    out += _INT.pack(len(f.upvalues))
    for up in f.upvalues:
        out += bytes((up.instack, up.idx))
    out += _INT.pack(len(f.protos))
    for child in f.protos:
        _function(out, child, f.source, float32)
    lines = (
        [max(line, 0) for line in decode_line_info(f.lineinfo, len(f.code))] if (f.lineinfo) else []
    )
    out += _INT.pack(len(lines))
    out += struct.pack(f"<{len(lines)}i", *lines)
    out += _INT.pack(len(f.locvars))
    for var in f.locvars:
        _string(out, var.varname)
        out += struct.pack("<ii", var.startpc, var.endpc)
    names = [up.name for up in f.upvalues] if any(up.name for up in f.upvalues) else []
    out += _INT.pack(len(names))
    for name in names:
        _string(out, name)


def dump_stock(main: Proto, *, float32: bool = False) -> bytes:
    """`main` as a chunk stock Lua 5.3 (64-bit host build) loads with `load(..., "b")`.
    `float32`: the constants are C floats (NodeMCU's default build), see `widen_float32`."""
    out = bytearray(HEADER)
    out.append(len(main.upvalues))
    _function(out, main, None, float32)
    return bytes(out)
