"""Lua 5.3 code generator, as NodeMCU's app/lua53 `lcode.c` (names without `luaK_`).

Expressions are `ExpDesc`s whose kind says what the fields hold (lparser.h):

- VK: `info` = constant index; VKFLT: `nval`; VKINT: `ival`;
- VNONRELOC: `info` = result register; VLOCAL: `info` = local register;
- VUPVAL: `info` = upvalue index;
- VINDEXED: `ind_t` = table register or upvalue, `ind_idx` = key RK,
  `ind_vt` = VLOCAL or VUPVAL (where the table is);
- VJMP: `info` = pc of the jump; VRELOCABLE: `info` = pc of the instruction
  whose A is still to be set; VCALL, VVARARG: `info` = pc of the instruction.

`t`/`f` are the patch lists of the expression's exits when true/false,
threaded through the jumps' sBx fields and ending in NO_JUMP. Every
instruction goes through `code()`, which logs its line in NodeMCU's packed
line info (`LineInfoWriter`). Constant folding runs in the target's types.
"""

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from typing import Final

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
from lfs_format.lua53.lineinfo import LineInfoWriter
from lfs_format.lua53.opcodes import (
    LFIELDS_PER_FLUSH,
    MAXARG_AX,
    MAXREGS,
    OP_ADD,
    OP_CONCAT,
    OP_EQ,
    OP_EXTRAARG,
    OP_GETTABLE,
    OP_GETTABUP,
    OP_GETUPVAL,
    OP_JMP,
    OP_LOADBOOL,
    OP_LOADK,
    OP_LOADKX,
    OP_LOADNIL,
    OP_MOVE,
    OP_NOT,
    OP_RETURN,
    OP_SELF,
    OP_SETLIST,
    OP_SETTABLE,
    OP_SETTABUP,
    OP_SETUPVAL,
    OP_TEST,
    OP_TESTSET,
    OP_UNM,
    OPMODES,
)
from lfs_format.lua53.proto import Constant, Proto
from lfs_format.target import Lua53Target
from luacross.lua53.lexer import LexState, LuaSyntaxError, to_float32

NO_JUMP: Final = -1
LUA_MULTRET: Final = -1

# expkind (lparser.h), in order: VLOCAL..VINDEXED are variables
VVOID: Final = 0
VNIL: Final = 1
VTRUE: Final = 2
VFALSE: Final = 3
VK: Final = 4
VKFLT: Final = 5
VKINT: Final = 6
VNONRELOC: Final = 7
VLOCAL: Final = 8
VUPVAL: Final = 9
VINDEXED: Final = 10
VJMP: Final = 11
VRELOCABLE: Final = 12
VCALL: Final = 13
VVARARG: Final = 14

# BinOpr (lcode.h), ORDER OPR
OPR_ADD: Final = 0
OPR_SUB: Final = 1
OPR_MUL: Final = 2
OPR_MOD: Final = 3
OPR_POW: Final = 4
OPR_DIV: Final = 5
OPR_IDIV: Final = 6
OPR_BAND: Final = 7
OPR_BOR: Final = 8
OPR_BXOR: Final = 9
OPR_SHL: Final = 10
OPR_SHR: Final = 11
OPR_CONCAT: Final = 12
OPR_EQ: Final = 13
OPR_LT: Final = 14
OPR_LE: Final = 15
OPR_NE: Final = 16
OPR_GT: Final = 17
OPR_GE: Final = 18
OPR_AND: Final = 19
OPR_OR: Final = 20
OPR_NOBINOPR: Final = 21

# UnOpr (lcode.h)
OPR_MINUS: Final = 0
OPR_BNOT: Final = 1
OPR_NOT: Final = 2
OPR_LEN: Final = 3
OPR_NOUNOPR: Final = 4

# lua.h LUA_OP* (arithmetic operators of luaO_arith), ORDER as BinOpr + UNM, BNOT
LUA_OPADD: Final = 0
LUA_OPSUB: Final = 1
LUA_OPMUL: Final = 2
LUA_OPMOD: Final = 3
LUA_OPPOW: Final = 4
LUA_OPDIV: Final = 5
LUA_OPIDIV: Final = 6
LUA_OPBAND: Final = 7
LUA_OPBOR: Final = 8
LUA_OPBXOR: Final = 9
LUA_OPSHL: Final = 10
LUA_OPSHR: Final = 11
LUA_OPUNM: Final = 12
LUA_OPBNOT: Final = 13

_MASK_A: Final = 0xFF << POS_A
_MASK_B: Final = 0x1FF << POS_B
_MASK_C: Final = 0x1FF << POS_C
_MASK_BX: Final = 0x3FFFF << POS_BX


class ExpDesc:
    """expdesc: an expression not yet (fully) placed in a register."""

    __slots__ = ("k", "info", "ival", "nval", "ind_t", "ind_idx", "ind_vt", "t", "f")

    def __init__(self, k: int = VVOID, info: int = 0) -> None:
        self.k = k
        self.info = info
        self.ival = 0
        self.nval = 0.0
        self.ind_t = 0
        self.ind_idx = 0
        self.ind_vt = 0
        self.t = NO_JUMP
        self.f = NO_JUMP

    def init(self, k: int, info: int) -> None:
        """init_exp"""
        self.f = self.t = NO_JUMP
        self.k = k
        self.info = info

    def assign(self, o: "ExpDesc") -> None:
        """`*self = *o`"""
        self.k, self.info, self.ival, self.nval = o.k, o.info, o.ival, o.nval
        self.ind_t, self.ind_idx, self.ind_vt = o.ind_t, o.ind_idx, o.ind_vt
        self.t, self.f = o.t, o.f


def growvector_error(what: str, limit: int) -> LuaSyntaxError:
    """luaM_growaux_'s error: a runtime error raised from C, so without position."""
    return LuaSyntaxError(f"too many {what} (limit is {limit})")


class BlockCnt:
    """A block being compiled (lparser.c BlockCnt)."""

    __slots__ = ("previous", "firstlabel", "firstgoto", "nactvar", "upval", "isloop")

    def __init__(self) -> None:
        self.previous: BlockCnt | None = None
        self.firstlabel = 0
        self.firstgoto = 0
        self.nactvar = 0
        self.upval = False
        self.isloop = False


class FuncState:
    """The state of one function being compiled (lparser.h FuncState).

    `actvar` maps active local i to its name (names live here only: NodeMCU
    drops them from the proto). `kcache` is the scanner table shared by every
    function of the chunk (lcode.c addk): a key's last constant index, which
    another function may have set.
    """

    __slots__ = (
        "f", "prev", "ls", "bl", "pc", "lasttarget", "jpc", "nk", "np", "nactvar", "nlocvars",
        "firstlocal", "freereg", "code", "k", "lineinfo", "kcache", "upnames", "target",
        "syntaxerror",
    )  # fmt: skip

    def __init__(
        self,
        f: Proto,
        ls: LexState,
        kcache: dict[object, int],
        target: Lua53Target,
        syntaxerror: Callable[[str], Exception],
    ) -> None:
        self.f = f
        self.prev: FuncState | None = None
        self.ls = ls
        self.bl: BlockCnt | None = None
        self.pc = 0
        self.lasttarget = 0
        self.jpc = NO_JUMP
        self.nk = 0
        self.np = 0
        self.nactvar = 0
        self.nlocvars = 0  # locals ever declared (registerlocalvar)
        self.firstlocal = 0
        self.freereg = 0
        self.code = f.code
        self.k = f.constants
        self.lineinfo = LineInfoWriter()
        self.kcache = kcache
        self.upnames: list[bytes] = []
        self.target = target
        self.syntaxerror = syntaxerror

    # --- emitting -------------------------------------------------------------

    def code_(self, i: int, line: int) -> int:
        """luaK_code: emit `i` for source `line` (ls->lastline)."""
        if self.jpc != NO_JUMP:
            self.dischargejpc()
        pc = self.pc
        code = self.code
        if pc < len(code):
            code[pc] = i
            del code[pc + 1 :]
        else:
            code.append(i)
        self.lineinfo.add(pc, line)
        self.pc = pc + 1
        return pc

    def fixline(self, line: int) -> None:
        """luaK_addlineinfo(fs, fs->pc - 1, line)"""
        self.lineinfo.add(self.pc - 1, line)

    def code_abc(self, o: int, a: int, b: int, c: int) -> int:
        return self.code_(o | (a << POS_A) | (b << POS_B) | (c << POS_C), self.ls.lastline)

    def code_abx(self, o: int, a: int, bc: int) -> int:
        return self.code_(o | (a << POS_A) | (bc << POS_BX), self.ls.lastline)

    def code_asbx(self, o: int, a: int, sbx: int) -> int:
        return self.code_abx(o, a, sbx + MAXARG_SBX)

    def codeextraarg(self, a: int) -> int:
        return self.code_(OP_EXTRAARG | (a << POS_A), self.ls.lastline)

    def codek(self, reg: int, k: int) -> int:
        if k <= MAXARG_BX:
            return self.code_abx(OP_LOADK, reg, k)
        p = self.code_abx(OP_LOADKX, reg, 0)
        self.codeextraarg(k)
        return p

    def nil(self, from_: int, n: int) -> None:
        """luaK_nil: LOADNIL, merged with a previous one when ranges connect."""
        last = from_ + n - 1
        if self.pc > self.lasttarget:
            previous = self.code[self.pc - 1]
            if previous & 0x3F == OP_LOADNIL:
                pfrom = (previous >> POS_A) & 0xFF
                pl = pfrom + ((previous >> POS_B) & 0x1FF)
                if (pfrom <= from_ <= pl + 1) or (from_ <= pfrom <= last + 1):
                    if pfrom < from_:
                        from_ = pfrom
                    if pl > last:
                        last = pl
                    previous = (previous & ~_MASK_A) | ((from_ & 0xFF) << POS_A)
                    previous = (previous & ~_MASK_B) | (((last - from_) & 0x1FF) << POS_B)
                    self.code[self.pc - 1] = previous
                    return
        self.code_abc(OP_LOADNIL, from_, n - 1, 0)

    def ret(self, first: int, nret: int) -> None:
        self.code_abc(OP_RETURN, first, nret + 1, 0)

    # --- jumps ------------------------------------------------------------------

    def getjump(self, pc: int) -> int:
        offset = ((self.code[pc] >> POS_BX) & 0x3FFFF) - MAXARG_SBX
        return NO_JUMP if offset == NO_JUMP else pc + 1 + offset

    def fixjump(self, pc: int, dest: int) -> None:
        offset = dest - (pc + 1)
        if abs(offset) > MAXARG_SBX:
            raise self.syntaxerror("control structure too long")
        i = self.code[pc]
        self.code[pc] = (i & ~_MASK_BX) | (((offset + MAXARG_SBX) & 0x3FFFF) << POS_BX)

    def concat(self, l1: int, l2: int) -> int:
        """luaK_concat: returns the new l1."""
        if l2 == NO_JUMP:
            return l1
        if l1 == NO_JUMP:
            return l2
        lst = l1
        while True:
            nxt = self.getjump(lst)
            if nxt == NO_JUMP:
                break
            lst = nxt
        self.fixjump(lst, l2)
        return l1

    def jump(self) -> int:
        jpc = self.jpc
        self.jpc = NO_JUMP
        j = self.code_asbx(OP_JMP, 0, NO_JUMP)
        return self.concat(j, jpc)

    def condjump(self, op: int, a: int, b: int, c: int) -> int:
        self.code_abc(op, a, b, c)
        return self.jump()

    def getlabel(self) -> int:
        self.lasttarget = self.pc
        return self.pc

    def getjumpcontrol(self, pc: int) -> int:
        if pc >= 1 and OPMODES[self.code[pc - 1] & 0x3F] & 0x80:
            return pc - 1
        return pc

    def patchtestreg(self, node: int, reg: int) -> bool:
        at = self.getjumpcontrol(node)
        i = self.code[at]
        if i & 0x3F != OP_TESTSET:
            return False
        b = (i >> POS_B) & 0x1FF
        if reg != NO_REG and reg != b:
            self.code[at] = (i & ~_MASK_A) | ((reg & 0xFF) << POS_A)
        else:
            c = (i >> POS_C) & 0x1FF
            self.code[at] = OP_TEST | ((b & 0xFF) << POS_A) | (c << POS_C)
        return True

    def removevalues(self, lst: int) -> None:
        while lst != NO_JUMP:
            self.patchtestreg(lst, NO_REG)
            lst = self.getjump(lst)

    def patchlistaux(self, lst: int, vtarget: int, reg: int, dtarget: int) -> None:
        while lst != NO_JUMP:
            nxt = self.getjump(lst)
            if self.patchtestreg(lst, reg):
                self.fixjump(lst, vtarget)
            else:
                self.fixjump(lst, dtarget)
            lst = nxt

    def dischargejpc(self) -> None:
        if self.jpc != NO_JUMP:
            self.patchlistaux(self.jpc, self.pc, NO_REG, self.pc)
            self.jpc = NO_JUMP

    def patchtohere(self, lst: int) -> None:
        self.getlabel()
        self.jpc = self.concat(self.jpc, lst)

    def patchlist(self, lst: int, target: int) -> None:
        if target == self.pc:
            self.patchtohere(lst)
        else:
            self.patchlistaux(lst, target, NO_REG, target)

    def patchclose(self, lst: int, level: int) -> None:
        level += 1
        while lst != NO_JUMP:
            i = self.code[lst]
            self.code[lst] = (i & ~_MASK_A) | ((level & 0xFF) << POS_A)
            lst = self.getjump(lst)

    def jumpto(self, t: int) -> None:
        self.patchlist(self.jump(), t)

    # --- registers --------------------------------------------------------------

    def checkstack(self, n: int) -> None:
        newstack = self.freereg + n
        if newstack > self.f.maxstacksize:
            if newstack >= MAXREGS:
                raise self.syntaxerror("function or expression needs too many registers")
            self.f.maxstacksize = newstack

    def reserveregs(self, n: int) -> None:
        self.checkstack(n)
        self.freereg += n

    def freereg_(self, reg: int) -> None:
        if not reg & BITRK and reg >= self.nactvar:
            self.freereg -= 1

    def freeexp(self, e: ExpDesc) -> None:
        if e.k == VNONRELOC:
            self.freereg_(e.info)

    def freeexps(self, e1: ExpDesc, e2: ExpDesc) -> None:
        r1 = e1.info if e1.k == VNONRELOC else -1
        r2 = e2.info if e2.k == VNONRELOC else -1
        if r1 > r2:
            self.freereg_(r1)
            self.freereg_(r2)
        else:
            self.freereg_(r2)
            self.freereg_(r1)

    # --- constants --------------------------------------------------------------

    def addk(self, key: object, v: Constant) -> int:
        idx = self.kcache.get(key)
        k = self.k
        if idx is not None and idx < self.nk:
            old = k[idx]
            if type(old) is type(v) and old == v:
                return idx
        n = self.nk
        self.kcache[key] = n
        if n >= MAXARG_AX:
            raise growvector_error("constants", MAXARG_AX)
        if n < len(k):
            k[n] = v
        else:
            k.append(v)
        self.nk = n + 1
        return n

    def stringk(self, s: bytes) -> int:
        return self.addk(s, s)

    def intk(self, n: int) -> int:
        return self.addk(("i", n), n)

    def numberk(self, r: float) -> int:
        # a float key with an integral value is stored under that integer
        # (luaH_set), apart from the integers' own (pointer) keys
        key: object = ("f", r + 0.0)
        if r.is_integer():
            key = ("n", int(r))
        return self.addk(key, r)

    def boolk(self, b: bool) -> int:
        return self.addk(("b", b), b)

    def nilk(self) -> int:
        return self.addk(("nil",), None)

    # --- expressions --------------------------------------------------------------

    def setreturns(self, e: ExpDesc, nresults: int) -> None:
        if e.k == VCALL:
            i = self.code[e.info]
            self.code[e.info] = (i & ~_MASK_C) | (((nresults + 1) & 0x1FF) << POS_C)
        elif e.k == VVARARG:
            i = self.code[e.info]
            i = (i & ~_MASK_B) | (((nresults + 1) & 0x1FF) << POS_B)
            i = (i & ~_MASK_A) | ((self.freereg & 0xFF) << POS_A)
            self.code[e.info] = i
            self.reserveregs(1)

    def setmultret(self, e: ExpDesc) -> None:
        self.setreturns(e, LUA_MULTRET)

    def setoneret(self, e: ExpDesc) -> None:
        if e.k == VCALL:
            e.k = VNONRELOC
            e.info = (self.code[e.info] >> POS_A) & 0xFF
        elif e.k == VVARARG:
            i = self.code[e.info]
            self.code[e.info] = (i & ~_MASK_B) | (2 << POS_B)
            e.k = VRELOCABLE

    def dischargevars(self, e: ExpDesc) -> None:
        k = e.k
        if k == VLOCAL:
            e.k = VNONRELOC
        elif k == VUPVAL:
            e.info = self.code_abc(OP_GETUPVAL, 0, e.info, 0)
            e.k = VRELOCABLE
        elif k == VINDEXED:
            self.freereg_(e.ind_idx)
            if e.ind_vt == VLOCAL:
                self.freereg_(e.ind_t)
                op = OP_GETTABLE
            else:
                op = OP_GETTABUP
            e.info = self.code_abc(op, 0, e.ind_t, e.ind_idx)
            e.k = VRELOCABLE
        elif k == VVARARG or k == VCALL:
            self.setoneret(e)

    def discharge2reg(self, e: ExpDesc, reg: int) -> None:
        self.dischargevars(e)
        k = e.k
        if k == VNIL:
            self.nil(reg, 1)
        elif k == VFALSE or k == VTRUE:
            self.code_abc(OP_LOADBOOL, reg, 1 if k == VTRUE else 0, 0)
        elif k == VK:
            self.codek(reg, e.info)
        elif k == VKFLT:
            self.codek(reg, self.numberk(e.nval))
        elif k == VKINT:
            self.codek(reg, self.intk(e.ival))
        elif k == VRELOCABLE:
            i = self.code[e.info]
            self.code[e.info] = (i & ~_MASK_A) | ((reg & 0xFF) << POS_A)
        elif k == VNONRELOC:
            if reg != e.info:
                self.code_abc(OP_MOVE, reg, e.info, 0)
        else:
            return  # VJMP: nothing to do
        e.info = reg
        e.k = VNONRELOC

    def discharge2anyreg(self, e: ExpDesc) -> None:
        if e.k != VNONRELOC:
            self.reserveregs(1)
            self.discharge2reg(e, self.freereg - 1)

    def code_loadbool(self, a: int, b: int, jump: int) -> int:
        self.getlabel()
        return self.code_abc(OP_LOADBOOL, a, b, jump)

    def need_value(self, lst: int) -> bool:
        while lst != NO_JUMP:
            if self.code[self.getjumpcontrol(lst)] & 0x3F != OP_TESTSET:
                return True
            lst = self.getjump(lst)
        return False

    def exp2reg(self, e: ExpDesc, reg: int) -> None:
        self.discharge2reg(e, reg)
        if e.k == VJMP:
            e.t = self.concat(e.t, e.info)
        if e.t != e.f:
            p_f = p_t = NO_JUMP
            if self.need_value(e.t) or self.need_value(e.f):
                fj = NO_JUMP if e.k == VJMP else self.jump()
                p_f = self.code_loadbool(reg, 0, 1)
                p_t = self.code_loadbool(reg, 1, 0)
                self.patchtohere(fj)
            final = self.getlabel()
            self.patchlistaux(e.f, final, reg, p_f)
            self.patchlistaux(e.t, final, reg, p_t)
        e.f = e.t = NO_JUMP
        e.info = reg
        e.k = VNONRELOC

    def exp2nextreg(self, e: ExpDesc) -> None:
        self.dischargevars(e)
        self.freeexp(e)
        self.reserveregs(1)
        self.exp2reg(e, self.freereg - 1)

    def exp2anyreg(self, e: ExpDesc) -> int:
        self.dischargevars(e)
        if e.k == VNONRELOC:
            if e.t == e.f:
                return e.info
            if e.info >= self.nactvar:
                self.exp2reg(e, e.info)
                return e.info
        self.exp2nextreg(e)
        return e.info

    def exp2anyregup(self, e: ExpDesc) -> None:
        if e.k != VUPVAL or e.t != e.f:
            self.exp2anyreg(e)

    def exp2val(self, e: ExpDesc) -> None:
        if e.t != e.f:
            self.exp2anyreg(e)
        else:
            self.dischargevars(e)

    def exp2rk(self, e: ExpDesc) -> int:
        self.exp2val(e)
        k = e.k
        if k == VTRUE:
            e.info = self.boolk(True)
        elif k == VFALSE:
            e.info = self.boolk(False)
        elif k == VNIL:
            e.info = self.nilk()
        elif k == VKINT:
            e.info = self.intk(e.ival)
        elif k == VKFLT:
            e.info = self.numberk(e.nval)
        elif k != VK:
            return self.exp2anyreg(e)
        e.k = VK
        if e.info <= MAXINDEXRK:
            return e.info | BITRK
        return self.exp2anyreg(e)

    def storevar(self, var: ExpDesc, ex: ExpDesc) -> None:
        k = var.k
        if k == VLOCAL:
            self.freeexp(ex)
            self.exp2reg(ex, var.info)
            return
        if k == VUPVAL:
            e = self.exp2anyreg(ex)
            self.code_abc(OP_SETUPVAL, e, var.info, 0)
        elif k == VINDEXED:
            op = OP_SETTABLE if var.ind_vt == VLOCAL else OP_SETTABUP
            e = self.exp2rk(ex)
            self.code_abc(op, var.ind_t, var.ind_idx, e)
        self.freeexp(ex)

    def self_(self, e: ExpDesc, key: ExpDesc) -> None:
        self.exp2anyreg(e)
        ereg = e.info
        self.freeexp(e)
        e.info = self.freereg
        e.k = VNONRELOC
        self.reserveregs(2)
        self.code_abc(OP_SELF, e.info, ereg, self.exp2rk(key))
        self.freeexp(key)

    def negatecondition(self, e: ExpDesc) -> None:
        at = self.getjumpcontrol(e.info)
        i = self.code[at]
        a = (i >> POS_A) & 0xFF
        self.code[at] = (i & ~_MASK_A) | ((0 if a else 1) << POS_A)

    def jumponcond(self, e: ExpDesc, cond: int) -> int:
        if e.k == VRELOCABLE:
            ie = self.code[e.info]
            if ie & 0x3F == OP_NOT:
                self.pc -= 1  # remove the previous OP_NOT
                return self.condjump(OP_TEST, (ie >> POS_B) & 0x1FF, 0, 0 if cond else 1)
        self.discharge2anyreg(e)
        self.freeexp(e)
        return self.condjump(OP_TESTSET, NO_REG, e.info, cond)

    def goiftrue(self, e: ExpDesc) -> None:
        self.dischargevars(e)
        k = e.k
        if k == VJMP:
            self.negatecondition(e)
            pc = e.info
        elif k == VK or k == VKFLT or k == VKINT or k == VTRUE:
            pc = NO_JUMP
        else:
            pc = self.jumponcond(e, 0)
        e.f = self.concat(e.f, pc)
        self.patchtohere(e.t)
        e.t = NO_JUMP

    def goiffalse(self, e: ExpDesc) -> None:
        self.dischargevars(e)
        k = e.k
        if k == VJMP:
            pc = e.info
        elif k == VNIL or k == VFALSE:
            pc = NO_JUMP
        else:
            pc = self.jumponcond(e, 1)
        e.t = self.concat(e.t, pc)
        self.patchtohere(e.f)
        e.f = NO_JUMP

    def codenot(self, e: ExpDesc) -> None:
        self.dischargevars(e)
        k = e.k
        if k == VNIL or k == VFALSE:
            e.k = VTRUE
        elif k == VK or k == VKFLT or k == VKINT or k == VTRUE:
            e.k = VFALSE
        elif k == VJMP:
            self.negatecondition(e)
        elif k == VRELOCABLE or k == VNONRELOC:
            self.discharge2anyreg(e)
            self.freeexp(e)
            e.info = self.code_abc(OP_NOT, 0, e.info, 0)
            e.k = VRELOCABLE
        e.f, e.t = e.t, e.f
        self.removevalues(e.f)
        self.removevalues(e.t)

    def indexed(self, t: ExpDesc, k: ExpDesc) -> None:
        t.ind_t = t.info & 0xFF
        t.ind_idx = self.exp2rk(k)
        t.ind_vt = VUPVAL if t.k == VUPVAL else VLOCAL
        t.k = VINDEXED

    # --- operators ----------------------------------------------------------------

    def constfolding(self, op: int, e1: ExpDesc, e2: ExpDesc) -> bool:
        if e1.t != e1.f or e2.t != e2.f:
            return False
        k1, k2 = e1.k, e2.k
        if k1 == VKINT:
            v1: int | float = e1.ival
        elif k1 == VKFLT:
            v1 = e1.nval
        else:
            return False
        if k2 == VKINT:
            v2: int | float = e2.ival
        elif k2 == VKFLT:
            v2 = e2.nval
        else:
            return False
        res = arith(self.target, op, v1, v2)
        if res is None:
            return False
        if isinstance(res, int):
            e1.k = VKINT
            e1.ival = res
        else:
            if res != res or res == 0:
                return False
            e1.k = VKFLT
            e1.nval = res
        return True

    def codeunexpval(self, op: int, e: ExpDesc, line: int) -> None:
        r = self.exp2anyreg(e)
        self.freeexp(e)
        e.info = self.code_abc(op, 0, r, 0)
        e.k = VRELOCABLE
        self.fixline(line)

    def codebinexpval(self, op: int, e1: ExpDesc, e2: ExpDesc, line: int) -> None:
        rk2 = self.exp2rk(e2)
        rk1 = self.exp2rk(e1)
        self.freeexps(e1, e2)
        e1.info = self.code_abc(op, 0, rk1, rk2)
        e1.k = VRELOCABLE
        self.fixline(line)

    def codecomp(self, opr: int, e1: ExpDesc, e2: ExpDesc) -> None:
        rk1 = e1.info | BITRK if e1.k == VK else e1.info
        rk2 = self.exp2rk(e2)
        self.freeexps(e1, e2)
        if opr == OPR_NE:
            e1.info = self.condjump(OP_EQ, 0, rk1, rk2)
        elif opr == OPR_GT or opr == OPR_GE:
            e1.info = self.condjump(opr - OPR_NE + OP_EQ, 1, rk2, rk1)
        else:
            e1.info = self.condjump(opr - OPR_EQ + OP_EQ, 1, rk1, rk2)
        e1.k = VJMP

    def prefix(self, op: int, e: ExpDesc, line: int) -> None:
        if op == OPR_MINUS or op == OPR_BNOT:
            ef = ExpDesc(VKINT, 0)
            if self.constfolding(op + LUA_OPUNM, e, ef):
                return
            self.codeunexpval(op + OP_UNM, e, line)
        elif op == OPR_LEN:
            self.codeunexpval(op + OP_UNM, e, line)
        else:
            self.codenot(e)

    def infix(self, op: int, v: ExpDesc) -> None:
        if op == OPR_AND:
            self.goiftrue(v)
        elif op == OPR_OR:
            self.goiffalse(v)
        elif op == OPR_CONCAT:
            self.exp2nextreg(v)
        elif op <= OPR_SHR:
            if not ((v.k == VKINT or v.k == VKFLT) and v.t == v.f):
                self.exp2rk(v)
        else:
            self.exp2rk(v)

    def posfix(self, op: int, e1: ExpDesc, e2: ExpDesc, line: int) -> None:
        if op == OPR_AND:
            self.dischargevars(e2)
            e2.f = self.concat(e2.f, e1.f)
            e1.assign(e2)
        elif op == OPR_OR:
            self.dischargevars(e2)
            e2.t = self.concat(e2.t, e1.t)
            e1.assign(e2)
        elif op == OPR_CONCAT:
            self.exp2val(e2)
            if e2.k == VRELOCABLE and self.code[e2.info] & 0x3F == OP_CONCAT:
                self.freeexp(e1)
                i = self.code[e2.info]
                self.code[e2.info] = (i & ~_MASK_B) | ((e1.info & 0x1FF) << POS_B)
                e1.k = VRELOCABLE
                e1.info = e2.info
            else:
                self.exp2nextreg(e2)
                self.codebinexpval(OP_CONCAT, e1, e2, line)
        elif op <= OPR_SHR:
            if not self.constfolding(op + LUA_OPADD, e1, e2):
                self.codebinexpval(op + OP_ADD, e1, e2, line)
        else:
            self.codecomp(op, e1, e2)

    def setlist(self, base: int, nelems: int, tostore: int) -> None:
        c = (nelems - 1) // LFIELDS_PER_FLUSH + 1
        b = 0 if tostore == LUA_MULTRET else tostore
        if c <= MAXARG_C:
            self.code_abc(OP_SETLIST, base, b, c)
        elif c <= MAXARG_AX:
            self.code_abc(OP_SETLIST, base, b, 0)
            self.codeextraarg(c)
        else:
            raise self.syntaxerror("constructor too long")
        self.freereg = base + 1


# --- constant folding in the target's types (lobject.c luaO_arith) ---------------


def _load_libm() -> tuple[Callable[[float, float], float], Callable[[float, float], float]]:
    """C's powf and pow (glibc's, as the reference uses), or Python stand-ins."""
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        powf = libm.powf
        powf.restype = ctypes.c_float
        powf.argtypes = (ctypes.c_float, ctypes.c_float)
        pow_ = libm.pow
        pow_.restype = ctypes.c_double
        pow_.argtypes = (ctypes.c_double, ctypes.c_double)
        return powf, pow_
    except (OSError, AttributeError):  # pragma: no cover - no C library
        return _py_pow, _py_pow


def _py_pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        odd = b.is_integer() and int(b) % 2 == 1
        return -math.inf if a < 0 and odd else math.inf
    except ValueError:
        if a == 0:
            odd = b.is_integer() and int(b) % 2 == 1
            return -math.inf if odd and math.copysign(1, a) < 0 else math.inf
        return math.nan


_POWF, _POW = _load_libm()


_to_f32 = to_float32


def _wrap(x: int, bits: int) -> int:
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def _tointeger(v: int | float, bits: int) -> int | None:
    """luaV_tointeger in mode 0: exact integral values in range only."""
    if isinstance(v, int):
        return v
    if v != v or v in (math.inf, -math.inf) or not v.is_integer():
        return None
    n = int(v)
    lim = 1 << (bits - 1)
    return n if -lim <= n < lim else None


def _tonumber(v: int | float, single: bool) -> float:
    if isinstance(v, int):
        return _int_to_f32(v) if single else float(v)
    return v


def _int_to_f32(v: int) -> float:
    """`(float)i`: one rounding to single precision, also for the 64-bit
    integers of the ESP32 int64/float build (via a double it could round twice)."""
    n = abs(v)
    if n <= 1 << 53:
        return _to_f32(float(v))
    shift = n.bit_length() - 24
    q, r = divmod(n, 1 << shift)
    half = 1 << (shift - 1)
    if r > half or (r == half and q & 1):
        q += 1
    return math.copysign(float(q << shift), v)


def arith(target: Lua53Target, op: int, v1: int | float, v2: int | float) -> int | float | None:
    """validop + luaO_arith over two numerals: the result, or None if not foldable."""
    bits = 8 * target.int_size
    single = target.float_size == 4
    if LUA_OPBAND <= op <= LUA_OPSHR or op == LUA_OPBNOT:
        i1 = _tointeger(v1, bits)
        i2 = _tointeger(v2, bits)
        if i1 is None or i2 is None:
            return None
        return _intarith(op, i1, i2, bits)
    if op == LUA_OPDIV or op == LUA_OPIDIV or op == LUA_OPMOD:
        if _tonumber(v2, single) == 0:
            return None
    if op != LUA_OPDIV and op != LUA_OPPOW and isinstance(v1, int) and isinstance(v2, int):
        return _intarith(op, v1, v2, bits)
    n1 = _tonumber(v1, single)
    n2 = _tonumber(v2, single)
    return _numarith(op, n1, n2, single)


def _intarith(op: int, a: int, b: int, bits: int) -> int:
    if op == LUA_OPADD:
        r = a + b
    elif op == LUA_OPSUB:
        r = a - b
    elif op == LUA_OPMUL:
        r = a * b
    elif op == LUA_OPMOD:
        r = 0 if b == -1 else a % b
    elif op == LUA_OPIDIV:
        r = -a if b == -1 else a // b
    elif op == LUA_OPBAND:
        r = a & b
    elif op == LUA_OPBOR:
        r = a | b
    elif op == LUA_OPBXOR:
        r = a ^ b
    elif op == LUA_OPSHL:
        r = _shiftl(a, b, bits)
    elif op == LUA_OPSHR:
        r = _shiftl(a, -b, bits)
    elif op == LUA_OPUNM:
        r = -a
    else:  # LUA_OPBNOT
        r = ~a
    return _wrap(r, bits)


def _shiftl(x: int, y: int, bits: int) -> int:
    if y < 0:
        if y <= -bits:
            return 0
        return (x & ((1 << bits) - 1)) >> -y
    if y >= bits:
        return 0
    return x << y


def _numarith(op: int, a: float, b: float, single: bool) -> float:
    rnd = _to_f32 if single else _same
    if op == LUA_OPADD:
        return rnd(a + b)
    if op == LUA_OPSUB:
        return rnd(a - b)
    if op == LUA_OPMUL:
        return rnd(a * b)
    if op == LUA_OPDIV:
        return rnd(_div(a, b))
    if op == LUA_OPPOW:
        return float(_POWF(a, b)) if single else float(_POW(a, b))
    if op == LUA_OPIDIV:
        q = rnd(_div(a, b))
        return math.floor(q) * 1.0 if math.isfinite(q) else q
    if op == LUA_OPUNM:
        return -a
    # LUA_OPMOD: fmod, then the sign correction
    if math.isinf(a) or math.isnan(a) or math.isnan(b):
        m = math.nan
    elif math.isinf(b):
        m = a
    else:
        m = math.fmod(a, b)
    if rnd(m * b) < 0:  # the product is a lua_Number too: it may underflow to 0
        m = rnd(m + b)
    return m


def _same(x: float) -> float:
    return x


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def int2fb(x: int) -> int:
    """lobject.c luaO_int2fb: a 'floating point byte' for table sizes."""
    e = 0
    if x < 8:
        return x
    while x >= (8 << 4):
        x = (x + 0xF) >> 4
        e += 4
    while x >= (8 << 1):
        x = (x + 1) >> 1
        e += 1
    return ((e + 1) << 3) | (x - 8)
