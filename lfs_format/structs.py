"""construct records of a `.lc` chunk, one set per target.

Shaped like pyelftools' `ELFStructs`: `LcStructs(target)` picks the field
types once (size_t width, lua_Number encoding) and builds each record in its
own `_create_*` method. Only records live here; bulk arrays (code words,
per-pc line ints) and alignment are handled by `lc.py` with `struct`/`array`
for speed, and because NodeMCU's Align4 counts from the start of the file.
"""

from functools import cache

from construct import (
    Byte,
    Const,
    Error,
    ExprAdapter,
    Float64l,
    Int32sl,
    Int32ul,
    Int64ul,
    Pass,
    Prefixed,
    GreedyBytes,
    Struct,
    Switch,
    this,
)

from .proto import LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING
from .target import Target

LUA_SIGNATURE = b"\x1bLua"
LUAC_VERSION = 0x51
LUAC_FORMAT = 0
LUAC_HEADERSIZE = 12
SIZEOF_INT = 4
SIZEOF_INSTRUCTION = 4


def _decode_string(raw: bytes, ctx) -> bytes | None:
    # size 0 is a NULL pointer; otherwise the trailing NUL is dropped, as
    # lundump's LoadString does (it does not check that the byte is a NUL)
    return raw[:-1] if raw else None


def _encode_string(value: bytes | None, ctx) -> bytes:
    return b"" if value is None else value + b"\0"


class LcStructs:
    """Every construct record of a `.lc` chunk for one `Target`."""

    def __init__(self, target: Target):
        self.target = target
        self._create_basic_structs()
        self._create_header()
        self._create_function_scalars()
        self._create_constant()
        self._create_locvar()

    def _create_basic_structs(self) -> None:
        self.Int = Int32sl
        self.SizeT = Int32ul if self.target.sizet_size == 4 else Int64ul
        self.Number = Int32sl if self.target.integral else Float64l
        # a Lua string: size_t length including the NUL, 0 for NULL
        self.String = ExprAdapter(Prefixed(self.SizeT, GreedyBytes), _decode_string, _encode_string)

    def _create_header(self) -> None:
        t = self.target
        # bytes 10-11 (sizeof lua_Number, integral flag) are chosen here only
        self.Header = Struct(
            "signature" / Const(LUA_SIGNATURE),
            "version" / Const(LUAC_VERSION, Byte),
            "format" / Const(LUAC_FORMAT, Byte),
            "little_endian" / Const(1, Byte),
            "sizeof_int" / Const(SIZEOF_INT, Byte),
            "sizeof_size_t" / Const(t.sizet_size, Byte),
            "sizeof_instruction" / Const(SIZEOF_INSTRUCTION, Byte),
            "sizeof_number" / Const(t.number_size, Byte),
            "integral" / Const(int(t.integral), Byte),
        )

    def _create_function_scalars(self) -> None:
        # the fields between the source string and sizecode (ldump's DumpFunction)
        self.FunctionScalars = Struct(
            "linedefined" / self.Int,
            "lastlinedefined" / self.Int,
            "nups" / Byte,
            "numparams" / Byte,
            "is_vararg" / Byte,
            "maxstacksize" / Byte,
        )

    def _create_constant(self) -> None:
        self.Constant = Struct(
            "type" / Byte,
            "value"
            / Switch(
                this.type,
                {
                    LUA_TNIL: Pass,
                    LUA_TBOOLEAN: Byte,
                    LUA_TNUMBER: self.Number,
                    LUA_TSTRING: self.String,
                },
                default=Error,  # lundump: "bad constant"
            ),
        )

    def _create_locvar(self) -> None:
        self.LocVar = Struct("varname" / self.String, "startpc" / self.Int, "endpc" / self.Int)

    def header_bytes(self) -> bytes:
        return self.Header.build({})


@cache
def lc_structs(target: Target) -> LcStructs:
    """The (cached) records for `target`."""
    return LcStructs(target)
