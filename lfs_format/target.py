"""Build targets: which flavour of Lua 5.1 a chunk or image is for.

Mirrors NodeMCU's `DumpTargetInfo` (app/lua/lundump.h): the float build stores
numbers as IEEE doubles, the integer build (`LUA_NUMBER_INTEGRAL`) as int32.
`HOST` is stock Lua 5.1 on a 64-bit host (lupa, luac5.1): 8-byte size_t,
one int of line info per instruction, local and upvalue names kept.
"""

from collections import namedtuple

# Models on the compile path are namedtuples or plain slotted classes, not
# dataclasses: importing `dataclasses` (and `inspect` with it) costs more than
# a third of a small file's compile time, and luacross runs once per file.


class Target(namedtuple("Target", "name integral number_size sizet_size packed_lineinfo")):
    """name; integral: lua_Number is an integer type; number_size: sizeof(lua_Number)
    in a dump; sizet_size: sizeof(size_t) in a dump header (NodeMCU: 4);
    packed_lineinfo: NodeMCU packed line info, else an int per pc."""

    __slots__ = ()

    core = "luacross.lua51.core"  # the module that compiles, lists and dumps for it


FLOAT = Target("float", integral=False, number_size=8, sizet_size=4, packed_lineinfo=True)
INT = Target("int", integral=True, number_size=4, sizet_size=4, packed_lineinfo=True)
HOST = Target("host", integral=False, number_size=8, sizet_size=8, packed_lineinfo=False)


class Lua53Target:
    """A build of NodeMCU's Lua 5.3 core (app/lua53 `luaconf.h`): `int_size` is
    sizeof(lua_Integer), `float_size` sizeof(lua_Number), 4 or 8 each. The
    default build has 32-bit integers and C floats; `LUA_NUMBER_64BITS` has
    `long long` and doubles."""

    __slots__ = ("name", "int_size", "float_size")

    core = "luacross.lua53.core"  # the module that compiles, lists and dumps for it

    def __init__(self, name: str, int_size: int, float_size: int) -> None:
        self.name = name
        self.int_size = int_size
        self.float_size = float_size

    def __repr__(self) -> str:
        return f"Lua53Target({self.name!r})"


LUA53 = Lua53Target("lua53", int_size=4, float_size=4)
LUA53_64 = Lua53Target("lua53-64", int_size=8, float_size=8)
