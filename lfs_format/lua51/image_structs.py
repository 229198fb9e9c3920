"""Construct definitions of the LFS flash image records, one set per target.

Facts from `app/lua/lflash.h` (FlashHeader, signature bits) and
`app/lua/luac_cross/lflashimg.c` (FlashTS, the repacked Proto, TValues).
Every record is a whole number of little-endian 32-bit words; address fields
hold word indices into the image (position-independent form) or mapped
addresses (absolute form), so they are plain `Int32ul` here and the builder
and loader decide what they mean. The same structs build images
(`lfs_format.lua51.image`) and parse them (the loader), in the manner of
pyelftools' `ELFStructs`: `ImageStructs(target)` is built once per target.
"""

from construct import (
    Adapter,
    Aligned,
    Bytes,
    Const,
    Container,
    Default,
    Float64l,
    Int8ul,
    Int32sl,
    Int32ul,
    Padding,
    Struct,
    this,
)

from ..target import Target

# the layout facts, which the image builder imports without construct
from .flash_layout import (  # noqa: F401 - re-exported for the loader and the device model
    FLASH_FORMAT_MASK,
    FLASH_FORMAT_VERSION,
    FLASH_HEADER_WORDS,
    FLASH_SIG_ABSOLUTE,
    FLASH_SIG_B1,
    FLASH_SIG_B2,
    FLASH_SIG_B2_MASK,
    FLASH_SIG_BASE,
    FLASH_SIG_IN_PROGRESS,
    FLASH_TS_WORDS,
    LFS_MARKED,
    LUA_MAX_FLASH_SIZE,
    PROTO_WORDS,
    WORD,
    flash_sig,
    tvalue_size,
)
from .proto import LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING


class _TValueAdapter(Adapter):
    """TValue <-> Container(tt, value).

    `value` is the number for LUA_TNUMBER, the address word for LUA_TSTRING,
    0/1 for LUA_TBOOLEAN and None for LUA_TNIL; unused value bytes are zero
    (lflashimg.c memsets the record first).
    """

    def __init__(self, target: Target):
        self.number = Int32sl if target.integral else Float64l
        super().__init__(Struct("raw" / Bytes(target.number_size), "tt" / Int32ul))
        self.size = target.number_size

    def _decode(self, obj, context, path):
        tt, raw = obj.tt, obj.raw
        if tt == LUA_TNUMBER:
            value = self.number.parse(raw)
        elif tt == LUA_TNIL:
            value = None
        else:
            value = int.from_bytes(raw[:WORD], "little")
        return Container(tt=tt, value=value)

    def _encode(self, obj, context, path):
        tt, value = obj["tt"], obj["value"]
        if tt == LUA_TNUMBER:
            raw = self.number.build(value)
        elif tt == LUA_TNIL:
            raw = bytes(self.size)
        elif tt in (LUA_TSTRING, LUA_TBOOLEAN):
            raw = int(value).to_bytes(WORD, "little").ljust(self.size, b"\0")
        else:
            raise ValueError(f"no TValue encoding for type tag {tt}")
        return Container(raw=raw, tt=tt)


class ImageStructs:
    """The image records for one target; `ImageStructs(t) is ImageStructs(t)`.

    - `flash_header`: FlashHeader, words 0-7 of every image;
    - `flash_ts`: the 4-word FlashTS header of a ROstrt string;
    - `flash_string`: a FlashTS with its bytes, NUL and zero padding;
    - `proto`: the 18-word repacked Proto (lobject.h order, debug-optimised);
    - `tvalue`: one constant, see `_TValueAdapter`;
    - `locvar`: a LocVar (3 words; luac.cross never emits any).
    """

    _cache: dict[Target, "ImageStructs"] = {}

    def __new__(cls, target: Target) -> "ImageStructs":
        structs = cls._cache.get(target)
        if structs is None:
            structs = super().__new__(cls)
            structs._create(target)
            cls._cache[target] = structs
        return structs

    def _create(self, target: Target) -> None:
        self.target = target
        self.sig = flash_sig(target)
        self.tvalue_size = tvalue_size(target)
        self._create_flash_header()
        self._create_flash_ts()
        self._create_proto()
        self.tvalue = _TValueAdapter(target)
        self.locvar = Struct("varname" / Int32ul, "startpc" / Int32sl, "endpc" / Int32sl)

    def _create_flash_header(self) -> None:
        self.flash_header = Struct(
            "flash_sig" / Int32ul,
            "flash_size" / Int32ul,  # bytes, bitmap excluded
            "mainProto" / Int32ul,
            "pROhash" / Int32ul,
            "nROuse" / Int32ul,
            "nROsize" / Int32sl,
            "fill1" / Default(Int32ul, 0),
            "fill2" / Default(Int32ul, 0),
        )

    def _create_flash_ts(self) -> None:
        self.flash_ts = Struct(
            "next" / Int32ul,
            "tt" / Default(Int8ul, LUA_TSTRING),
            "marked" / Default(Int8ul, LFS_MARKED),
            Padding(2),
            "hash" / Int32ul,
            "len" / Int32ul,
        )
        self.flash_string = Aligned(
            WORD,
            Struct(
                "ts" / self.flash_ts,
                "data" / Bytes(this.ts.len),
                Const(b"\0"),
            ),
        )

    def _create_proto(self) -> None:
        self.proto = Struct(
            "next" / Default(Int32ul, 0),
            "tt" / Default(Int8ul, 0),  # forced to 0 by luac.cross ('H')
            "marked" / Default(Int8ul, 0),
            Padding(2),
            "k" / Int32ul,
            "code" / Int32ul,
            "p" / Int32ul,
            "packedlineinfo" / Int32ul,
            "locvars" / Default(Int32ul, 0),
            "upvalues" / Default(Int32ul, 0),
            "source" / Int32ul,
            "sizeupvalues" / Default(Int32sl, 0),
            "sizek" / Int32sl,
            "sizecode" / Int32sl,
            "sizep" / Int32sl,
            "sizelocvars" / Default(Int32sl, 0),
            "linedefined" / Int32sl,
            "lastlinedefined" / Int32sl,
            "gclist" / Default(Int32ul, 0),
            "nups" / Int8ul,
            "numparams" / Int8ul,
            "is_vararg" / Int8ul,
            "maxstacksize" / Int8ul,
        )
