"""Lua 5.1 opcodes, operand modes, instruction fields and compiler limits.

Facts from `lopcodes.h`/`lopcodes.c` and NodeMCU's `luaconf.h`. Tables are
data; everything that encodes or decodes an instruction word goes through the
helpers of `lfs_format.instruction` (the word both cores share).
"""

from enum import IntEnum
from typing import Final


class OpCode(IntEnum):
    MOVE = 0  # A B     R(A) := R(B)
    LOADK = 1  # A Bx    R(A) := Kst(Bx)
    LOADBOOL = 2  # A B C   R(A) := (Bool)B; if (C) pc++
    LOADNIL = 3  # A B     R(A) := ... := R(B) := nil
    GETUPVAL = 4  # A B     R(A) := UpValue[B]
    GETGLOBAL = 5  # A Bx    R(A) := Gbl[Kst(Bx)]
    GETTABLE = 6  # A B C   R(A) := R(B)[RK(C)]
    SETGLOBAL = 7  # A Bx    Gbl[Kst(Bx)] := R(A)
    SETUPVAL = 8  # A B     UpValue[B] := R(A)
    SETTABLE = 9  # A B C   R(A)[RK(B)] := RK(C)
    NEWTABLE = 10  # A B C   R(A) := {} (size = B,C)
    SELF = 11  # A B C   R(A+1) := R(B); R(A) := R(B)[RK(C)]
    ADD = 12  # A B C   R(A) := RK(B) + RK(C)
    SUB = 13  # A B C   R(A) := RK(B) - RK(C)
    MUL = 14  # A B C   R(A) := RK(B) * RK(C)
    DIV = 15  # A B C   R(A) := RK(B) / RK(C)
    MOD = 16  # A B C   R(A) := RK(B) % RK(C)
    POW = 17  # A B C   R(A) := RK(B) ^ RK(C)
    UNM = 18  # A B     R(A) := -R(B)
    NOT = 19  # A B     R(A) := not R(B)
    LEN = 20  # A B     R(A) := length of R(B)
    CONCAT = 21  # A B C   R(A) := R(B).. ... ..R(C)
    JMP = 22  # sBx     pc+=sBx
    EQ = 23  # A B C   if ((RK(B) == RK(C)) ~= A) then pc++
    LT = 24  # A B C   if ((RK(B) <  RK(C)) ~= A) then pc++
    LE = 25  # A B C   if ((RK(B) <= RK(C)) ~= A) then pc++
    TEST = 26  # A C     if not (R(A) <=> C) then pc++
    TESTSET = 27  # A B C   if (R(B) <=> C) then R(A) := R(B) else pc++
    CALL = 28  # A B C   R(A), ... ,R(A+C-2) := R(A)(R(A+1), ... ,R(A+B-1))
    TAILCALL = 29  # A B C   return R(A)(R(A+1), ... ,R(A+B-1))
    RETURN = 30  # A B     return R(A), ... ,R(A+B-2)
    FORLOOP = 31  # A sBx   R(A)+=R(A+2); if R(A) <?= R(A+1) then { pc+=sBx; R(A+3)=R(A) }
    FORPREP = 32  # A sBx   R(A)-=R(A+2); pc+=sBx
    TFORLOOP = 33  # A C     R(A+3), ... ,R(A+2+C) := R(A)(R(A+1), R(A+2)); ...
    SETLIST = 34  # A B C   R(A)[(C-1)*FPF+i] := R(A+i), 1 <= i <= B
    CLOSE = 35  # A       close all variables in the stack up to (>=) R(A)
    CLOSURE = 36  # A Bx    R(A) := closure(KPROTO[Bx], R(A), ... ,R(A+n))
    VARARG = 37  # A B     R(A), R(A+1), ..., R(A+B-1) = vararg


# lopcodes.h's OP_* names as plain ints for the compiler's hot paths: an IntEnum
# member lookup (`OpCode.MOVE`) costs ~60 ns in Python 3.11, a module global ~5 ns.
# Final literals, which mypyc compiles to constants (tests/test_types.py checks them)
OP_MOVE: Final = 0
OP_LOADK: Final = 1
OP_LOADBOOL: Final = 2
OP_LOADNIL: Final = 3
OP_GETUPVAL: Final = 4
OP_GETGLOBAL: Final = 5
OP_GETTABLE: Final = 6
OP_SETGLOBAL: Final = 7
OP_SETUPVAL: Final = 8
OP_SETTABLE: Final = 9
OP_NEWTABLE: Final = 10
OP_SELF: Final = 11
OP_ADD: Final = 12
OP_SUB: Final = 13
OP_MUL: Final = 14
OP_DIV: Final = 15
OP_MOD: Final = 16
OP_POW: Final = 17
OP_UNM: Final = 18
OP_NOT: Final = 19
OP_LEN: Final = 20
OP_CONCAT: Final = 21
OP_JMP: Final = 22
OP_EQ: Final = 23
OP_LT: Final = 24
OP_LE: Final = 25
OP_TEST: Final = 26
OP_TESTSET: Final = 27
OP_CALL: Final = 28
OP_TAILCALL: Final = 29
OP_RETURN: Final = 30
OP_FORLOOP: Final = 31
OP_FORPREP: Final = 32
OP_TFORLOOP: Final = 33
OP_SETLIST: Final = 34
OP_CLOSE: Final = 35
OP_CLOSURE: Final = 36
OP_VARARG: Final = 37


class OpMode(IntEnum):
    iABC = 0
    iABx = 1
    iAsBx = 2


class OpArgMask(IntEnum):
    N = 0  # argument is not used
    U = 1  # argument is used
    R = 2  # argument is a register or a jump offset
    K = 3  # argument is a constant or register/constant


# (test mode, sets register A, B mode, C mode, instruction format), as luaP_opmodes
_N, _U, _R, _K = OpArgMask.N, OpArgMask.U, OpArgMask.R, OpArgMask.K
_ABC, _ABx, _AsBx = OpMode.iABC, OpMode.iABx, OpMode.iAsBx
OPMODES: dict[OpCode, tuple[bool, bool, OpArgMask, OpArgMask, OpMode]] = {
    OpCode.MOVE: (False, True, _R, _N, _ABC),
    OpCode.LOADK: (False, True, _K, _N, _ABx),
    OpCode.LOADBOOL: (False, True, _U, _U, _ABC),
    OpCode.LOADNIL: (False, True, _R, _N, _ABC),
    OpCode.GETUPVAL: (False, True, _U, _N, _ABC),
    OpCode.GETGLOBAL: (False, True, _K, _N, _ABx),
    OpCode.GETTABLE: (False, True, _R, _K, _ABC),
    OpCode.SETGLOBAL: (False, False, _K, _N, _ABx),
    OpCode.SETUPVAL: (False, False, _U, _N, _ABC),
    OpCode.SETTABLE: (False, False, _K, _K, _ABC),
    OpCode.NEWTABLE: (False, True, _U, _U, _ABC),
    OpCode.SELF: (False, True, _R, _K, _ABC),
    OpCode.ADD: (False, True, _K, _K, _ABC),
    OpCode.SUB: (False, True, _K, _K, _ABC),
    OpCode.MUL: (False, True, _K, _K, _ABC),
    OpCode.DIV: (False, True, _K, _K, _ABC),
    OpCode.MOD: (False, True, _K, _K, _ABC),
    OpCode.POW: (False, True, _K, _K, _ABC),
    OpCode.UNM: (False, True, _R, _N, _ABC),
    OpCode.NOT: (False, True, _R, _N, _ABC),
    OpCode.LEN: (False, True, _R, _N, _ABC),
    OpCode.CONCAT: (False, True, _R, _R, _ABC),
    OpCode.JMP: (False, False, _R, _N, _AsBx),
    OpCode.EQ: (True, False, _K, _K, _ABC),
    OpCode.LT: (True, False, _K, _K, _ABC),
    OpCode.LE: (True, False, _K, _K, _ABC),
    OpCode.TEST: (True, True, _R, _U, _ABC),
    OpCode.TESTSET: (True, True, _R, _U, _ABC),
    OpCode.CALL: (False, True, _U, _U, _ABC),
    OpCode.TAILCALL: (False, True, _U, _U, _ABC),
    OpCode.RETURN: (False, False, _U, _N, _ABC),
    OpCode.FORLOOP: (False, True, _R, _N, _AsBx),
    OpCode.FORPREP: (False, True, _R, _N, _AsBx),
    OpCode.TFORLOOP: (True, False, _N, _U, _ABC),
    OpCode.SETLIST: (False, False, _U, _U, _ABC),
    OpCode.CLOSE: (False, False, _N, _N, _ABC),
    OpCode.CLOSURE: (False, True, _U, _N, _ABx),
    OpCode.VARARG: (False, True, _U, _N, _ABC),
}

# limits (NodeMCU's luaconf.h / llimits.h where they differ from stock 5.1)
LUAI_MAXVARS: Final = 50  # stock: 200
LUAI_MAXUPVALUES: Final = 60
LUAI_MAXCCALLS: Final = 200
MAXSTACK: Final = 250
LFIELDS_PER_FLUSH: Final = 50
MAX_INT: Final = 2**31 - 3  # INT_MAX - 2 (llimits.h MAX_INT)
