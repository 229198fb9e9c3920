"""The `-l` / `-l -l` listing, character for character as luac.cross's `print.c`.

Decoding and formatting are separate (as in CPython's `dis`):
`decode_instructions` turns `Proto.code` into `Instruction` records, and
`Formatter` prints them with methods named after print.c's functions.

Text and bytes: Lua strings are bytes, and print.c writes some of them raw
(GETGLOBAL/SETGLOBAL names, the source name, local and upvalue names). The
formatter writes `str` in which every character stands for one byte
(latin-1), so the stream given to `print_listing` must encode latin-1 for
the output to match luac.cross byte for byte (the CLI wraps stdout so).

Addresses (`%p` in print.c) vary from run to run in the real tool; we print
`0x%08x` of a per-listing counter, assigned in order of first appearance.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from lfs_format.errors import LuacrossError
from lfs_format.instruction import (
    BITRK,
    get_opcode,
    getarg_a,
    getarg_b,
    getarg_bx,
    getarg_c,
    getarg_sbx,
    isk,
)
from lfs_format.lua51.lc import NULL_STRING
from lfs_format.lua51.lineinfo import decode_line_info
from lfs_format.lua51.opcodes import OPMODES, OpArgMask, OpCode, OpMode
from lfs_format.lua51.proto import Constant, Proto
from lfs_format.target import Target


@dataclass(frozen=True, slots=True)
class Instruction:
    """One decoded instruction word."""

    pc: int
    """index of the word in `Proto.code` (0-based)"""
    opcode: OpCode
    a: int
    """field A (bits 6-13)"""
    b: int
    """field B (bits 23-31)"""
    c: int
    """field C (bits 14-22)"""
    bx: int
    """fields B and C as one unsigned value (bits 14-31)"""
    sbx: int
    """Bx as a signed jump offset"""
    line: int
    """source line, 0 when the function has no line info for this pc"""
    setlist_count: int | None = None
    """SETLIST with C=0: the following raw word (the batch number), as a signed int"""


def lines_of(proto: Proto) -> list[int]:
    """Per-pc lines as the listing shows them: decoded from the packed bytes when present."""
    if proto.packedlineinfo is not None:
        return decode_line_info(proto.packedlineinfo)
    return proto.lineinfo


def decode_instructions(proto: Proto) -> Iterator[Instruction]:
    """Yield `proto`'s instructions; a SETLIST count word is folded into its SETLIST."""
    code = proto.code
    lines = lines_of(proto)
    pc, n = 0, len(code)
    while pc < n:
        word = code[pc]
        opcode = OpCode(get_opcode(word))
        c = getarg_c(word)
        count = None
        if opcode == OpCode.SETLIST and c == 0 and pc + 1 < n:
            count = code[pc + 1] - (1 << 32) if code[pc + 1] & 0x80000000 else code[pc + 1]
        yield Instruction(
            pc=pc,
            opcode=opcode,
            a=getarg_a(word),
            b=getarg_b(word),
            c=c,
            bx=getarg_bx(word),
            sbx=getarg_sbx(word),
            line=lines[pc] if pc < len(lines) else 0,
            setlist_count=count,
        )
        pc += 1 if count is None else 2


def print_listing(proto: Proto, out: TextIO, *, full: bool, target: Target) -> None:
    """Print `proto` and its children in pre-order, as `luac.cross -l` (`full`: `-l -l`)."""
    Formatter(out, target).print_function(proto, full)


def _cstr(s: bytes | None) -> str:
    """A Lua string as C's `%s` prints it: up to the first NUL, one char per byte."""
    if s is None:
        raise _null_string()
    return s.split(b"\0", 1)[0].decode("latin-1")


def _null_string() -> LuacrossError:
    # a .lc input can hold NULL names and string constants (length 0): lundump loads
    # them, ldump writes them back, but luac.cross's listing dereferences them and crashes
    return LuacrossError("cannot list a NULL string (a name or string constant of length 0)")


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


_ESCAPES = {
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    0x07: "\\a",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
}
# PrintString: C-locale isprint (0x20-0x7E) prints as is, others as \ddd
_STRING_CHARS = [
    _ESCAPES.get(byte, chr(byte) if 0x20 <= byte <= 0x7E else f"\\{byte:03d}")
    for byte in range(256)
]

# instructions whose B and C are both shown as constants when either is one
_BINARY_K_OPS = frozenset(
    {
        OpCode.SETTABLE,
        OpCode.ADD,
        OpCode.SUB,
        OpCode.MUL,
        OpCode.DIV,
        OpCode.POW,
        OpCode.EQ,
        OpCode.LT,
        OpCode.LE,
    }
)


class Formatter:
    """print.c: owns the stream, the number format and the address ids."""

    def __init__(self, out: TextIO, target: Target):
        self.out = out
        self.integral = target.integral
        self._addresses: dict[int, str] = {}

    def address(self, proto: Proto) -> str:
        """A stable stand-in for `%p` of `proto`."""
        key = id(proto)
        if key not in self._addresses:
            self._addresses[key] = f"0x{len(self._addresses) + 1:08x}"
        return self._addresses[key]

    def print_function(self, f: Proto, full: bool) -> None:
        """PrintFunction: this function, then its children, depth first."""
        self.print_header(f)
        self.print_code(f)
        if full:
            self.print_constants(f)
            self.print_locals(f)
            self.print_upvalues(f)
        for child in f.protos:
            self.print_function(child, full)

    def print_header(self, f: Proto) -> None:
        source = f.source if f.source is not None else b"=?"
        if source[:1] in (b"@", b"="):
            name = _cstr(source[1:])
        elif source[:1] == b"\x1b":
            name = "(bstring)"
        else:
            name = "(string)"
        n = len(f.code)
        kind = "main" if f.linedefined == 0 else "function"
        w = self.out.write
        w(
            f"\n{kind} <{name}:{f.linedefined},{f.lastlinedefined}> "
            f"({n} instruction{_plural(n)}, {4 * n} bytes at {self.address(f)})\n"
        )
        w(
            f"{f.numparams}{'+' if f.is_vararg else ''} param{_plural(f.numparams)}, "
            f"{f.maxstacksize} slot{_plural(f.maxstacksize)}, {f.nups} upvalue{_plural(f.nups)}, "
        )
        nloc, nk, np = len(f.locvars), len(f.constants), len(f.protos)
        w(f"{nloc} local{_plural(nloc)}, {nk} constant{_plural(nk)}, {np} function{_plural(np)}\n")

    def print_code(self, f: Proto) -> None:
        w = self.out.write
        for ins in decode_instructions(f):
            line = f"[{ins.line}]" if ins.line > 0 else "[-]"
            w(f"\t{ins.pc + 1}\t{line}\t{ins.opcode.name:<9s}\t{self.operands(ins)}")
            comment = self.comment(f, ins)
            if comment is not None:
                w(f"\t; {comment}")
            w("\n")

    def operands(self, ins: Instruction) -> str:
        """The numeric operands, by the opcode's mode."""
        _, _, bmode, cmode, opmode = OPMODES[ins.opcode]
        if opmode == OpMode.iABC:
            text = str(ins.a)
            if bmode != OpArgMask.N:
                text += f" {_rk(ins.b)}"
            if cmode != OpArgMask.N:
                text += f" {_rk(ins.c)}"
            return text
        if opmode == OpMode.iABx:
            return f"{ins.a} {-1 - ins.bx if bmode == OpArgMask.K else ins.bx}"
        return str(ins.sbx) if ins.opcode == OpCode.JMP else f"{ins.a} {ins.sbx}"

    def comment(self, f: Proto, ins: Instruction) -> str | None:
        """The text after `; `, or None when print.c prints no comment."""
        op = ins.opcode
        if op == OpCode.LOADK:
            return self.constant(f.constants[ins.bx])
        if op in (OpCode.GETUPVAL, OpCode.SETUPVAL):
            return _cstr(f.upvalues[ins.b]) if f.upvalues else "-"
        if op in (OpCode.GETGLOBAL, OpCode.SETGLOBAL):
            return _cstr(f.constants[ins.bx])
        if op in (OpCode.GETTABLE, OpCode.SELF):
            return self.constant(f.constants[ins.c - BITRK]) if isk(ins.c) else None
        if op in _BINARY_K_OPS:
            if not (isk(ins.b) or isk(ins.c)):
                return None
            return f"{self.rk_constant(f, ins.b)} {self.rk_constant(f, ins.c)}"
        if op in (OpCode.JMP, OpCode.FORLOOP, OpCode.FORPREP):
            return f"to {ins.sbx + ins.pc + 2}"
        if op == OpCode.CLOSURE:
            return self.address(f.protos[ins.bx])
        if op == OpCode.SETLIST:
            return str(ins.c if ins.c else ins.setlist_count)
        return None

    def rk_constant(self, f: Proto, rk: int) -> str:
        return self.constant(f.constants[rk - BITRK]) if isk(rk) else "-"

    def constant(self, value: Constant) -> str:
        """PrintConstant."""
        if value is None:
            return "nil"
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is NULL_STRING:
            raise _null_string()
        if isinstance(value, bytes):
            return '"' + "".join(_STRING_CHARS[byte] for byte in value) + '"'
        if self.integral:
            return "%d" % int(value)  # noqa: UP031 (C printf semantics)
        return _format_number(float(value))

    def print_constants(self, f: Proto) -> None:
        w = self.out.write
        w(f"constants ({len(f.constants)}) for {self.address(f)}:\n")
        for i, value in enumerate(f.constants, 1):
            w(f"\t{i}\t{self.constant(value)}\n")

    def print_locals(self, f: Proto) -> None:
        w = self.out.write
        w(f"locals ({len(f.locvars)}) for {self.address(f)}:\n")
        for i, var in enumerate(f.locvars):
            w(f"\t{i}\t{_cstr(var.varname)}\t{var.startpc + 1}\t{var.endpc + 1}\n")

    def print_upvalues(self, f: Proto) -> None:
        w = self.out.write
        w(f"upvalues ({len(f.upvalues)}) for {self.address(f)}:\n")
        for i, name in enumerate(f.upvalues):
            w(f"\t{i}\t{_cstr(name)}\n")


def _rk(x: int) -> int:
    """An RK operand as print.c shows it: constants as -1-index (any x >= 256)."""
    return -1 - (x - BITRK) if isk(x) else x


def _format_number(x: float) -> str:
    """C's printf("%.14g"): like Python's, except NaN keeps its sign ("-nan")."""
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    return "%.14g" % x  # noqa: UP031 (C printf %.14g: inf, -0, exponents)
