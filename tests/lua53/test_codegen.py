"""Numerals and constant folding in the target's types, and the constant table.

Expected constants and opcodes were read (lfs_format.lua53.lc.read_lc) from
the `.lc` files NodeMCU's luac.cross 5.3 wrote for tests/lua53/data/nums.lua
and folds.lua, default and LUA_NUMBER_64BITS builds.
"""

import math
from pathlib import Path

import pytest

from lfs_format.instruction import get_opcode
from lfs_format.lua53.opcodes import OPNAMES
from lfs_format.lua53.proto import constant_key
from lfs_format.target import LUA53, LUA53_64
from luacross.lua53.codegen import LUA_OPADD, LUA_OPDIV, LUA_OPIDIV, LUA_OPMOD, LUA_OPPOW, arith
from luacross.lua53.parser import compile_source

DATA = Path(__file__).resolve().parent / "data"
INF = math.inf
_LOADS = ["LOADK"] * 29

EXPECTED = {
    ("nums", "lua53"): (
        [1, 1.0, 16, -1, 2147483647, -2147483648, 2147483648.0, 9.223372036854776e18,
         0.10000000149011612, INF, 0.0, 3.4028234663852886e38, 1.401298464324817e-45, 16.0,
         10.5, 0.25, 0.5, 5.0, 100.0, 16777217, 16777216.0],
        _LOADS + ["RETURN", "RETURN"],
    ),
    ("nums", "lua53-64"): (
        [1, 1.0, 16, 4294967295, 2147483647, 2147483648, -1, 9223372036854775807,
         9.223372036854776e18, 0.1, 1e308, INF, 1e-320, 3.4028235e38, 3.5e38, 1e-45, 16.0, 10.5,
         0.25, 0.5, 5.0, 100.0, 1.0000000596046448, 16777217, 16777217.0],
        _LOADS + ["RETURN", "RETURN"],
    ),
    ("folds", "lua53"): (
        [3, -4, -2, 2, 1.5, 0.5, -0.5, 1.4142135381698608, 2.5, 2.0, 0.3333333432674408,
         0.30000001192092896, -2147483648, 2147483648.0, 0, 2147483647, 1, -6, -1, 16777216.0,
         INF, 7, 6, 3.0, 12, 0.0],
        _LOADS + ["IDIV", "MOD", "DIV", "BAND", "LOADK", "UNM", "MUL", "LOADK", "LOADK",
                  "RETURN", "RETURN"],
    ),
    ("folds", "lua53-64"): (
        [3, -4, -2, 2, 1.5, 0.5, -0.5, 1.4142135623730951, 2.5, 2.0, 0.3333333333333333,
         0.30000000000000004, 2147483648, 4294967294, 4294967296, 9223372036854775807,
         -9223372036854775808, 1, -6, -1, 16777217.0, 1e39, 3.402823669209385e38, 7, 6, 3.0, 12,
         0, 0.0],
        _LOADS + ["IDIV", "MOD", "DIV", "BAND", "LOADK", "UNM", "MUL", "LOADK", "LOADK",
                  "RETURN", "RETURN"],
    ),
}  # fmt: skip
TARGETS = {"lua53": LUA53, "lua53-64": LUA53_64}


@pytest.mark.parametrize(("name", "variant"), list(EXPECTED))
def test_constants_and_code(name: str, variant: str) -> None:
    source = (DATA / f"{name}.lua").read_bytes()
    proto = compile_source(source, f"@{name}.lua".encode(), TARGETS[variant])
    constants, ops = EXPECTED[name, variant]
    assert [constant_key(k) for k in proto.constants] == [constant_key(k) for k in constants]
    assert [OPNAMES[get_opcode(i)] for i in proto.code] == ops


def test_integer_and_float_constants_apart() -> None:
    # luac.cross -l -l: constants (2): 1, 1.0
    proto = compile_source(b"return 1, 1.0, 1, 1.0, true", b"=t", LUA53)
    assert [constant_key(k) for k in proto.constants] == [constant_key(1), constant_key(1.0)]


def test_constant_cache_shared_between_functions() -> None:
    # lcode.c addk: the scanner table maps "x" to the inner function's index 0,
    # so the enclosing function, whose index 0 is "y", adds a second "x"
    # (luac.cross -l -l: constants (3): "y" "x" "x")
    proto = compile_source(
        b'local a = "y", "x"\nlocal f = function() return "x" end\nreturn "x"', b"=t", LUA53
    )
    assert proto.constants == [b"y", b"x", b"x"]


@pytest.mark.parametrize(
    ("op", "a", "b"),
    [(LUA_OPDIV, 1, 0), (LUA_OPIDIV, 1, 0), (LUA_OPMOD, 1, 0), (LUA_OPMOD, 1.5, 0.0)],
)
def test_division_by_zero_never_folds(op: int, a: float, b: float) -> None:
    assert arith(LUA53, op, a, b) is None


def test_float32_arithmetic() -> None:
    assert arith(LUA53, LUA_OPADD, 16777216.0, 1) == 16777216.0
    assert arith(LUA53_64, LUA_OPADD, 16777216.0, 1) == 16777217.0
    assert arith(LUA53, LUA_OPADD, 2147483647, 1) == -2147483648
    assert arith(LUA53, LUA_OPPOW, 2, 0.5) == 1.4142135381698608


def test_float_modulo_sign_test_underflows_in_float32() -> None:
    # luai_nummod's `m*b < 0` is a float product: for tiny operands it underflows to
    # -0.0 and the correction is skipped (luac.cross: constant 5.919084713308027e-41)
    source = b"x = (1e10 % (0xffffffffffffffff % (0x1P-2 % 1e-38)))\n"
    proto = compile_source(source, b"@modu.lua", LUA53)
    assert proto.constants == [b"x", 5.919084713308027e-41]
