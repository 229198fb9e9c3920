"""The `-l` / `-l -l` listing of the Lua 5.3 luac.cross, byte for byte.

Follows app/lua53/host/luac.c's print code (`PrintFunction`, `PrintHeader`,
`PrintCode`, `PrintDebug`, `PrintConstant`, `PrintString`). As in the 5.1
listing, decoding (`decode_instructions`) and formatting (`Formatter`) are
separate. The listing is bytes: Lua strings and source names are printed raw.

Numbers print as the target's `LUA_NUMBER_FMT` (`%.7g` for 4-byte floats,
`%.14g` for doubles) with ".0" added when the text looks like an integer;
integers print as `%d`. Lines come from NodeMCU's packed line info
(`luaG_getfuncline`); a pc without a line prints `[-]`.

Addresses (`%p`) differ from run to run in the real tool; we print `0x%08x` of
a per-listing counter, given to each function in order of first appearance.
"""

import math

from lfs_format.errors import LuacrossError
from lfs_format.instruction import (
    get_opcode,
    getarg_a,
    getarg_b,
    getarg_bx,
    getarg_c,
    getarg_sbx,
    isk,
)
from lfs_format.lua53.lineinfo import decode_line_info
from lfs_format.lua53.opcodes import (
    OP_CLOSURE,
    OP_EXTRAARG,
    OP_GETTABUP,
    OP_GETUPVAL,
    OP_LOADK,
    OP_SETLIST,
    OP_SETTABUP,
    OP_SETUPVAL,
    OPNAMES,
    OpArgMask,
    OpCode,
    OpMode,
    get_bmode,
    get_cmode,
    get_opmode,
    getarg_ax,
    indexk,
)
from lfs_format.lua53.proto import Constant, Proto
from lfs_format.target import Lua53Target

# opcodes whose comment shows their RK operands: "; B C", "-" for a register
_RK_PAIR_OPS = frozenset(
    int(op)
    for op in (
        OpCode.SETTABLE, OpCode.ADD, OpCode.SUB, OpCode.MUL, OpCode.MOD, OpCode.POW,
        OpCode.DIV, OpCode.IDIV, OpCode.BAND, OpCode.BOR, OpCode.BXOR, OpCode.SHL,
        OpCode.SHR, OpCode.EQ, OpCode.LT, OpCode.LE,
    )
)  # fmt: skip
_JUMP_OPS = frozenset(
    int(op) for op in (OpCode.JMP, OpCode.FORLOOP, OpCode.FORPREP, OpCode.TFORLOOP)
)
_RK_C_OPS = frozenset((int(OpCode.GETTABLE), int(OpCode.SELF)))


class Instruction:
    """One decoded instruction word (fields as lopcodes.h's GETARG_* read them)."""

    __slots__ = ("pc", "opcode", "a", "b", "c", "bx", "sbx", "ax", "line")

    def __init__(self, pc: int, word: int, line: int) -> None:
        self.pc = pc  # index in Proto.code (0-based)
        self.opcode = get_opcode(word)
        self.a = getarg_a(word)
        self.b = getarg_b(word)
        self.c = getarg_c(word)
        self.bx = getarg_bx(word)
        self.sbx = getarg_sbx(word)
        self.ax = getarg_ax(word)
        self.line = line  # source line; <= 0 when there is none


def decode_instructions(f: Proto) -> list[Instruction]:
    """Every instruction of `f` with its source line."""
    lines = decode_line_info(f.lineinfo, len(f.code))
    return [Instruction(pc, word, lines[pc]) for pc, word in enumerate(f.code)]


# PrintString: C escapes, C-locale isprint (0x20-0x7E) as is, others as \ddd
_ESCAPES = {ord('"'): b'\\"', ord("\\"): b"\\\\", 7: b"\\a", 8: b"\\b", 12: b"\\f"}
_ESCAPES.update({10: b"\\n", 13: b"\\r", 9: b"\\t", 11: b"\\v"})
_STRING_BYTES = [
    _ESCAPES.get(c, bytes((c,)) if 0x20 <= c <= 0x7E else b"\\%03d" % c) for c in range(256)
]


def format_string(value: bytes) -> bytes:
    """PrintString: `value` quoted and escaped."""
    table = _STRING_BYTES
    return b'"' + b"".join([table[c] for c in value]) + b'"'


def _plural(n: int) -> bytes:
    return b"" if n == 1 else b"s"


class Formatter:
    """luac.c's print functions for one listing: number format and address ids."""

    __slots__ = ("number_format", "addresses", "out")

    def __init__(self, target: Lua53Target) -> None:
        self.number_format = "%.7g" if target.float_size == 4 else "%.14g"  # LUAI_NUMFFORMAT
        self.addresses: dict[int, bytes] = {}
        self.out: list[bytes] = []

    def address(self, f: Proto) -> bytes:
        """A stable stand-in for `%p` of `f`."""
        key = id(f)
        found = self.addresses.get(key)
        if found is None:
            found = self.addresses[key] = b"0x%08x" % (len(self.addresses) + 1)
        return found

    def format_constant(self, value: Constant) -> bytes:
        """PrintConstant."""
        if value is None:
            return b"nil"
        if isinstance(value, bool):
            return b"true" if value else b"false"
        if isinstance(value, float):
            if math.isnan(value):  # glibc prints the sign of a NaN
                return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
            text = (self.number_format % value).encode()
            if not text.strip(b"-0123456789"):
                text += b".0"
            return text
        if isinstance(value, int):
            return b"%d" % value
        return format_string(value)

    def print_function(self, f: Proto, full: bool, source: bytes | None) -> None:
        """PrintFunction: `source` is the parent's, which a NULL source stands for."""
        if f.source is not None:
            source = f.source
        self.print_header(f, source)
        self.print_code(f)
        if full:
            self.print_debug(f)
        for child in f.protos:
            self.print_function(child, full, source)

    def print_header(self, f: Proto, source: bytes | None) -> None:
        s = b"=?" if source is None else source
        if s[:1] in (b"@", b"="):
            s = s[1:]
        elif s[:1] == b"\x1b":
            s = b"(bstring)"
        else:
            s = b"(string)"
        n = len(f.code)
        self.out.append(
            b"\n%s <%s:%d,%d> (%d instruction%s at %s)\n"
            % (
                b"main" if f.linedefined == 0 else b"function",
                s,
                f.linedefined,
                f.lastlinedefined,
                n,
                _plural(n),
                self.address(f),
            )
        )
        nk, np, nu, nl = len(f.constants), len(f.protos), len(f.upvalues), len(f.locvars)
        self.out.append(
            b"%d%s param%s, %d slot%s, %d upvalue%s, %d local%s, %d constant%s, %d function%s\n"
            % (
                f.numparams,
                b"+" if f.is_vararg else b"",
                _plural(f.numparams),
                f.maxstacksize,
                _plural(f.maxstacksize),
                nu,
                _plural(nu),
                nl,
                _plural(nl),
                nk,
                _plural(nk),
                np,
                _plural(np),
            )
        )

    def upvalue_name(self, f: Proto, i: int) -> bytes:
        """UPVALNAME: the name, or "-" (NodeMCU drops every name)."""
        name = f.upvalues[i].name
        return b"-" if name is None else name

    def print_code(self, f: Proto) -> None:
        out = self.out
        k = self.format_constant
        instructions = decode_instructions(f)
        pc = 0
        while pc < len(instructions):
            ins = instructions[pc]
            o, a, b, c = ins.opcode, ins.a, ins.b, ins.c
            line = b"[%d]" % ins.line if ins.line > 0 else b"[-]"
            text = b"\t%d\t%s\t%-9s\t" % (pc + 1, line, OPNAMES[o].encode())
            mode = get_opmode(o)
            if mode == OpMode.iABC:
                text += b"%d" % a
                if get_bmode(o) != OpArgMask.N:
                    text += b" %d" % (-1 - indexk(b) if isk(b) else b)
                if get_cmode(o) != OpArgMask.N:
                    text += b" %d" % (-1 - indexk(c) if isk(c) else c)
            elif mode == OpMode.iABx:
                text += b"%d" % a
                if get_bmode(o) == OpArgMask.K:
                    text += b" %d" % (-1 - ins.bx)
                elif get_bmode(o) == OpArgMask.U:
                    text += b" %d" % ins.bx
            elif mode == OpMode.iAsBx:
                text += b"%d %d" % (a, ins.sbx)
            else:
                text += b"%d" % (-1 - ins.ax)
            if o == OP_LOADK:
                text += b"\t; " + k(f.constants[ins.bx])
            elif o == OP_GETUPVAL or o == OP_SETUPVAL:
                text += b"\t; " + self.upvalue_name(f, b)
            elif o == OP_GETTABUP:
                text += b"\t; " + self.upvalue_name(f, b)
                if isk(c):
                    text += b" " + k(f.constants[indexk(c)])
            elif o == OP_SETTABUP:
                text += b"\t; " + self.upvalue_name(f, a)
                if isk(b):
                    text += b" " + k(f.constants[indexk(b)])
                if isk(c):
                    text += b" " + k(f.constants[indexk(c)])
            elif o in _RK_C_OPS:
                if isk(c):
                    text += b"\t; " + k(f.constants[indexk(c)])
            elif o in _RK_PAIR_OPS:
                if isk(b) or isk(c):
                    text += b"\t; " + (k(f.constants[indexk(b)]) if isk(b) else b"-")
                    text += b" " + (k(f.constants[indexk(c)]) if isk(c) else b"-")
            elif o in _JUMP_OPS:
                text += b"\t; to %d" % (ins.sbx + pc + 2)
            elif o == OP_CLOSURE:
                text += b"\t; " + self.address(f.protos[ins.bx])
            elif o == OP_SETLIST:
                if c == 0:  # the count is the next word, which is not listed
                    pc += 1
                    word = f.code[pc]
                    text += b"\t; %d" % (word - (1 << 32) if word & 0x80000000 else word)
                else:
                    text += b"\t; %d" % c
            elif o == OP_EXTRAARG:
                text += b"\t; " + k(f.constants[ins.ax])
            out.append(text + b"\n")
            pc += 1

    def print_debug(self, f: Proto) -> None:
        out = self.out
        addr = self.address(f)
        out.append(b"constants (%d) for %s:\n" % (len(f.constants), addr))
        for i, value in enumerate(f.constants):
            out.append(b"\t%d\t%s\n" % (i + 1, self.format_constant(value)))
        out.append(b"locals (%d) for %s:\n" % (len(f.locvars), addr))
        for i, var in enumerate(f.locvars):
            out.append(b"\t%d\t%s\t%d\t%d\n" % (i, var.varname, var.startpc + 1, var.endpc + 1))
        out.append(b"upvalues (%d) for %s:\n" % (len(f.upvalues), addr))
        for i, uv in enumerate(f.upvalues):
            out.append(b"\t%d\t%s\t%d\t%d\n" % (i, self.upvalue_name(f, i), uv.instack, uv.idx))


def list_chunk(main: Proto, *, full: bool, target: Lua53Target) -> bytes:
    """The bytes luac.cross prints for `-l` (`full`: `-l -l`) of `main`.

    5.3's lundump does not verify code, so a damaged `.lc` input can name a
    constant, upvalue, function or opcode that does not exist; luac.cross then
    prints whatever memory holds, luacross refuses (one line, no listing).
    """
    formatter = Formatter(target)
    try:
        formatter.print_function(main, full, None)
    except IndexError:
        raise LuacrossError(
            "cannot list a chunk whose code names a constant, upvalue, function or opcode "
            "it does not have (a damaged .lc input)"
        ) from None
    return b"".join(formatter.out)
