"""Build targets: which flavour of Lua 5.1 a chunk or image is for.

Mirrors NodeMCU's `DumpTargetInfo` (app/lua/lundump.h): the float build stores
numbers as IEEE doubles, the integer build (`LUA_NUMBER_INTEGRAL`) as int32.
`HOST` is stock Lua 5.1 on a 64-bit host (lupa, luac5.1): 8-byte size_t,
one int of line info per instruction, local and upvalue names kept.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    integral: bool  # lua_Number is an integer type
    number_size: int  # sizeof(lua_Number) in a dump
    sizet_size: int  # sizeof(size_t) in a dump header (NodeMCU: 4)
    packed_lineinfo: bool  # NodeMCU packed line info, else an int per pc


FLOAT = Target("float", integral=False, number_size=8, sizet_size=4, packed_lineinfo=True)
INT = Target("int", integral=True, number_size=4, sizet_size=4, packed_lineinfo=True)
HOST = Target("host", integral=False, number_size=8, sizet_size=8, packed_lineinfo=False)
