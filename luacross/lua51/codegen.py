"""Lua 5.1 code generator, as NodeMCU's `lcode.c` (functions named without `luaK_`).

Expressions are `ExpDesc`s whose kind says what `info`/`aux` hold (lparser.h):

- VK: `info` = constant index; VKNUM: `nval` = the number;
- VLOCAL: `info` = local register; VUPVAL: `info` = upvalue index;
- VGLOBAL: `info` = constant index of the name;
- VINDEXED: `info` = table register, `aux` = key RK;
- VJMP: `info` = pc of the jump; VRELOCABLE: `info` = pc of the instruction
  whose A is still to be set; VNONRELOC: `info` = result register;
- VCALL, VVARARG: `info` = pc of the instruction.

`t` and `f` are the lists of pending jumps taken when the expression is true
or false, threaded through the jumps' sBx fields and ending in NO_JUMP.
Every instruction goes through `code()`, which logs its line for both the
stock per-pc list and NodeMCU's packed line info.
"""

import math
from typing import Final, cast

from lfs_format.errors import LuacrossError
from lfs_format.instruction import (
    BITRK,
    MAXARG_BX,
    MAXARG_C,
    MAXARG_SBX,
    MAXINDEXRK,
    NO_REG,
    POS_A,
    POS_B,
    POS_BX,
    POS_C,
)
from lfs_format.lua51.lineinfo import LineInfoWriter
from lfs_format.lua51.opcodes import (
    LFIELDS_PER_FLUSH,
    MAXSTACK,
    OP_ADD,
    OP_CONCAT,
    OP_DIV,
    OP_EQ,
    OP_GETGLOBAL,
    OP_GETTABLE,
    OP_GETUPVAL,
    OP_JMP,
    OP_LE,
    OP_LEN,
    OP_LOADBOOL,
    OP_LOADK,
    OP_LOADNIL,
    OP_LT,
    OP_MOD,
    OP_MOVE,
    OP_MUL,
    OP_NOT,
    OP_POW,
    OP_RETURN,
    OP_SELF,
    OP_SETGLOBAL,
    OP_SETLIST,
    OP_SETTABLE,
    OP_SETUPVAL,
    OP_SUB,
    OP_TEST,
    OP_TESTSET,
    OP_UNM,
    OPMODES,
    OpCode,
)
from lfs_format.lua51.proto import Constant, Proto
from luacross.lua51.lexer import LexState

NO_JUMP: Final = -1
LUA_MULTRET: Final = -1


# Plain ints, as C's enums are: an IntEnum member lookup costs ~60 ns in
# Python 3.11 (a module global ~5 ns), and these are read on every expression.
# Final literals: mypyc compiles them to constants.

# expkind (lparser.h); the order matters (VLOCAL..VINDEXED are variables)
VVOID: Final = 0
VNIL: Final = 1
VTRUE: Final = 2
VFALSE: Final = 3
VK: Final = 4
VKNUM: Final = 5
VLOCAL: Final = 6
VUPVAL: Final = 7
VGLOBAL: Final = 8
VINDEXED: Final = 9
VJMP: Final = 10
VRELOCABLE: Final = 11
VNONRELOC: Final = 12
VCALL: Final = 13
VVARARG: Final = 14

# BinOpr (lcode.h), in ORDER OPR
OPR_ADD: Final = 0
OPR_SUB: Final = 1
OPR_MUL: Final = 2
OPR_DIV: Final = 3
OPR_MOD: Final = 4
OPR_POW: Final = 5
OPR_CONCAT: Final = 6
OPR_NE: Final = 7
OPR_EQ: Final = 8
OPR_LT: Final = 9
OPR_LE: Final = 10
OPR_GT: Final = 11
OPR_GE: Final = 12
OPR_AND: Final = 13
OPR_OR: Final = 14
OPR_NOBINOPR: Final = 15

# UnOpr (lcode.h)
OPR_MINUS: Final = 0
OPR_NOT: Final = 1
OPR_LEN: Final = 2
OPR_NOUNOPR: Final = 3


class ExpDesc:
    """expdesc: an expression not yet (fully) placed in a register.

    `k` is its kind (V*); `info`/`aux` hold what the kind says; `nval` a
    numeral's value; `t`/`f` the patch lists of its exits when true/false.
    """

    __slots__ = ("k", "info", "aux", "nval", "t", "f")

    def __init__(self, k: int = VVOID, info: int = 0) -> None:
        self.k = k
        self.info = info
        self.aux = 0
        self.nval: float | int = 0
        self.t = self.f = NO_JUMP

    def init(self, k: int, info: int) -> None:
        """init_exp"""
        self.f = self.t = NO_JUMP
        self.k = k
        self.info = info

    def assign(self, other: "ExpDesc") -> None:
        """`*self = *other`"""
        self.k, self.info, self.aux = other.k, other.info, other.aux
        self.nval, self.t, self.f = other.nval, other.t, other.f


class BlockCnt:
    """A block being compiled (lparser.c): `nactvar` active locals outside the
    breakable structure; `upval`: some variable in the block is an upvalue;
    `isbreakable`: the block is a loop."""

    __slots__ = ("previous", "breaklist", "nactvar", "upval", "isbreakable")

    def __init__(
        self, previous: "BlockCnt | None", breaklist: int, nactvar: int, upval: bool,
        isbreakable: bool,
    ) -> None:  # fmt: skip
        self.previous = previous
        self.breaklist = breaklist
        self.nactvar = nactvar
        self.upval = upval
        self.isbreakable = isbreakable


class CompileLimitError(LuacrossError):
    """A per-function array grown past its luaM_growvector limit ("constant table
    overflow", "too many local variables"). luaG_runerror raises it while a C
    function runs, so the message names no chunk or line."""


def growvector_check(nelems: int, limit: int, what: str) -> None:
    """luaM_growvector's limit: an array already holding `limit` elements cannot grow."""
    if nelems >= limit:
        raise CompileLimitError(what)


# keys of the constant table that must not meet Python's True == 1 == 1.0
_NIL_KEY, _FALSE_KEY, _TRUE_KEY = object(), object(), object()


class FuncState:
    """State of one function being compiled (lparser.h)."""

    __slots__ = (
        "f", "prev", "ls", "integral", "h", "pc", "lasttarget", "jpc", "freereg",
        "nactvar", "bl", "actvar", "locvar_names", "declared", "upvalues", "lines", "tails",
    )  # fmt: skip

    def __init__(self, f: Proto, prev: "FuncState | None", ls: LexState, integral: bool) -> None:
        self.f = f
        self.prev = prev
        self.ls = ls  # the LexState (for lastline and errors)
        self.integral = integral
        self.h: dict[object, int] = {}  # constant -> index (addk's table)
        self.pc = 0
        self.lasttarget = -1
        self.jpc = NO_JUMP  # jumps pending to the next instruction
        self.tails: dict[int, int] = {}  # list head -> a jump at or near its end (concat)
        self.freereg = 0
        self.nactvar = 0
        self.bl: BlockCnt | None = None
        self.actvar: list[int] = []  # active local -> locvar index
        self.locvar_names: list[bytes] = []  # registerlocalvar's names
        self.declared: set[bytes] = set()  # the same names, for searchvar
        self.upvalues: list[tuple[int, int]] = []  # (kind, info)
        self.lines = LineInfoWriter()


# --- instruction fields ------------------------------------------------------

_TESTMODE = tuple(OPMODES[op][0] for op in OpCode)
_MASK_A = 0xFF << POS_A
_MASK_B = 0x1FF << POS_B
_MASK_C = 0x1FF << POS_C
_MASK_BX = MAXARG_BX << POS_BX


def setarg_a(i: int, a: int) -> int:
    return (i & ~_MASK_A) | (a << POS_A)


def setarg_b(i: int, b: int) -> int:
    return (i & ~_MASK_B) | (b << POS_B)


def setarg_c(i: int, c: int) -> int:
    return (i & ~_MASK_C) | (c << POS_C)


def setarg_sbx(i: int, sbx: int) -> int:
    return (i & ~_MASK_BX) | ((sbx + MAXARG_SBX) << POS_BX)


def _getarg_sbx(i: int) -> int:
    return ((i >> POS_BX) & MAXARG_BX) - MAXARG_SBX


# --- emitting ----------------------------------------------------------------


def code(fs: FuncState, i: int, line: int) -> int:
    """luaK_code: append instruction `i` for `line`; returns its pc."""
    if fs.jpc != NO_JUMP:
        dischargejpc(fs)  # `pc' will change
    f = fs.f
    pc = fs.pc
    f.code.append(i)
    f.lineinfo.append(line)
    fs.lines.code(pc, line)
    fs.pc = pc + 1
    return pc


def codeABC(fs: FuncState, o: int, a: int, b: int, c: int) -> int:
    return code(fs, o | (a << POS_A) | (b << POS_B) | (c << POS_C), fs.ls.lastline)


def codeABx(fs: FuncState, o: int, a: int, bx: int) -> int:
    return code(fs, o | (a << POS_A) | (bx << POS_BX), fs.ls.lastline)


def codeAsBx(fs: FuncState, o: int, a: int, sbx: int) -> int:
    return codeABx(fs, o, a, sbx + MAXARG_SBX)


def fixline(fs: FuncState, line: int) -> None:
    """luaK_fixline: move the last instruction to `line`."""
    fs.f.lineinfo[fs.pc - 1] = line
    fs.lines.fixline(line)


def remove_last(fs: FuncState) -> None:
    """`fs->pc--`: drop the last instruction (it is coded again at once)."""
    fs.pc -= 1
    fs.f.code.pop()
    fs.f.lineinfo.pop()


def getcode(fs: FuncState, e: ExpDesc) -> int:
    return fs.f.code[e.info]


def setcode(fs: FuncState, e: ExpDesc, i: int) -> None:
    fs.f.code[e.info] = i


def nil(fs: FuncState, from_: int, n: int) -> None:
    """luaK_nil: set registers from_..from_+n-1 to nil, merging with a previous LOADNIL."""
    if fs.pc > fs.lasttarget:  # no jumps to current position?
        if fs.pc == 0:  # function start?
            if from_ >= fs.nactvar:
                return  # positions are already clean
        else:
            previous = fs.f.code[fs.pc - 1]
            if previous & 0x3F == OP_LOADNIL:
                pfrom = (previous >> POS_A) & 0xFF
                pto = (previous >> POS_B) & 0x1FF
                if pfrom <= from_ <= pto + 1:  # can connect both?
                    if from_ + n - 1 > pto:
                        fs.f.code[fs.pc - 1] = setarg_b(previous, from_ + n - 1)
                    return
    codeABC(fs, OP_LOADNIL, from_, from_ + n - 1, 0)  # else no optimization


def jump(fs: FuncState) -> int:
    jpc = fs.jpc  # save list of jumps to here
    fs.jpc = NO_JUMP
    j = codeAsBx(fs, OP_JMP, 0, NO_JUMP)
    return concat(fs, j, jpc)  # keep them on hold


def ret(fs: FuncState, first: int, nret: int) -> None:
    codeABC(fs, OP_RETURN, first, nret + 1, 0)


def condjump(fs: FuncState, op: int, a: int, b: int, c: int) -> int:
    codeABC(fs, op, a, b, c)
    return jump(fs)


def fixjump(fs: FuncState, pc: int, dest: int) -> None:
    offset = dest - (pc + 1)
    if abs(offset) > MAXARG_SBX:
        raise fs.ls.syntaxerror("control structure too long")
    fs.f.code[pc] = setarg_sbx(fs.f.code[pc], offset)


def getlabel(fs: FuncState) -> int:
    """Current pc, marked as a jump target (no peephole across it)."""
    fs.lasttarget = fs.pc
    return fs.pc


def getjump(fs: FuncState, pc: int) -> int:
    offset = _getarg_sbx(fs.f.code[pc])
    return NO_JUMP if offset == NO_JUMP else pc + 1 + offset


def getjumpcontrol(fs: FuncState, pc: int) -> int:
    """The pc of the instruction controlling the jump at `pc`."""
    if pc >= 1 and _TESTMODE[fs.f.code[pc - 1] & 0x3F]:
        return pc - 1
    return pc


def need_value(fs: FuncState, jlist: int) -> bool:
    """Has the list a jump that does not produce a value (or an inverted one)?"""
    while jlist != NO_JUMP:
        if fs.f.code[getjumpcontrol(fs, jlist)] & 0x3F != OP_TESTSET:
            return True
        jlist = getjump(fs, jlist)
    return False


def patchtestreg(fs: FuncState, node: int, reg: int) -> bool:
    pc = getjumpcontrol(fs, node)
    i = fs.f.code[pc]
    if i & 0x3F != OP_TESTSET:
        return False  # cannot patch other instructions
    b = (i >> POS_B) & 0x1FF
    if reg != NO_REG and reg != b:
        fs.f.code[pc] = setarg_a(i, reg)
    else:  # no register to put value or register already has the value
        fs.f.code[pc] = OP_TEST | (b << POS_A) | (i & _MASK_C)
    return True


def removevalues(fs: FuncState, jlist: int) -> None:
    while jlist != NO_JUMP:
        patchtestreg(fs, jlist, NO_REG)
        jlist = getjump(fs, jlist)


def patchlistaux(fs: FuncState, jlist: int, vtarget: int, reg: int, dtarget: int) -> None:
    fs.tails.pop(jlist, None)  # the list is resolved: its jumps now go to their targets
    while jlist != NO_JUMP:
        nxt = getjump(fs, jlist)
        if patchtestreg(fs, jlist, reg):
            fixjump(fs, jlist, vtarget)
        else:
            fixjump(fs, jlist, dtarget)  # jump to default target
        jlist = nxt


def dischargejpc(fs: FuncState) -> None:
    patchlistaux(fs, fs.jpc, fs.pc, NO_REG, fs.pc)
    fs.jpc = NO_JUMP


def patchlist(fs: FuncState, jlist: int, target: int) -> None:
    if target == fs.pc:
        patchtohere(fs, jlist)
    else:
        patchlistaux(fs, jlist, target, NO_REG, target)


def patchtohere(fs: FuncState, jlist: int) -> None:
    getlabel(fs)
    fs.jpc = concat(fs, fs.jpc, jlist)


def concat(fs: FuncState, l1: int, l2: int) -> int:
    """luaK_concat: append list `l2` to `l1`; returns the new head of `l1`.

    lcode.c walks `l1` from its head to find the last jump, which makes a chain
    of n `or`s (or `elseif`s, or `break`s) cost n^2 steps. The walk starts
    instead from the jump `tails` remembers for `l1`: the last one linked when
    something was last appended. A list only grows at its end until it is
    resolved (`patchlistaux`), so that jump is still in the list and the walk
    from it ends at the same last element, linking the same bytes.
    """
    if l2 == NO_JUMP:
        return l1
    if l1 == NO_JUMP:
        return l2
    tails = fs.tails
    jlist = tails.get(l1, l1)
    while (nxt := getjump(fs, jlist)) != NO_JUMP:  # find last element
        jlist = nxt
    fixjump(fs, jlist, l2)
    tails[l1] = tails.get(l2, l2)
    return l1


# --- registers -----------------------------------------------------------------


def checkstack(fs: FuncState, n: int) -> None:
    newstack = fs.freereg + n
    if newstack > fs.f.maxstacksize:
        if newstack >= MAXSTACK:
            raise fs.ls.syntaxerror("function or expression too complex")
        fs.f.maxstacksize = newstack


def reserveregs(fs: FuncState, n: int) -> None:
    newstack = fs.freereg + n
    if newstack > fs.f.maxstacksize:  # checkstack's test, inlined: this runs per register
        checkstack(fs, n)
    fs.freereg = newstack


def freereg(fs: FuncState, reg: int) -> None:
    if not reg & BITRK and reg >= fs.nactvar:
        fs.freereg -= 1


def freeexp(fs: FuncState, e: ExpDesc) -> None:
    if e.k == VNONRELOC:
        freereg(fs, e.info)


# --- constants -----------------------------------------------------------------


def addk(fs: FuncState, key: object, v: Constant) -> int:
    """Index of constant `v` (found through `key`), adding it if new."""
    idx = fs.h.get(key)
    if idx is not None:
        return idx
    constants = fs.f.constants
    growvector_check(len(constants), MAXARG_BX, "constant table overflow")
    idx = fs.h[key] = len(constants)
    constants.append(v)
    return idx


def stringK(fs: FuncState, s: bytes) -> int:
    idx = fs.h.get(s)  # addk's lookup, inlined: most strings are seen before
    return addk(fs, s, s) if idx is None else idx


def numberK(fs: FuncState, r: float | int) -> int:
    # 0.0 and -0.0 are one key, as in Lua's tables; the first one is kept
    return addk(fs, r, r)


def boolK(fs: FuncState, b: bool) -> int:
    return addk(fs, _TRUE_KEY if b else _FALSE_KEY, b)


def nilK(fs: FuncState) -> int:
    return addk(fs, _NIL_KEY, None)


# --- expressions -----------------------------------------------------------------


def setreturns(fs: FuncState, e: ExpDesc, nresults: int) -> None:
    if e.k == VCALL:  # expression is an open function call?
        setcode(fs, e, setarg_c(getcode(fs, e), nresults + 1))
    elif e.k == VVARARG:
        i = setarg_b(getcode(fs, e), nresults + 1)
        setcode(fs, e, setarg_a(i, fs.freereg))
        reserveregs(fs, 1)


def setmultret(fs: FuncState, e: ExpDesc) -> None:
    setreturns(fs, e, LUA_MULTRET)


def setoneret(fs: FuncState, e: ExpDesc) -> None:
    if e.k == VCALL:  # expression is an open function call?
        e.k = VNONRELOC
        e.info = (getcode(fs, e) >> POS_A) & 0xFF
    elif e.k == VVARARG:
        setcode(fs, e, setarg_b(getcode(fs, e), 2))
        e.k = VRELOCABLE  # can relocate its simple result


def dischargevars(fs: FuncState, e: ExpDesc) -> None:
    k = e.k
    if k == VLOCAL:
        e.k = VNONRELOC
    elif k == VUPVAL:
        e.info = codeABC(fs, OP_GETUPVAL, 0, e.info, 0)
        e.k = VRELOCABLE
    elif k == VGLOBAL:
        e.info = codeABx(fs, OP_GETGLOBAL, 0, e.info)
        e.k = VRELOCABLE
    elif k == VINDEXED:
        freereg(fs, e.aux)
        freereg(fs, e.info)
        e.info = codeABC(fs, OP_GETTABLE, 0, e.info, e.aux)
        e.k = VRELOCABLE
    elif k == VVARARG or k == VCALL:
        setoneret(fs, e)


def code_label(fs: FuncState, a: int, b: int, jump: int) -> int:
    getlabel(fs)  # those instructions may be jump targets
    return codeABC(fs, OP_LOADBOOL, a, b, jump)


def discharge2reg(fs: FuncState, e: ExpDesc, reg: int) -> None:
    dischargevars(fs, e)
    k = e.k
    if k == VNIL:
        nil(fs, reg, 1)
    elif k == VFALSE or k == VTRUE:
        codeABC(fs, OP_LOADBOOL, reg, int(k == VTRUE), 0)
    elif k == VK:
        codeABx(fs, OP_LOADK, reg, e.info)
    elif k == VKNUM:
        codeABx(fs, OP_LOADK, reg, numberK(fs, e.nval))
    elif k == VRELOCABLE:
        setcode(fs, e, setarg_a(getcode(fs, e), reg))
    elif k == VNONRELOC:
        if reg != e.info:
            codeABC(fs, OP_MOVE, reg, e.info, 0)
    else:  # VVOID or VJMP
        return  # nothing to do...
    e.info = reg
    e.k = VNONRELOC


def discharge2anyreg(fs: FuncState, e: ExpDesc) -> None:
    if e.k != VNONRELOC:
        reserveregs(fs, 1)
        discharge2reg(fs, e, fs.freereg - 1)


def exp2reg(fs: FuncState, e: ExpDesc, reg: int) -> None:
    discharge2reg(fs, e, reg)
    if e.k == VJMP:
        e.t = concat(fs, e.t, e.info)  # put this jump in `t' list
    if e.t != e.f:  # hasjumps
        p_f = NO_JUMP  # position of an eventual LOAD false
        p_t = NO_JUMP  # position of an eventual LOAD true
        if need_value(fs, e.t) or need_value(fs, e.f):
            fj = NO_JUMP if e.k == VJMP else jump(fs)
            p_f = code_label(fs, reg, 0, 1)
            p_t = code_label(fs, reg, 1, 0)
            patchtohere(fs, fj)
        final = getlabel(fs)  # position after whole expression
        patchlistaux(fs, e.f, final, reg, p_f)
        patchlistaux(fs, e.t, final, reg, p_t)
    e.f = e.t = NO_JUMP
    e.info = reg
    e.k = VNONRELOC


def exp2nextreg(fs: FuncState, e: ExpDesc) -> None:
    dischargevars(fs, e)
    if e.k == VNONRELOC:  # freeexp
        freereg(fs, e.info)
    reserveregs(fs, 1)
    exp2reg(fs, e, fs.freereg - 1)


def exp2anyreg(fs: FuncState, e: ExpDesc) -> int:
    dischargevars(fs, e)
    if e.k == VNONRELOC:
        if e.t == e.f:  # no jumps: exp is already in a register
            return e.info
        if e.info >= fs.nactvar:  # reg. is not a local?
            exp2reg(fs, e, e.info)  # put value on it
            return e.info
    exp2nextreg(fs, e)  # default
    return e.info


def exp2val(fs: FuncState, e: ExpDesc) -> None:
    if e.t != e.f:
        exp2anyreg(fs, e)
    else:
        dischargevars(fs, e)


def exp2RK(fs: FuncState, e: ExpDesc) -> int:
    exp2val(fs, e)
    k = e.k
    if k == VKNUM or k == VTRUE or k == VFALSE or k == VNIL:
        if len(fs.f.constants) <= MAXINDEXRK:  # constant fit in RK operand?
            if k == VNIL:
                e.info = nilK(fs)
            elif k == VKNUM:
                e.info = numberK(fs, e.nval)
            else:
                e.info = boolK(fs, k == VTRUE)
            e.k = VK
            return e.info | BITRK
    elif k == VK:
        if e.info <= MAXINDEXRK:  # constant fit in argC?
            return e.info | BITRK
    # not a constant in the right range: put it in a register
    return exp2anyreg(fs, e)


def storevar(fs: FuncState, var: ExpDesc, ex: ExpDesc) -> None:
    k = var.k
    if k == VLOCAL:
        freeexp(fs, ex)
        exp2reg(fs, ex, var.info)
        return
    if k == VUPVAL:
        e = exp2anyreg(fs, ex)
        codeABC(fs, OP_SETUPVAL, e, var.info, 0)
    elif k == VGLOBAL:
        e = exp2anyreg(fs, ex)
        codeABx(fs, OP_SETGLOBAL, e, var.info)
    elif k == VINDEXED:
        e = exp2RK(fs, ex)
        codeABC(fs, OP_SETTABLE, var.info, var.aux, e)
    # no other kind reaches here (the parser stores only to variables); a release
    # build of lcode.c would just free `ex`, as this does
    freeexp(fs, ex)


def self_(fs: FuncState, e: ExpDesc, key: ExpDesc) -> None:
    """luaK_self: `e:key` as OP_SELF into two fresh registers."""
    exp2anyreg(fs, e)
    freeexp(fs, e)
    func = fs.freereg
    reserveregs(fs, 2)
    codeABC(fs, OP_SELF, func, e.info, exp2RK(fs, key))
    freeexp(fs, key)
    e.info = func
    e.k = VNONRELOC


def invertjump(fs: FuncState, e: ExpDesc) -> None:
    pc = getjumpcontrol(fs, e.info)
    i = fs.f.code[pc]
    fs.f.code[pc] = setarg_a(i, 0 if (i >> POS_A) & 0xFF else 1)


def jumponcond(fs: FuncState, e: ExpDesc, cond: int) -> int:
    if e.k == VRELOCABLE:
        ie = getcode(fs, e)
        if ie & 0x3F == OP_NOT:
            remove_last(fs)  # remove previous OP_NOT
            return condjump(fs, OP_TEST, (ie >> POS_B) & 0x1FF, 0, int(not cond))
        # else go through
    discharge2anyreg(fs, e)
    freeexp(fs, e)
    return condjump(fs, OP_TESTSET, NO_REG, e.info, cond)


def goiftrue(fs: FuncState, e: ExpDesc) -> None:
    dischargevars(fs, e)
    k = e.k
    if k == VK or k == VKNUM or k == VTRUE:
        pc = NO_JUMP  # always true; do nothing
    elif k == VJMP:
        invertjump(fs, e)
        pc = e.info
    else:
        pc = jumponcond(fs, e, 0)
    e.f = concat(fs, e.f, pc)  # insert last jump in `f' list
    patchtohere(fs, e.t)
    e.t = NO_JUMP


def goiffalse(fs: FuncState, e: ExpDesc) -> None:
    dischargevars(fs, e)
    k = e.k
    if k == VNIL or k == VFALSE:
        pc = NO_JUMP  # always false; do nothing
    elif k == VJMP:
        pc = e.info
    else:
        pc = jumponcond(fs, e, 1)
    e.t = concat(fs, e.t, pc)  # insert last jump in `t' list
    patchtohere(fs, e.f)
    e.f = NO_JUMP


def codenot(fs: FuncState, e: ExpDesc) -> None:
    dischargevars(fs, e)
    k = e.k
    if k == VNIL or k == VFALSE:
        e.k = VTRUE
    elif k == VK or k == VKNUM or k == VTRUE:
        e.k = VFALSE
    elif k == VJMP:
        invertjump(fs, e)
    elif k == VRELOCABLE or k == VNONRELOC:
        discharge2anyreg(fs, e)
        freeexp(fs, e)
        e.info = codeABC(fs, OP_NOT, 0, e.info, 0)
        e.k = VRELOCABLE
    # dischargevars leaves no other kind; lcode.c's release build would go on as this does
    e.f, e.t = e.t, e.f  # interchange true and false lists
    removevalues(fs, e.f)
    removevalues(fs, e.t)


def indexed(fs: FuncState, t: ExpDesc, k: ExpDesc) -> None:
    t.aux = exp2RK(fs, k)
    t.k = VINDEXED


# --- arithmetic ------------------------------------------------------------------


def isnumeral(e: ExpDesc) -> bool:
    return e.k == VKNUM and e.t == NO_JUMP and e.f == NO_JUMP


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def c_pow(x: float, y: float) -> float:
    """C pow(): Python's math.pow raises where C returns an infinity or NaN."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _is_odd_integer(y) else math.inf
    except ValueError:
        if x == 0 and y < 0:  # pole: pow(±0, y<0)
            return -math.inf if math.copysign(1.0, x) < 0 and _is_odd_integer(y) else math.inf
        return math.nan


def c_floor(x: float) -> float:
    """C floor(): keeps infinities and the sign of an integral x (floor(-0.0) is -0.0)."""
    if not math.isfinite(x):
        return x
    f = float(math.floor(x))
    return x if f == x else f


def _fold_float(op: int, v1: float, v2: float) -> float | None:
    if op == OP_ADD:
        return v1 + v2
    if op == OP_SUB:
        return v1 - v2
    if op == OP_MUL:
        return v1 * v2
    if op == OP_DIV:
        return None if v2 == 0 else v1 / v2  # do not attempt to divide by 0
    if op == OP_MOD:
        return None if v2 == 0 else v1 - c_floor(v1 / v2) * v2  # luai_nummod, not fmod
    if op == OP_POW:
        return c_pow(v1, v2)
    if op == OP_UNM:
        return -v1
    return None  # no constant folding for 'len'


def _int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def _int_pow(a: int, b: int) -> int:
    """luai_ipow (lvm.c): square-and-multiply in wrapping int32."""
    if b < 0:
        return 0
    c = 1
    while b:
        if b & 1:
            c = _int32(c * a)
        b >>= 1
        a = _int32(a * a)
    return c


def _fold_int(op: int, v1: int, v2: int) -> int | None:
    if op == OP_ADD:
        return _int32(v1 + v2)
    if op == OP_SUB:
        return _int32(v1 - v2)
    if op == OP_MUL:
        return _int32(v1 * v2)
    if op == OP_DIV or op == OP_MOD:
        if v2 == 0 or (v2 == -1 and v1 == -0x80000000):
            return None  # 0 is never folded; INT_MIN/-1 traps in the reference
        q = abs(v1) // abs(v2) * (1 if (v1 < 0) == (v2 < 0) else -1)  # C truncation
        r = v1 - q * v2
        if (v1 < 0) == (v2 < 0) or r == 0:  # luai_numdiv/luai_nummod: floor semantics
            return q if op == OP_DIV else r
        return q - 1 if op == OP_DIV else r + v2
    if op == OP_POW:
        return _int_pow(v1, v2)
    if op == OP_UNM:
        return _int32(-v1)
    return None


def constfolding(fs: FuncState, op: int, e1: ExpDesc, e2: ExpDesc) -> bool:
    if not isnumeral(e1) or not isnumeral(e2):
        return False
    r: float | int | None
    if fs.integral:
        r = _fold_int(op, cast(int, e1.nval), cast(int, e2.nval))
    else:
        r = _fold_float(op, e1.nval, e2.nval)
        if r is not None and r != r:
            return False  # do not attempt to produce NaN
    if r is None:
        return False
    e1.nval = r
    return True


def codearith(fs: FuncState, op: int, e1: ExpDesc, e2: ExpDesc) -> None:
    if constfolding(fs, op, e1, e2):
        return
    o2 = exp2RK(fs, e2) if op != OP_UNM and op != OP_LEN else 0
    o1 = exp2RK(fs, e1)
    if o1 > o2:
        freeexp(fs, e1)
        freeexp(fs, e2)
    else:
        freeexp(fs, e2)
        freeexp(fs, e1)
    e1.info = codeABC(fs, op, 0, o1, o2)
    e1.k = VRELOCABLE


def codecomp(fs: FuncState, op: int, cond: int, e1: ExpDesc, e2: ExpDesc) -> None:
    o1 = exp2RK(fs, e1)
    o2 = exp2RK(fs, e2)
    freeexp(fs, e2)
    freeexp(fs, e1)
    if cond == 0 and op != OP_EQ:
        o1, o2 = o2, o1  # exchange args to replace by `<' or `<='
        cond = 1
    e1.info = condjump(fs, op, cond, o1, o2)
    e1.k = VJMP


def prefix(fs: FuncState, op: int, e: ExpDesc) -> None:
    e2 = ExpDesc(VKNUM)
    e2.nval = 0 if fs.integral else 0.0
    if op == OPR_MINUS:
        if not isnumeral(e):
            exp2anyreg(fs, e)  # cannot operate on non-numeric constants
        codearith(fs, OP_UNM, e, e2)
    elif op == OPR_NOT:
        codenot(fs, e)
    else:
        exp2anyreg(fs, e)  # cannot operate on constants
        codearith(fs, OP_LEN, e, e2)


def infix(fs: FuncState, op: int, v: ExpDesc) -> None:
    if op == OPR_AND:
        goiftrue(fs, v)
    elif op == OPR_OR:
        goiffalse(fs, v)
    elif op == OPR_CONCAT:
        exp2nextreg(fs, v)  # operand must be on the `stack'
    elif op <= OPR_POW:
        if not isnumeral(v):
            exp2RK(fs, v)
    else:
        exp2RK(fs, v)


_ARITH = (OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW)
_COMPARE = {
    OPR_EQ: (OP_EQ, 1),
    OPR_NE: (OP_EQ, 0),
    OPR_LT: (OP_LT, 1),
    OPR_LE: (OP_LE, 1),
    OPR_GT: (OP_LT, 0),
    OPR_GE: (OP_LE, 0),
}


def posfix(fs: FuncState, op: int, e1: ExpDesc, e2: ExpDesc) -> None:
    if op == OPR_AND:
        dischargevars(fs, e2)
        e2.f = concat(fs, e2.f, e1.f)
        e1.assign(e2)
    elif op == OPR_OR:
        dischargevars(fs, e2)
        e2.t = concat(fs, e2.t, e1.t)
        e1.assign(e2)
    elif op == OPR_CONCAT:
        exp2val(fs, e2)
        if e2.k == VRELOCABLE and getcode(fs, e2) & 0x3F == OP_CONCAT:
            i = getcode(fs, e2)
            freeexp(fs, e1)
            setcode(fs, e2, setarg_b(i, e1.info))
            e1.k = VRELOCABLE
            e1.info = e2.info
        else:
            exp2nextreg(fs, e2)  # operand must be on the 'stack'
            codearith(fs, OP_CONCAT, e1, e2)
    elif op <= OPR_POW:
        codearith(fs, _ARITH[op], e1, e2)
    else:
        opcode, cond = _COMPARE[op]
        codecomp(fs, opcode, cond, e1, e2)


def setlist(fs: FuncState, base: int, nelems: int, tostore: int) -> None:
    c = (nelems - 1) // LFIELDS_PER_FLUSH + 1
    b = 0 if tostore == LUA_MULTRET else tostore
    if c <= MAXARG_C:
        codeABC(fs, OP_SETLIST, base, b, c)
    else:
        codeABC(fs, OP_SETLIST, base, b, 0)
        code(fs, c, fs.ls.lastline)
    fs.freereg = base + 1  # free registers with list values
