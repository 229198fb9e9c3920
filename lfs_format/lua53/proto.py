"""The Lua 5.3 function prototype, as NodeMCU's app/lua53 `lobject.h` holds it.

Every 5.3 phase produces or consumes this model: the code generator makes it,
`.lc` (format 10) and LFS images (format 11) encode it, the loaders read it back.

Constants are plain Python values with their Lua 5.3 subtype kept apart:
`None` (nil), `bool`, `int` (lua_Integer), `float` (lua_Number; in the default
build always a value a C `float` can hold) and `bytes` (strings). Because
`True == 1 == 1.0` in Python, compare constants with `constant_key`.
"""

Constant = None | bool | int | float | bytes


def constant_key(value: Constant) -> tuple[type, object]:
    """A key that tells apart constants Python's `==` conflates (1, 1.0, True; 0.0, -0.0)."""
    if isinstance(value, float):
        return (float, value.hex())
    return (type(value), value)


class Upvaldesc:
    """An upvalue: `instack` 1 when it is a register of the enclosing function
    (`idx` is that register), 0 when it is the enclosing function's upvalue `idx`."""

    __slots__ = ("name", "instack", "idx")

    def __init__(self, name: bytes | None, instack: int, idx: int) -> None:
        self.name = name
        self.instack = instack
        self.idx = idx

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Upvaldesc):
            return NotImplemented
        return (self.name, self.instack, self.idx) == (other.name, other.instack, other.idx)

    def __repr__(self) -> str:
        return f"Upvaldesc({self.name!r}, instack={self.instack}, idx={self.idx})"


class LocVar:
    """A local variable's debug record (NodeMCU drops them after parsing)."""

    __slots__ = ("varname", "startpc", "endpc")

    def __init__(self, varname: bytes, startpc: int, endpc: int) -> None:
        self.varname = varname
        self.startpc = startpc
        self.endpc = endpc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LocVar):
            return NotImplemented
        return (self.varname, self.startpc, self.endpc) == (
            other.varname,
            other.startpc,
            other.endpc,
        )

    def __repr__(self) -> str:
        return f"LocVar({self.varname!r}, {self.startpc}, {self.endpc})"


class Proto:
    """One compiled Lua 5.3 function.

    `code` holds raw 32-bit instruction words. `lineinfo` is NodeMCU's packed
    line info bytes (lcode.c `luaK_addlineinfo`) including the 0 terminator
    that `close_func` appends, or b"" when there is none. `source` is None
    where a dump writes NULL.
    """

    __slots__ = (
        "source",
        "linedefined",
        "lastlinedefined",
        "numparams",
        "is_vararg",
        "maxstacksize",
        "code",
        "constants",
        "protos",
        "upvalues",
        "lineinfo",
        "locvars",
    )

    def __init__(self) -> None:
        self.source: bytes | None = None
        self.linedefined = 0
        self.lastlinedefined = 0
        self.numparams = 0
        self.is_vararg = 0
        self.maxstacksize = 2  # lparser.c open_func: registers 0/1 are always valid
        self.code: list[int] = []
        self.constants: list[Constant] = []
        self.protos: list[Proto] = []
        self.upvalues: list[Upvaldesc] = []
        self.lineinfo = b""
        self.locvars: list[LocVar] = []

    def __eq__(self, other: object) -> bool:
        """Structural equality; constants compared with `constant_key`."""
        if not isinstance(other, Proto):
            return NotImplemented
        return (
            self.header() == other.header()
            and self.code == other.code
            and [constant_key(k) for k in self.constants]
            == [constant_key(k) for k in other.constants]
            and self.upvalues == other.upvalues
            and self.lineinfo == other.lineinfo
            and self.locvars == other.locvars
            and self.protos == other.protos
        )

    def header(self) -> tuple[object, ...]:
        """The scalar fields, in dump order (for comparisons and messages)."""
        return (
            self.source,
            self.linedefined,
            self.lastlinedefined,
            self.numparams,
            self.is_vararg,
            self.maxstacksize,
        )

    def __repr__(self) -> str:
        return (
            f"Proto(source={self.source!r}, linedefined={self.linedefined}, "
            f"code={len(self.code)} instructions, constants={self.constants!r}, "
            f"protos={len(self.protos)})"
        )
