"""LFS flash images, laid out word for word as `luac.cross -f` / `-a` does.

Facts from `app/lua/luac_cross/lflashimg.c` (formats reference §7). A serial
allocator hands out words: the FlashHeader, the ROstrt bucket array, one
FlashTS + bytes per string (in the host table's `lua_next` order, see
`strtable`), then every Proto bottom-up: children, p array, constants, code,
locvars, upvalue names, the 18-word record. Addresses are word indices and
each address word is flagged in the relocation bitmap, so the device can
relocate the image wherever its LFS partition is mapped (`4*v + base`).
"""

import struct
import sys
from array import array

from construct import Construct
from dataclasses import dataclass, replace

from .errors import ImageError
from .image_structs import (
    FLASH_HEADER_WORDS,
    FLASH_SIG_ABSOLUTE,
    FLASH_TS_WORDS,
    LUA_MAX_FLASH_SIZE,
    PROTO_ADDRESS_WORDS,
    PROTO_WORDS,
    WORD,
    ImageStructs,
)
from .proto import LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, Constant, Proto
from .strtable import collect_strings, lua_string_hash, proto_strings, rostrt_size
from .target import Target

# valid `-a` addresses: the ESP8266 irom0 segment (luac.c IROM0_SEG, IROM0_SEGMAX)
IROM0_SEG = 0x40210000
IROM0_SEGMAX = 0x00100000

# the source of every stripped proto: what lundump gives a stripped chunk's main
STRIPPED_SOURCE = b"=?"


def is_flash_address(addr: int) -> bool:
    """Whether luac.cross accepts `addr` for `-a` (arithmetic on 32 bits)."""
    return (addr - IROM0_SEG) & 0xFFFFFFFF <= IROM0_SEGMAX


def _words(nbytes: int) -> int:
    return (nbytes + WORD - 1) // WORD


@dataclass(slots=True)
class FlashImage:
    """A built image in position-independent form.

    `words` holds the image with addresses as word indices, `tags` one bit
    per word that is an address. `absolute_addr` is set for `-a` images;
    `absolute_image()` then gives the raw bytes luac.cross writes.
    """

    target: Target
    words: array  # array("I") of flash_size // 4 words
    tags: bytearray  # relocation bitmap, little-endian words
    absolute_addr: int | None = None

    @property
    def flash_size(self) -> int:
        """Bytes of flash the image occupies (the header's flash_size)."""
        return len(self.words) * WORD

    @property
    def image(self) -> bytes:
        """The position-independent image (flash_size bytes, bitmap excluded)."""
        return _to_le_bytes(self.words)

    @property
    def bitmap(self) -> bytes:
        """The relocation bitmap: ceil(words / 32) words, bit w set if word w is an address."""
        return bytes(self.tags[: 4 * ((len(self.words) + 31) // 32)])

    def is_address(self, index: int) -> bool:
        return bool(self.tags[index >> 3] >> (index & 7) & 1)

    def relocatable_payload(self) -> bytes:
        """Image + bitmap: what `-f` gzips (the gzip ISIZE is its length)."""
        return self.image + self.bitmap

    def absolute_image(self, addr: int | None = None) -> bytes:
        """The `-a` image for `addr` (default: the build's): addresses mapped, sig ABSOLUTE."""
        if addr is None:
            addr = self.absolute_addr
        if addr is None or not is_flash_address(addr):
            raise ImageError("'-e' absolute address must be valid flash address")
        words = array("I", self.words)
        for index in range(len(words)):
            if self.tags[index >> 3] and self.is_address(index):
                words[index] = (4 * words[index] + addr) & 0xFFFFFFFF
        words[0] |= FLASH_SIG_ABSOLUTE
        return _to_le_bytes(words)


def _to_le_bytes(words: array) -> bytes:
    if sys.byteorder == "little":
        return words.tobytes()
    swapped = array("I", words)
    swapped.byteswap()
    return swapped.tobytes()


def build_image(main: Proto, target: Target, *, absolute_addr: int | None = None) -> FlashImage:
    """Lay out the proto tree of `main` (normally a lookup main) as an LFS image.

    Raises ImageError("Out of Flash memory") past 65536 words, and for an
    `absolute_addr` outside the irom0 segment.
    """
    if absolute_addr is not None and not is_flash_address(absolute_addr):
        raise ImageError("'-e' absolute address must be valid flash address")
    return _ImageBuilder(target).build(main, absolute_addr)


class _ImageBuilder:
    """dumpToFlashImage: the serial allocator and the record writers."""

    def __init__(self, target: Target):
        self.target = target
        self.structs = ImageStructs(target)
        self.buf = bytearray()
        self.tags = bytearray(LUA_MAX_FLASH_SIZE // 8)
        self.string_addr: dict[bytes, int] = {}  # string -> its FlashTS word

    def alloc(self, nbytes: int) -> int:
        """flashAlloc: the word index of `nbytes` (rounded up to words) of zeros."""
        index = len(self.buf) // WORD
        if index + _words(nbytes) > LUA_MAX_FLASH_SIZE:
            raise ImageError("Out of Flash memory")
        self.buf += bytes(_words(nbytes) * WORD)
        return index

    def put(self, index: int, data: bytes) -> None:
        self.buf[index * WORD : index * WORD + len(data)] = data

    def tag(self, index: int) -> None:
        self.tags[index >> 3] |= 1 << (index & 7)

    def put_addr(self, index: int, target_index: int) -> None:
        """toFlashAddr: store an address word and flag it; NULL (0) stays untagged."""
        if target_index:
            self.put(index, target_index.to_bytes(WORD, "little"))
            self.tag(index)

    def put_record(self, index: int, record: Construct, fields: dict, address_words) -> None:
        """Build one record and flag its non-NULL address words."""
        self.put(index, record.build(fields))
        for w in address_words:
            if self.buf[(index + w) * WORD : (index + w + 1) * WORD] != bytes(WORD):
                self.tag(index + w)

    def build(self, main: Proto, absolute_addr: int | None) -> FlashImage:
        header = self.alloc(FLASH_HEADER_WORDS * WORD)
        buckets, nuse, nsize = self.create_rostrt(main)
        main_addr = self.function_to_flash(main)
        self.put_record(
            header,
            self.structs.flash_header,
            dict(
                flash_sig=self.structs.sig,
                flash_size=len(self.buf),
                mainProto=main_addr,
                pROhash=buckets,
                nROuse=nuse,
                nROsize=nsize,
            ),
            (2, 3),
        )
        words = array("I")
        words.frombytes(bytes(self.buf))
        if sys.byteorder != "little":
            words.byteswap()
        return FlashImage(self.target, words, self.tags, absolute_addr)

    def create_rostrt(self, main: Proto) -> tuple[int, int, int]:
        """createROstrt: the bucket array, then each string chained to its bucket."""
        strings = collect_strings(main)
        nuse = len(strings)
        nsize = rostrt_size(nuse)
        buckets = self.alloc(nsize * WORD)
        flash_string = self.structs.flash_string
        for s in strings:
            bucket = buckets + (lua_string_hash(s) & (nsize - 1))
            last = int.from_bytes(self.buf[bucket * WORD : (bucket + 1) * WORD], "little")
            record = flash_string.build(
                dict(ts=dict(next=last, hash=lua_string_hash(s), len=len(s)), data=s)
            )
            ts = self.alloc(FLASH_TS_WORDS * WORD)
            self.alloc(len(s) + 1)
            self.put(ts, record)
            if last:
                self.tag(ts)
            self.put_addr(bucket, ts)
            self.string_addr[s] = ts
        return buckets, nuse, nsize

    def function_to_flash(self, f: Proto) -> int:
        """functionToFlash: copy `f` bottom-up and return its Proto record's word."""
        children = [self.function_to_flash(child) for child in f.protos]
        p = 0
        if children:
            p = self.alloc(len(children) * WORD)
            for i, child in enumerate(children):
                self.put_addr(p + i, child)
        k = self.copy_constants(f.constants)
        code = 0
        if f.code:
            code = self.alloc(len(f.code) * WORD)
            self.put(code, struct.pack(f"<{len(f.code)}I", *f.code))
        lineinfo = 0
        if f.packedlineinfo is not None:
            lineinfo = self.string_addr[f.packedlineinfo.split(b"\0", 1)[0]] + FLASH_TS_WORDS
        locvars = 0
        if f.locvars:
            locvars = self.alloc(len(f.locvars) * 3 * WORD)
            for i, var in enumerate(f.locvars):
                fields = dict(varname=self.string_addr[var.varname], startpc=var.startpc,
                              endpc=var.endpc)
                self.put_record(locvars + 3 * i, self.structs.locvar, fields, (0,))
        upvalues = 0
        if f.upvalues:
            upvalues = self.alloc(len(f.upvalues) * WORD)
            for i, name in enumerate(f.upvalues):
                self.put_addr(upvalues + i, self.string_addr[name])
        record = self.alloc(PROTO_WORDS * WORD)
        fields = dict(
            k=k,
            code=code,
            p=p,
            packedlineinfo=lineinfo,
            locvars=locvars,
            upvalues=upvalues,
            source=self.string_addr[f.source] if f.source is not None else 0,
            sizeupvalues=len(f.upvalues),
            sizek=len(f.constants),
            sizecode=len(f.code),
            sizep=len(f.protos),
            sizelocvars=len(f.locvars),
            linedefined=f.linedefined,
            lastlinedefined=f.lastlinedefined,
            nups=f.nups,
            numparams=f.numparams,
            is_vararg=f.is_vararg,
            maxstacksize=f.maxstacksize,
        )
        self.put_record(record, self.structs.proto, fields, PROTO_ADDRESS_WORDS)
        return record

    def copy_constants(self, constants: list[Constant]) -> int:
        """The k array as TValues (flashCopy "V"); 0 when there are none."""
        if not constants:
            return 0
        size = self.structs.tvalue_size
        k = self.alloc(len(constants) * size)
        tvalue = self.structs.tvalue
        for i, value in enumerate(constants):
            index = k + i * size // WORD
            if isinstance(value, bytes):
                self.put(index, tvalue.build(dict(tt=LUA_TSTRING, value=self.string_addr[value])))
                self.tag(index)
            else:
                self.put(index, tvalue.build(self.tvalue_fields(value)))
        return k

    def tvalue_fields(self, value: Constant) -> dict:
        if value is None:
            return dict(tt=LUA_TNIL, value=None)
        if isinstance(value, bool):
            return dict(tt=LUA_TBOOLEAN, value=int(value))
        if self.target.integral:
            # lua_Number is an int32 here; no range check, as in lflashimg.c
            value = (int(value) + 0x80000000) % 0x100000000 - 0x80000000
        else:
            value = float(value)
        return dict(tt=LUA_TNUMBER, value=value)


def strip_protos(main: Proto) -> Proto:
    """A copy of the tree without debug info, for luacross's `--strip-image`.

    luac.cross ignores `-s` for images. The firmware copes with a NULL
    packedlineinfo (ldebug.h `getline` gives line 0), but not with a NULL
    source: ldebug.c `funcinfo` and `addinfo` call `getstr(p->source)` for
    every error message and debug.getinfo. So each proto keeps a source,
    the one string "=?" that lundump.c gives stripped chunks, and error
    messages read `?:0: ...`. Names of locals and upvalues go too.
    """
    return replace(
        main,
        source=STRIPPED_SOURCE,
        packedlineinfo=None,
        lineinfo=[],
        locvars=[],
        upvalues=[],
        protos=[strip_protos(child) for child in main.protos],
    )


def rostrt_bytes(main: Proto) -> int:
    """Bytes of the ROstrt (buckets, FlashTS records and string bytes) of a tree."""
    strings = set(proto_strings(main))
    return WORD * rostrt_size(len(strings)) + sum(
        WORD * (FLASH_TS_WORDS + _words(len(s) + 1)) for s in strings
    )


def strip_savings(main: Proto) -> int:
    """Flash bytes `strip_protos` saves on `main`: only the ROstrt shrinks."""
    return rostrt_bytes(main) - rostrt_bytes(strip_protos(main))
