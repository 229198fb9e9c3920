"""Lua 5.3 opcodes, operand modes, instruction fields and compiler limits.

Facts from NodeMCU's app/lua53 `lopcodes.h`/`lopcodes.c`. Field layout: op
bits 0-5, A 6-13, C 14-22, B 23-31; Bx = bits 14-31, sBx = Bx - MAXARG_sBx,
Ax = bits 6-31. Everything that encodes or decodes an instruction word goes
through the helpers here (the Ax field) and those of `lfs_format.instruction`
(the word both cores share).
"""

from enum import IntEnum
from typing import Final

from lfs_format.instruction import BITRK, POS_A, SIZE_A, SIZE_B, SIZE_C


class OpCode(IntEnum):
    MOVE = 0  # A B     R(A) := R(B)
    LOADK = 1  # A Bx    R(A) := Kst(Bx)
    LOADKX = 2  # A       R(A) := Kst(extra arg)
    LOADBOOL = 3  # A B C   R(A) := (Bool)B; if (C) pc++
    LOADNIL = 4  # A B     R(A), R(A+1), ..., R(A+B) := nil
    GETUPVAL = 5  # A B     R(A) := UpValue[B]
    GETTABUP = 6  # A B C   R(A) := UpValue[B][RK(C)]
    GETTABLE = 7  # A B C   R(A) := R(B)[RK(C)]
    SETTABUP = 8  # A B C   UpValue[A][RK(B)] := RK(C)
    SETUPVAL = 9  # A B     UpValue[B] := R(A)
    SETTABLE = 10  # A B C   R(A)[RK(B)] := RK(C)
    NEWTABLE = 11  # A B C   R(A) := {} (size = B,C)
    SELF = 12  # A B C   R(A+1) := R(B); R(A) := R(B)[RK(C)]
    ADD = 13  # A B C   R(A) := RK(B) + RK(C)
    SUB = 14  # A B C   R(A) := RK(B) - RK(C)
    MUL = 15  # A B C   R(A) := RK(B) * RK(C)
    MOD = 16  # A B C   R(A) := RK(B) % RK(C)
    POW = 17  # A B C   R(A) := RK(B) ^ RK(C)
    DIV = 18  # A B C   R(A) := RK(B) / RK(C)
    IDIV = 19  # A B C   R(A) := RK(B) // RK(C)
    BAND = 20  # A B C   R(A) := RK(B) & RK(C)
    BOR = 21  # A B C   R(A) := RK(B) | RK(C)
    BXOR = 22  # A B C   R(A) := RK(B) ~ RK(C)
    SHL = 23  # A B C   R(A) := RK(B) << RK(C)
    SHR = 24  # A B C   R(A) := RK(B) >> RK(C)
    UNM = 25  # A B     R(A) := -R(B)
    BNOT = 26  # A B     R(A) := ~R(B)
    NOT = 27  # A B     R(A) := not R(B)
    LEN = 28  # A B     R(A) := length of R(B)
    CONCAT = 29  # A B C   R(A) := R(B).. ... ..R(C)
    JMP = 30  # A sBx   pc+=sBx; if (A) close all upvalues >= R(A - 1)
    EQ = 31  # A B C   if ((RK(B) == RK(C)) ~= A) then pc++
    LT = 32  # A B C   if ((RK(B) <  RK(C)) ~= A) then pc++
    LE = 33  # A B C   if ((RK(B) <= RK(C)) ~= A) then pc++
    TEST = 34  # A C     if not (R(A) <=> C) then pc++
    TESTSET = 35  # A B C   if (R(B) <=> C) then R(A) := R(B) else pc++
    CALL = 36  # A B C   R(A), ... ,R(A+C-2) := R(A)(R(A+1), ... ,R(A+B-1))
    TAILCALL = 37  # A B C   return R(A)(R(A+1), ... ,R(A+B-1))
    RETURN = 38  # A B     return R(A), ... ,R(A+B-2)
    FORLOOP = 39  # A sBx   R(A)+=R(A+2); if R(A) <?= R(A+1) then { pc+=sBx; R(A+3)=R(A) }
    FORPREP = 40  # A sBx   R(A)-=R(A+2); pc+=sBx
    TFORCALL = 41  # A C     R(A+3), ... ,R(A+2+C) := R(A)(R(A+1), R(A+2))
    TFORLOOP = 42  # A sBx   if R(A+1) ~= nil then { R(A)=R(A+1); pc += sBx }
    SETLIST = 43  # A B C   R(A)[(C-1)*FPF+i] := R(A+i), 1 <= i <= B
    CLOSURE = 44  # A Bx    R(A) := closure(KPROTO[Bx])
    VARARG = 45  # A B     R(A), R(A+1), ..., R(A+B-2) = vararg
    EXTRAARG = 46  # Ax      extra (larger) argument for previous opcode


NUM_OPCODES = len(OpCode)

# lopcodes.h's OP_* names as Final ints, which mypyc compiles to constants (a module
# global is a dict lookup in compiled code; tests/test_types.py checks them)
OP_MOVE: Final = 0
OP_LOADK: Final = 1
OP_LOADKX: Final = 2
OP_LOADBOOL: Final = 3
OP_LOADNIL: Final = 4
OP_GETUPVAL: Final = 5
OP_GETTABUP: Final = 6
OP_GETTABLE: Final = 7
OP_SETTABUP: Final = 8
OP_SETUPVAL: Final = 9
OP_SETTABLE: Final = 10
OP_NEWTABLE: Final = 11
OP_SELF: Final = 12
OP_ADD: Final = 13
OP_SUB: Final = 14
OP_MUL: Final = 15
OP_MOD: Final = 16
OP_POW: Final = 17
OP_DIV: Final = 18
OP_IDIV: Final = 19
OP_BAND: Final = 20
OP_BOR: Final = 21
OP_BXOR: Final = 22
OP_SHL: Final = 23
OP_SHR: Final = 24
OP_UNM: Final = 25
OP_BNOT: Final = 26
OP_NOT: Final = 27
OP_LEN: Final = 28
OP_CONCAT: Final = 29
OP_JMP: Final = 30
OP_EQ: Final = 31
OP_LT: Final = 32
OP_LE: Final = 33
OP_TEST: Final = 34
OP_TESTSET: Final = 35
OP_CALL: Final = 36
OP_TAILCALL: Final = 37
OP_RETURN: Final = 38
OP_FORLOOP: Final = 39
OP_FORPREP: Final = 40
OP_TFORCALL: Final = 41
OP_TFORLOOP: Final = 42
OP_SETLIST: Final = 43
OP_CLOSURE: Final = 44
OP_VARARG: Final = 45
OP_EXTRAARG: Final = 46

# luaP_opnames: the names listings print
OPNAMES: tuple[str, ...] = tuple(op.name for op in OpCode)


class OpMode(IntEnum):
    iABC = 0
    iABx = 1
    iAsBx = 2
    iAx = 3


class OpArgMask(IntEnum):
    N = 0  # argument is not used
    U = 1  # argument is used
    R = 2  # argument is a register or a jump offset
    K = 3  # argument is a constant or register/constant


def _opmode(t: int, a: int, b: int, c: int, m: int) -> int:
    return (t << 7) | (a << 6) | (b << 4) | (c << 2) | m


_N, _U, _R, _K = 0, 1, 2, 3
_ABC, _ABX, _ASBX, _AX = 0, 1, 2, 3

# luaP_opmodes: bits 0-1 op mode, 2-3 C mode, 4-5 B mode, 6 sets A, 7 is a test
OPMODES: tuple[int, ...] = (
    _opmode(0, 1, _R, _N, _ABC),  # MOVE
    _opmode(0, 1, _K, _N, _ABX),  # LOADK
    _opmode(0, 1, _N, _N, _ABX),  # LOADKX
    _opmode(0, 1, _U, _U, _ABC),  # LOADBOOL
    _opmode(0, 1, _U, _N, _ABC),  # LOADNIL
    _opmode(0, 1, _U, _N, _ABC),  # GETUPVAL
    _opmode(0, 1, _U, _K, _ABC),  # GETTABUP
    _opmode(0, 1, _R, _K, _ABC),  # GETTABLE
    _opmode(0, 0, _K, _K, _ABC),  # SETTABUP
    _opmode(0, 0, _U, _N, _ABC),  # SETUPVAL
    _opmode(0, 0, _K, _K, _ABC),  # SETTABLE
    _opmode(0, 1, _U, _U, _ABC),  # NEWTABLE
    _opmode(0, 1, _R, _K, _ABC),  # SELF
    _opmode(0, 1, _K, _K, _ABC),  # ADD
    _opmode(0, 1, _K, _K, _ABC),  # SUB
    _opmode(0, 1, _K, _K, _ABC),  # MUL
    _opmode(0, 1, _K, _K, _ABC),  # MOD
    _opmode(0, 1, _K, _K, _ABC),  # POW
    _opmode(0, 1, _K, _K, _ABC),  # DIV
    _opmode(0, 1, _K, _K, _ABC),  # IDIV
    _opmode(0, 1, _K, _K, _ABC),  # BAND
    _opmode(0, 1, _K, _K, _ABC),  # BOR
    _opmode(0, 1, _K, _K, _ABC),  # BXOR
    _opmode(0, 1, _K, _K, _ABC),  # SHL
    _opmode(0, 1, _K, _K, _ABC),  # SHR
    _opmode(0, 1, _R, _N, _ABC),  # UNM
    _opmode(0, 1, _R, _N, _ABC),  # BNOT
    _opmode(0, 1, _R, _N, _ABC),  # NOT
    _opmode(0, 1, _R, _N, _ABC),  # LEN
    _opmode(0, 1, _R, _R, _ABC),  # CONCAT
    _opmode(0, 0, _R, _N, _ASBX),  # JMP
    _opmode(1, 0, _K, _K, _ABC),  # EQ
    _opmode(1, 0, _K, _K, _ABC),  # LT
    _opmode(1, 0, _K, _K, _ABC),  # LE
    _opmode(1, 0, _N, _U, _ABC),  # TEST
    _opmode(1, 1, _R, _U, _ABC),  # TESTSET
    _opmode(0, 1, _U, _U, _ABC),  # CALL
    _opmode(0, 1, _U, _U, _ABC),  # TAILCALL
    _opmode(0, 0, _U, _N, _ABC),  # RETURN
    _opmode(0, 1, _R, _N, _ASBX),  # FORLOOP
    _opmode(0, 1, _R, _N, _ASBX),  # FORPREP
    _opmode(0, 0, _N, _U, _ABC),  # TFORCALL
    _opmode(0, 1, _R, _N, _ASBX),  # TFORLOOP
    _opmode(0, 0, _U, _U, _ABC),  # SETLIST
    _opmode(0, 1, _U, _N, _ABX),  # CLOSURE
    _opmode(0, 1, _U, _N, _ABC),  # VARARG
    _opmode(0, 0, _U, _U, _AX),  # EXTRAARG
)


def get_opmode(op: int) -> int:
    """getOpMode: one of OpMode's values."""
    return OPMODES[op] & 3


def get_bmode(op: int) -> int:
    """getBMode: one of OpArgMask's values."""
    return (OPMODES[op] >> 4) & 3


def get_cmode(op: int) -> int:
    """getCMode: one of OpArgMask's values."""
    return (OPMODES[op] >> 2) & 3


def test_amode(op: int) -> bool:
    """testAMode: the instruction sets register A."""
    return bool(OPMODES[op] & (1 << 6))


def test_tmode(op: int) -> bool:
    """testTMode: a test (the next instruction must be a jump)."""
    return bool(OPMODES[op] & (1 << 7))


# the Ax field, 5.3's alone (lopcodes.h)
SIZE_AX: Final = SIZE_C + SIZE_B + SIZE_A
POS_AX: Final = POS_A
MAXARG_AX: Final = (1 << SIZE_AX) - 1
LFIELDS_PER_FLUSH: Final = 50

# compiler limits (stock 5.3.6, unchanged in NodeMCU)
MAXVARS: Final = 200  # lparser.c
MAXUPVAL: Final = 255  # lfunc.h
LUAI_MAXCCALLS: Final = 200  # llimits.h
MAXREGS: Final = 255  # lcode.c
LUAI_MAXSHORTLEN: Final = 40  # llimits.h
MAX_INT: Final = 2**31 - 1  # llimits.h INT_MAX


def getarg_ax(i: int) -> int:
    return (i >> POS_AX) & MAXARG_AX


def indexk(r: int) -> int:
    return r & ~BITRK
