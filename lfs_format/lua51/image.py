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

from ..errors import ImageError
from ..target import Target
from .flash_layout import (
    FLASH_HEADER_WORDS,
    FLASH_SIG_ABSOLUTE,
    FLASH_TS_WORDS,
    LFS_MARKED,
    LUA_MAX_FLASH_SIZE,
    PROTO_WORDS,
    WORD,
    flash_sig,
    tvalue_size,
)
from .proto import LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, Constant, Proto
from .strtable import collect_strings, proto_strings, rostrt_size

# the source of every stripped proto: what lundump gives a stripped chunk's main
STRIPPED_SOURCE = b"=?"


def is_flash_address(addr: int, target: Target) -> bool:
    """Whether the target's luac.cross accepts `addr` for `-a` (arithmetic on
    32 bits): the ESP8266 tool only its irom0 segment, the ESP32 tool any."""
    if target.address_window is None:
        return True
    start, span = target.address_window
    return (addr - start) & 0xFFFFFFFF <= span


def _words(nbytes: int) -> int:
    return (nbytes + WORD - 1) // WORD


class FlashImage:
    """A built image in position-independent form.

    `words` holds the image with addresses as word indices, `tags` one bit
    per word that is an address. `absolute_addr` is set for `-a` images;
    `absolute_image()` then gives the raw bytes luac.cross writes.
    (A plain class: importing dataclasses costs more than a small build.)
    """

    __slots__ = ("target", "words", "tags", "absolute_addr")

    def __init__(
        self, target: Target, words: array, tags: bytearray, absolute_addr: int | None = None
    ) -> None:
        self.target = target
        self.words = words  # array("I") of flash_size // 4 words
        self.tags = tags  # relocation bitmap, little-endian words
        self.absolute_addr = absolute_addr

    def __repr__(self) -> str:
        return (
            f"FlashImage(target={self.target!r}, words={self.words!r}, "
            f"tags={self.tags!r}, absolute_addr={self.absolute_addr!r})"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not FlashImage:
            return NotImplemented
        return (self.target, self.words, self.tags, self.absolute_addr) == (
            other.target, other.words, other.tags, other.absolute_addr
        )  # fmt: skip

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
        if addr is None or not is_flash_address(addr, self.target):
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
    if absolute_addr is not None and not is_flash_address(absolute_addr, target):
        raise ImageError("'-e' absolute address must be valid flash address")
    return _ImageBuilder(target).build(main, absolute_addr)


# The records as `struct` layouts: the hot path packs these straight into the
# image. `image_structs` keeps the declarative construct definitions the loader
# parses with; tests/test_image.py checks that both give the same bytes.
_FLASH_HEADER = struct.Struct("<5Ii2I")  # sig, size, mainProto, pROhash, nROuse, nROsize, fill
_FLASH_TS = struct.Struct("<I2B2x2I")  # next, tt, marked, hash, len
_PROTO = struct.Struct("<I2B2x7I7iI4B")  # see ImageStructs._create_proto
_LOCVAR = struct.Struct("<I2i")
# Proto words 2-8 (k .. source) in the order _PROTO packs them; words 0 (next)
# and 16 (gclist), the other address words, are always NULL
_PROTO_FIRST_ADDRESS = 2


def _le_words(values) -> bytes:
    """32-bit unsigned words as little-endian bytes."""
    words = array("I", values)
    if sys.byteorder != "little":
        words.byteswap()
    return words.tobytes()


class _ImageBuilder:
    """dumpToFlashImage: the serial allocator and the record writers."""

    def __init__(self, target: Target):
        self.target = target
        self.buf = bytearray()
        self.tags = bytearray(LUA_MAX_FLASH_SIZE // 8)
        self.string_addr: dict[bytes, int] = {}  # string -> its FlashTS word
        self.tvalue_size = tvalue_size(target)
        # a TValue is the value (number, or a word padded to the number's size) then tt
        self.number_tvalue = struct.Struct("<iI" if target.integral else "<dI")
        self.word_tvalue = struct.Struct(f"<I{target.number_size - WORD}xI")

    def alloc(self, nbytes: int) -> int:
        """flashAlloc: the word index of `nbytes` (rounded up to words) of zeros."""
        index = len(self.buf) // WORD
        nwords = _words(nbytes)
        if index + nwords > LUA_MAX_FLASH_SIZE:
            raise ImageError("Out of Flash memory")
        self.buf += bytes(nwords * WORD)
        return index

    def tag(self, index: int) -> None:
        """Flag word `index` as an address in the relocation bitmap."""
        self.tags[index >> 3] |= 1 << (index & 7)

    def put_addrs(self, index: int, addrs: list[int]) -> None:
        """toFlashAddr over an array of non-NULL addresses from word `index` on."""
        self.buf[index * WORD : (index + len(addrs)) * WORD] = _le_words(addrs)
        for i in range(index, index + len(addrs)):
            self.tag(i)

    def build(self, main: Proto, absolute_addr: int | None) -> FlashImage:
        header = self.alloc(FLASH_HEADER_WORDS * WORD)
        buckets, nuse, nsize = self.create_rostrt(main)
        main_addr = self.function_to_flash(main)
        _FLASH_HEADER.pack_into(
            self.buf,
            header * WORD,
            flash_sig(self.target),
            len(self.buf),
            main_addr,
            buckets,
            nuse,
            nsize,
            0,
            0,
        )
        self.tag(header + 2)  # mainProto
        self.tag(header + 3)  # pROhash
        words = array("I")
        words.frombytes(self.buf)
        if sys.byteorder != "little":
            words.byteswap()
        return FlashImage(self.target, words, self.tags, absolute_addr)

    def create_rostrt(self, main: Proto) -> tuple[int, int, int]:
        """createROstrt: the bucket array, then each string pushed on its bucket's chain."""
        strings = collect_strings(main)
        nuse = len(strings)
        nsize = rostrt_size(nuse, margin=self.target.rostrt_margin)
        buckets = self.alloc(nsize * WORD)
        heads = [0] * nsize  # the bucket array: newest FlashTS of each chain
        buf, hashes, string_addr = self.buf, strings.hashes, self.string_addr
        for s in strings:
            h = hashes[s]
            bucket = h & (nsize - 1)
            last = heads[bucket]
            ts = self.alloc(FLASH_TS_WORDS * WORD + len(s) + 1)  # the NUL is zero already
            at = ts * WORD
            _FLASH_TS.pack_into(buf, at, last, LUA_TSTRING, LFS_MARKED, h, len(s))
            at += FLASH_TS_WORDS * WORD
            buf[at : at + len(s)] = s
            if last:
                self.tag(ts)
            heads[bucket] = string_addr[s] = ts
        buf[buckets * WORD : (buckets + nsize) * WORD] = _le_words(heads)
        for bucket, ts in enumerate(heads):
            if ts:
                self.tag(buckets + bucket)
        return buckets, nuse, nsize

    def function_to_flash(self, f: Proto) -> int:
        """functionToFlash: copy `f` bottom-up and return its Proto record's word."""
        children = [self.function_to_flash(child) for child in f.protos]
        p = 0
        if children:
            p = self.alloc(len(children) * WORD)
            self.put_addrs(p, children)
        k = self.copy_constants(f.constants)
        code = 0
        if f.code:
            code = self.alloc(len(f.code) * WORD)
            self.buf[code * WORD : (code + len(f.code)) * WORD] = _le_words(f.code)
        string_addr = self.string_addr
        lineinfo = 0
        if f.packedlineinfo is not None:
            lineinfo = string_addr[f.packedlineinfo.split(b"\0", 1)[0]] + FLASH_TS_WORDS
        locvars = 0
        if f.locvars:
            locvars = self.alloc(len(f.locvars) * _LOCVAR.size)
            for i, var in enumerate(f.locvars):
                at = locvars + i * _LOCVAR.size // WORD
                _LOCVAR.pack_into(
                    self.buf, at * WORD, string_addr[var.varname], var.startpc, var.endpc
                )
                self.tag(at)
        upvalues = 0
        if f.upvalues:
            upvalues = self.alloc(len(f.upvalues) * WORD)
            self.put_addrs(upvalues, [string_addr[name] for name in f.upvalues])
        source = string_addr[f.source] if f.source is not None else 0
        record = self.alloc(PROTO_WORDS * WORD)
        addrs = (k, code, p, lineinfo, locvars, upvalues, source)
        _PROTO.pack_into(
            self.buf,
            record * WORD,
            0,
            0,
            0,  # next, tt, marked: forced to 0 by luac.cross
            *addrs,
            len(f.upvalues),
            len(f.constants),
            len(f.code),
            len(f.protos),
            len(f.locvars),
            f.linedefined,
            f.lastlinedefined,
            0,  # gclist
            f.nups,
            f.numparams,
            f.is_vararg,
            f.maxstacksize,
        )
        for word, addr in enumerate(addrs, record + _PROTO_FIRST_ADDRESS):
            if addr:
                self.tag(word)
        return record

    def copy_constants(self, constants: list[Constant]) -> int:
        """The k array as TValues (flashCopy "V"); 0 when there are none."""
        if not constants:
            return 0
        size = self.tvalue_size
        k = self.alloc(len(constants) * size)
        buf, at = self.buf, k * WORD
        pack_word, pack_number = self.word_tvalue.pack_into, self.number_tvalue.pack_into
        integral = self.target.integral
        for value in constants:
            if isinstance(value, bytes):
                pack_word(buf, at, self.string_addr[value], LUA_TSTRING)
                self.tag(at // WORD)
            elif value is None:
                pack_word(buf, at, 0, LUA_TNIL)
            elif isinstance(value, bool):
                pack_word(buf, at, value, LUA_TBOOLEAN)
            elif integral:
                # lua_Number is an int32 here; no range check, as in lflashimg.c
                pack_number(
                    buf, at, (int(value) + 0x80000000) % 0x100000000 - 0x80000000, LUA_TNUMBER
                )
            else:
                pack_number(buf, at, float(value), LUA_TNUMBER)
            at += size
        return k


def strip_protos(main: Proto) -> Proto:
    """A copy of the tree without debug info, for luacross's `--strip-image`.

    luac.cross ignores `-s` for images. The firmware copes with a NULL
    packedlineinfo (ldebug.h `getline` gives line 0), but not with a NULL
    source: ldebug.c `funcinfo` and `addinfo` call `getstr(p->source)` for
    every error message and debug.getinfo. So each proto keeps a source,
    the one string "=?" that lundump.c gives stripped chunks, and error
    messages read `?:0: ...`. Names of locals and upvalues go too.
    """
    return main.replace(
        source=STRIPPED_SOURCE,
        packedlineinfo=None,
        lineinfo=[],
        locvars=[],
        upvalues=[],
        protos=[strip_protos(child) for child in main.protos],
    )


def strip_debug(main: Proto) -> Proto:
    """A copy of the tree as the ESP32 build's `-s` copies it into an image
    (lflashimg.c `stripdebug`): no line info, local or upvalue names; the
    source stays."""
    return main.replace(
        packedlineinfo=None,
        lineinfo=[],
        locvars=[],
        upvalues=[],
        protos=[strip_debug(child) for child in main.protos],
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
