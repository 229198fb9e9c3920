"""The instruction word both Lua cores share (lopcodes.h, identical in 5.1 and
5.3): op in bits 0-5, A 6-13, C 14-22, B 23-31; Bx = bits 14-31 and
sBx = Bx - MAXARG_sBx; an RK operand at or above BITRK names a constant.
Each core's `opcodes` module adds its opcodes, operand modes and limits (and
5.3 its Ax field).
"""

from typing import Final

SIZE_OP: Final = 6
SIZE_A: Final = 8
SIZE_B: Final = 9
SIZE_C: Final = 9
SIZE_BX: Final = SIZE_B + SIZE_C
POS_OP: Final = 0
POS_A: Final = 6
POS_C: Final = 14
POS_B: Final = 23
POS_BX: Final = POS_C
MAXARG_A: Final = (1 << SIZE_A) - 1
MAXARG_B: Final = (1 << SIZE_B) - 1
MAXARG_C: Final = (1 << SIZE_C) - 1
MAXARG_BX: Final = (1 << SIZE_BX) - 1
MAXARG_SBX: Final = MAXARG_BX >> 1
NO_REG: Final = MAXARG_A
BITRK: Final = 1 << (SIZE_B - 1)  # an RK operand >= BITRK names constant (x - BITRK)
MAXINDEXRK: Final = BITRK - 1


def create_abc(op: int, a: int, b: int, c: int) -> int:
    return op | (a << POS_A) | (b << POS_B) | (c << POS_C)


def create_abx(op: int, a: int, bx: int) -> int:
    return op | (a << POS_A) | (bx << POS_BX)


def get_opcode(i: int) -> int:
    return i & 0x3F


def getarg_a(i: int) -> int:
    return (i >> POS_A) & MAXARG_A


def getarg_b(i: int) -> int:
    return (i >> POS_B) & MAXARG_B


def getarg_c(i: int) -> int:
    return (i >> POS_C) & MAXARG_C


def getarg_bx(i: int) -> int:
    return (i >> POS_BX) & MAXARG_BX


def getarg_sbx(i: int) -> int:
    return getarg_bx(i) - MAXARG_SBX


def isk(x: int) -> bool:
    return bool(x & BITRK)


def rkask(x: int) -> int:
    return x | BITRK
