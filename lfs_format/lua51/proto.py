"""The function prototype model every phase produces or consumes.

A `Proto` is what the code generator makes, what `.lc` and LFS images encode,
and what the loader reads back. Field names follow Lua 5.1's `lobject.h`
`Proto`, except the cryptic ones (`k` -> `constants`, `p` -> `protos`).

Constants are plain Python values: `None` (nil), `bool`, `float` (float
build) or `int` (integer build) for numbers, and `bytes` for strings. Lua
strings are always `bytes`. Because `True == 1` in Python, compare constants
with `constant_key`, never with `==` alone. A `.lc` input can also hold a
NULL string constant (`lc.NULL_STRING`, an empty `bytes` subclass) and NULL
(`None`) local or upvalue names; the compiler never makes them, and of the
consumers only `.lc` dumping accepts them.
"""

from collections import namedtuple
from collections.abc import Iterator
from typing import Any

Constant = None | bool | float | int | bytes

# lua_Number type tags as stored in dumps and TValues (lua.h)
LUA_TNIL = 0
LUA_TBOOLEAN = 1
LUA_TNUMBER = 3
LUA_TSTRING = 4

# is_vararg bits (lobject.h)
VARARG_HASARG = 1
VARARG_ISVARARG = 2
VARARG_NEEDSARG = 4


def constant_key(value: Constant) -> tuple[object, object]:
    """A key that tells apart constants Python's `==` conflates (1, 1.0, True; 0.0, -0.0)."""
    if isinstance(value, float):
        return (float, value.hex())
    return (type(value), value)


class LocVar(namedtuple("LocVar", "varname startpc endpc")):
    """A local variable's debug record (stock Lua only; NodeMCU drops them)."""

    __slots__ = ()


class Proto:
    """One compiled Lua function.

    `code` holds raw 32-bit instruction words. `packedlineinfo` is NodeMCU's
    packed line info without its trailing NUL, or None when the function has no
    line info (stripped, or a synthetic combined main); read from a `.lc` input
    it may hold a NUL, and only the bytes before it are written back. `lineinfo` is one line
    per instruction: as the code generator recorded it, as a stock dump stores
    it, or as decoded from `packedlineinfo` (which NodeMCU's rewind bug can
    make differ from what the compiler recorded); it is empty when there is no
    line info.
    """

    __slots__ = FIELDS = (
        "source",
        "linedefined",
        "lastlinedefined",
        "nups",
        "numparams",
        "is_vararg",
        "maxstacksize",
        "code",
        "constants",
        "protos",
        "packedlineinfo",
        "lineinfo",
        "locvars",
        "upvalues",
    )

    def __init__(
        self,
        source: bytes | None = None,
        linedefined: int = 0,
        lastlinedefined: int = 0,
        nups: int = 0,
        numparams: int = 0,
        is_vararg: int = 0,
        maxstacksize: int = 0,
        code: list[int] | None = None,
        constants: list[Constant] | None = None,
        protos: "list[Proto] | None" = None,
        packedlineinfo: bytes | None = None,
        lineinfo: list[int] | None = None,
        locvars: list[LocVar] | None = None,
        upvalues: list[bytes] | None = None,
    ) -> None:
        self.source = source
        self.linedefined = linedefined
        self.lastlinedefined = lastlinedefined
        self.nups = nups
        self.numparams = numparams
        self.is_vararg = is_vararg
        self.maxstacksize = maxstacksize
        self.code = [] if code is None else code
        self.constants = [] if constants is None else constants
        self.protos = [] if protos is None else protos
        self.packedlineinfo = packedlineinfo
        self.lineinfo = [] if lineinfo is None else lineinfo
        self.locvars = [] if locvars is None else locvars
        self.upvalues = [] if upvalues is None else upvalues

    def replace(self, **changes: Any) -> "Proto":
        """A shallow copy with some fields changed (as `dataclasses.replace`)."""
        fields = {name: getattr(self, name) for name in self.FIELDS}
        fields.update(changes)
        return Proto(**fields)

    def __repr__(self) -> str:
        return (
            f"Proto(source={self.source!r}, linedefined={self.linedefined}, "
            f"code={len(self.code)} instructions, constants={self.constants!r}, "
            f"protos={len(self.protos)})"
        )

    def __eq__(self, other: object) -> bool:
        """Structural equality; constants compared with `constant_key`."""
        if not isinstance(other, Proto):
            return NotImplemented
        return (
            self.header() == other.header()
            and self.code == other.code
            and [constant_key(k) for k in self.constants]
            == [constant_key(k) for k in other.constants]
            and self.packedlineinfo == other.packedlineinfo
            and self.locvars == other.locvars
            and self.upvalues == other.upvalues
            and self.protos == other.protos
        )

    def header(self) -> tuple[object, ...]:
        """The scalar fields, in dump order (for comparisons and messages)."""
        return (
            self.source,
            self.linedefined,
            self.lastlinedefined,
            self.nups,
            self.numparams,
            self.is_vararg,
            self.maxstacksize,
        )

    def walk(self) -> Iterator["Proto"]:
        """Yield this proto and all nested ones, in pre-order (dump order)."""
        yield self
        for child in self.protos:
            yield from child.walk()
