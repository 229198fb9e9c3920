"""construct records of a `.lc` chunk, one set per target: the reader's side.

Shaped like pyelftools' `ELFStructs`: `LcStructs(target)` picks the field
types once (size_t width, lua_Number encoding) and builds each record in its
own `_create_*` method. Only records live here; bulk arrays (code words,
per-pc line ints) and alignment are handled by `lc.py` with `struct`/`array`
for speed, and because NodeMCU's Align4 counts from the start of the file.
The writer (`lc.dump_chunk`) packs the same records with `struct`, so a
compile-and-dump run never imports construct; the header bytes come from
`lc.header_bytes` for both sides.
"""

from functools import cache

from construct import (
    Byte,
    Const,
    Error,
    ExprAdapter,
    Float64l,
    GreedyBytes,
    Int8sl,
    Int16sl,
    Int32sl,
    Int32ul,
    Int64sl,
    Int64ul,
    Pass,
    Prefixed,
    Struct,
    Switch,
    this,
)

from ..target import Target
from .lc import header_bytes
from .proto import LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING


def _decode_string(raw: bytes, ctx) -> bytes | None:
    # size 0 is a NULL pointer; otherwise the trailing NUL is dropped, as
    # lundump's LoadString does (it does not check that the byte is a NUL)
    return raw[:-1] if raw else None


def _encode_string(value: bytes | None, ctx) -> bytes:
    return b"" if value is None else value + b"\0"


_INTEGERS = {1: Int8sl, 2: Int16sl, 4: Int32sl, 8: Int64sl}


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
        if self.target.integral:
            # lundump reads 1/2/4/8-byte integers when converting (toflt); other
            # sizes read nothing there (an undefined value), so "bad constant" here
            self.Number = _INTEGERS.get(self.target.number_size, Error)
        else:
            self.Number = Float64l
        # a Lua string: size_t length including the NUL, 0 for NULL
        self.String = ExprAdapter(Prefixed(self.SizeT, GreedyBytes), _decode_string, _encode_string)

    def _create_header(self) -> None:
        self.Header = Const(header_bytes(self.target))

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
        return self.Header.build(None)


@cache
def lc_structs(target: Target) -> LcStructs:
    """The (cached) records for `target`."""
    return LcStructs(target)
