"""The firmware's side of LFS: `luaL_lfsreload`'s two passes, the boot check
(`luaN_init`) and reading a booted partition back into Protos.

Facts from `app/lua/lflash.c` (see formats reference §9):

- The image file must be longer than 200 bytes; its last 4 bytes (the gzip
  ISIZE) are taken as the total inflated length.
- Pass 1 inflates the whole file through a ring of 2048-byte blocks, with a
  callback when a block fills or the output reaches that length. The first
  callback checks the FlashHeader (version, build type, signature, size,
  length), every callback rolls a CRC-32 over the block and copies out the
  relocation bitmap past `flash_size`. Then the running CRC must equal the
  gzip trailer's. Nothing is written; errors leave the old LFS intact and are
  returned to Lua as the message strings used here.
- Pass 2 erases the sectors the new image needs and inflates again, writing
  each block relocated (`4*word + mapped base` for flagged words); the first
  block carries the signature with IN_PROGRESS (0x08) set, cleared by
  rewriting word 0 once the image is complete. Then the device restarts.

Model notes:
- Pass 2 decodes the same bytes with the same rules as pass 1, so it cannot
  fail differently; `second()` therefore replays pass 1's output through
  pass 2's callback sequence instead of inflating again.
- The device's reader does not fail at end of file: it re-reads a stale
  byte (see `inflate`). Where the firmware's behaviour is undefined (reading
  on for ever past the end, or output past the declared length, which
  overruns its bitmap buffer), the model raises `LoaderError(UNDEFINED)`; it
  is the only message here that is not the firmware's own. Header bytes the
  device reads from a block not yet written (an ISIZE below 32) are taken
  as 0, and so are relocation flags never filled in.
"""

import zlib
from array import array
from dataclasses import dataclass, field

from construct import ConstructError

from ..errors import ImageError, LoaderError
from ..flash import SECTOR_SIZE, SimulatedFlash
from ..inflate import DATA_ERROR, DICT_ERROR, InflateError, Inflater
from ..target import FLOAT, INT, Target
from .image_structs import (
    FLASH_FORMAT_MASK,
    FLASH_FORMAT_VERSION,
    FLASH_SIG_ABSOLUTE,
    FLASH_SIG_B2_MASK,
    FLASH_SIG_IN_PROGRESS,
    FLASH_TS_WORDS,
    PROTO_WORDS,
    WORD,
    ImageStructs,
    flash_sig,
)
from .lineinfo import decode_line_info
from .proto import LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LocVar, Proto

READ_BLOCKSIZE = 1024
WRITE_BLOCKSIZE = 2048
MIN_IMAGE_FILE = 200  # "size of an empty luac output": files up to this size are refused
MAX_FLAGS_BYTES = 0x10000  # larger bitmap allocations fail on the device's heap
ALL_SET = 0xFFFFFFFF
MASK32 = 0xFFFFFFFF

# luaL_lfsreload / loadLFS / procFirstPass messages, in the order of the checks
NO_PARTITION = "No LFS partition allocated"
NOT_FOUND = "LFS image file not found"
READ_ERROR = "read error on LFS image file"
BAD_VERSION = "Incorrect LFS header version"
BAD_BUILD = "Incorrect LFS build type"
BAD_SIGNATURE = "incorrect LFS header signature"
TOO_BIG = "LFS Image too big for configured LFS region"
LENGTH_MISMATCH = "LFS length mismatch"
BAD_DICTIONARY = "invalid dictionary offset on inflate"
BAD_CHECKSUM = "checksum error on LFS image file"
NO_MEMORY = "Memory allocation error"
UPDATED = "LFS region updated.  Restarting."
UNDEFINED = "LFS image ends or overruns where the firmware's behaviour is undefined"

# luaN_init messages (NODE_ERR)
BOOT_NO_IMAGE = "No LFS image loaded\n"
BOOT_BAD_SIG = "Flash sig not correct: 0x{:08x} vs 0x{:08x}\n"
BOOT_BAD_SIZE = "Flash size check failed: 0x{:08x} vs 0xFFFFFFFF; 0x{:08x} >= 0x{:08x}\n"


def firmware_target(integral: bool) -> Target:
    """The image target a firmware build accepts: float (packed TValues) or integer."""
    return INT if integral else FLOAT


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates towards zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


@dataclass(slots=True)
class ValidatedImage:
    """What pass 1 learnt: the header fields it cached and the whole output."""

    target: Target
    sig: int  # flash_sig as in the image (ABSOLUTE bit included)
    flash_size: int  # bytes of image proper (out->flashLen)
    stream_len: int | None  # ISIZE from the file's end, None if it never matches
    output: bytes  # everything the stream inflated to (image + bitmap)
    flags: array  # relocation bitmap words (out->flags)
    compressed_size: int

    @property
    def image(self) -> bytes:
        return self.output[: self.flash_size]


@dataclass(slots=True)
class LoaderPass:
    """`luaL_lfsreload` for one firmware build and partition size.

    `partition_size=None` stands for a partition as large as the image needs
    (the "too big" check cannot fail).
    """

    integral: bool = False
    partition_size: int | None = None
    target: Target = field(init=False)

    def __post_init__(self) -> None:
        self.target = firmware_target(self.integral)

    # -- pass 1 -----------------------------------------------------------------

    def first(self, image: bytes) -> ValidatedImage:
        """Validate `image` (the file's bytes) as pass 1 does; raise LoaderError."""
        if self.partition_size == 0:
            raise LoaderError(NO_PARTITION)
        if len(image) <= MIN_IMAGE_FILE:
            raise LoaderError(READ_ERROR)
        isize = int.from_bytes(image[-4:], "little")
        stream_len = isize if isize < 0x80000000 else None  # out->len is a C int
        state = _FirstPassState(self, isize, stream_len)
        last_chunk = (len(image) - 1) // READ_BLOCKSIZE * READ_BLOCKSIZE
        inflater = Inflater(
            image,
            on_block=state.block,
            block_size=WRITE_BLOCKSIZE,
            stream_len=stream_len,
            eof_byte=image[last_chunk],
            max_output=(stream_len or 0) + WRITE_BLOCKSIZE,
        )
        state.out = inflater.out
        try:
            result = inflater.gzip()
        except InflateError as exc:
            if exc.kind == DICT_ERROR:
                raise LoaderError(BAD_DICTIONARY) from None
            if exc.kind == DATA_ERROR:
                raise LoaderError(READ_ERROR) from None
            raise LoaderError(UNDEFINED) from None
        if result.crc != state.crc:
            raise LoaderError(BAD_CHECKSUM)
        nbytes = state.flags_len * WORD
        return ValidatedImage(
            target=self.target,
            sig=state.sig,
            flash_size=state.flash_len,
            stream_len=stream_len,
            output=result.output,
            flags=array("I", bytes(state.flags[:nbytes]).ljust(nbytes, b"\0")),
            compressed_size=len(image),
        )

    def check_header(self, header: bytes, isize: int) -> tuple[int, int, int]:
        """procFirstPass's checks; returns (sig, flash_size, bitmap words)."""
        fh = ImageStructs(self.target).flash_header.parse(header)
        sig, flash_size = fh.flash_sig, fh.flash_size
        flags_len = ((isize - flash_size) & MASK32) // WORD
        if sig & FLASH_FORMAT_MASK != FLASH_FORMAT_VERSION:
            raise LoaderError(BAD_VERSION)
        expected_sig = flash_sig(self.target)
        if sig & FLASH_SIG_B2_MASK != expected_sig & FLASH_SIG_B2_MASK:
            raise LoaderError(BAD_BUILD)
        if sig & ~FLASH_SIG_ABSOLUTE & MASK32 != expected_sig:
            raise LoaderError(BAD_SIGNATURE)
        too_big = self.partition_size is not None and flash_size > self.partition_size
        if too_big:
            raise LoaderError(TOO_BIG)
        # flashLen/WORDSIZE is unsigned arithmetic in C: a size below 4 wraps
        expected_flags = (1 + ((flash_size // WORD - 1) & MASK32) // 32) & MASK32
        if flash_size & 3 or flags_len != expected_flags:
            raise LoaderError(LENGTH_MISMATCH)
        if flags_len * WORD > MAX_FLAGS_BYTES:
            raise LoaderError(NO_MEMORY)
        return sig, flash_size, flags_len

    # -- pass 2 -----------------------------------------------------------------

    def second(self, validated: ValidatedImage, flash: SimulatedFlash) -> str:
        """Erase, relocate and write as pass 2 does; returns the restart message.

        A `PowerLoss` from the flash propagates, leaving the partition as a
        real power cut would.
        """
        flash_len = validated.flash_size
        for sector in range(_c_div(flash_len - 1, SECTOR_SIZE) + 1):
            flash.erase_sector(sector)
        output, flags = validated.output, validated.flags
        offset = 0
        for ndx in _callback_points(len(output), validated.stream_len):
            if ndx > flash_len:
                nwords = flash_len % WRITE_BLOCKSIZE // WORD
            else:
                nwords = WRITE_BLOCKSIZE // WORD
            start = (ndx - 1) // WRITE_BLOCKSIZE * WRITE_BLOCKSIZE
            block = array("I", output[start : start + nwords * WORD])
            first_word = start // WORD
            base = flash.base
            for i in range(nwords):
                w = first_word + i
                if flags[w >> 5] >> (w & 31) & 1:
                    block[i] = (WORD * block[i] + base) & MASK32
            if ndx <= WRITE_BLOCKSIZE and nwords:
                block[0] = validated.sig | FLASH_SIG_IN_PROGRESS
            flash.write(offset, block.tobytes())
            offset += nwords * WORD
            if ndx >= flash_len:
                flash.write(0, validated.sig.to_bytes(WORD, "little"))
                break
        return UPDATED

    def reload(self, image: bytes, flash: SimulatedFlash) -> str:
        """Both passes; LoaderError from pass 1 leaves `flash` untouched."""
        return self.second(self.first(image), flash)


def _callback_points(total: int, stream_len: int | None):
    """Output positions at which put_byte calls the block callback."""
    ndx = 0
    while ndx < total:
        nxt = min(total, (ndx // WRITE_BLOCKSIZE + 1) * WRITE_BLOCKSIZE)
        if stream_len is not None and ndx < stream_len < nxt:
            nxt = stream_len
        if nxt % WRITE_BLOCKSIZE == 0 or nxt == stream_len:
            yield nxt
        ndx = nxt


@dataclass(slots=True)
class _FirstPassState:
    """procFirstPass's part of `struct OUTPUT`."""

    loader: LoaderPass
    isize: int
    stream_len: int | None
    out: bytearray = field(default_factory=bytearray)
    header_checked: bool = False
    sig: int = 0
    flash_len: int = 0
    flags_len: int = 0
    flags: bytearray = field(default_factory=bytearray)
    crc: int = 0  # zlib form, i.e. ~out->crc

    def block(self, ndx: int) -> None:
        if self.stream_len is not None and ndx > self.stream_len:
            raise LoaderError(UNDEFINED)  # the bitmap copy would overrun its buffer
        length = ndx % WRITE_BLOCKSIZE or WRITE_BLOCKSIZE
        start = ndx - length
        if not self.header_checked:
            header = bytes(self.out[start : start + 32]).ljust(32, b"\0")
            self.sig, self.flash_len, self.flags_len = self.loader.check_header(header, self.isize)
            self.header_checked = True
        self.crc = zlib.crc32(self.out[start:ndx], self.crc)
        if ndx > self.flash_len:
            skip = max(self.flash_len - start, 0)
            self.flags += self.out[start + skip : ndx]


# ---------------------------------------------------------------------------
# absolute images, boot check, read-back


def place_absolute(image: bytes, flash: SimulatedFlash) -> None:
    """Flash a raw `-a` image at the partition start, as esptool would."""
    if len(image) > flash.size:
        raise LoaderError(
            f"absolute image of {len(image)} bytes does not fit a {flash.size}-byte LFS partition"
        )
    padded = image + b"\xff" * (-len(image) % WORD)
    for sector in range((len(padded) + SECTOR_SIZE - 1) // SECTOR_SIZE):
        flash.erase_sector(sector)
    flash.write(0, padded)


def absolute_base(image: bytes) -> int | None:
    """The mapped address an `-a` image was built for (pROhash points at word 8)."""
    if len(image) < 32 or not int.from_bytes(image[:4], "little") & FLASH_SIG_ABSOLUTE:
        return None
    return (int.from_bytes(image[12:16], "little") - 8 * WORD) & MASK32


@dataclass(frozen=True, slots=True)
class BootResult:
    """luaN_init's verdict: `message` is what NODE_ERR printed (None when booted)."""

    message: str | None
    main_proto: int = 0  # mapped address of the lookup main (ROpvmain)
    rohash: int = 0
    nrouse: int = 0
    nrosize: int = 0
    flash_size: int = 0

    @property
    def booted(self) -> bool:
        return self.message is None


def boot(flash: SimulatedFlash, integral: bool = False) -> BootResult:
    """luaN_init: decide whether the partition holds a usable LFS."""
    fh = ImageStructs(firmware_target(integral)).flash_header.parse(flash.read(0, 32))
    sig = fh.flash_sig
    expected = flash_sig(firmware_target(integral))
    if sig in (0, ALL_SET):
        return BootResult(BOOT_NO_IMAGE)
    if sig & ~FLASH_SIG_ABSOLUTE & MASK32 != expected:
        return BootResult(BOOT_BAD_SIG.format(sig & ~FLASH_SIG_ABSOLUTE & MASK32, expected))
    main_offset = (fh.mainProto - flash.base) & MASK32
    if fh.pROhash == ALL_SET or main_offset >= fh.flash_size:
        return BootResult(BOOT_BAD_SIZE.format(fh.pROhash, main_offset, fh.flash_size))
    return BootResult(None, fh.mainProto, fh.pROhash, fh.nROuse, fh.nROsize & MASK32, fh.flash_size)


class _FlashReader:
    """Follows mapped addresses in a booted partition (ImageError when one is bad)."""

    def __init__(self, flash: SimulatedFlash, target: Target, image_size: int | None = None):
        self.flash = flash
        # what is read back lies in the image (the flash after it is erased): a crafted
        # count cannot make the model read gigabytes of a large partition
        limit = flash.size if image_size is None else min(flash.size, image_size)
        self.end = flash.base + limit
        self.structs = ImageStructs(target)
        self.strings: dict[int, bytes] = {}
        self.protos: dict[int, Proto] = {}  # by address

    def read(self, address: int, length: int, what: str) -> bytes:
        if not self.flash.contains(address, length) or address % WORD:
            raise ImageError(f"{what} at 0x{address:08x} lies outside the LFS partition")
        if address + length > self.end:
            raise ImageError(f"{what} at 0x{address:08x} lies outside the LFS image")
        return self.flash.read(address - self.flash.base, length)

    def words(self, address: int, count: int, what: str) -> array:
        if count < 0:
            raise ImageError(f"negative {what} count {count}")
        return array("I", self.read(address, count * WORD, what)) if count else array("I")

    def parse(self, struct, address: int, size: int, what: str):
        try:
            return struct.parse(self.read(address, size, what))
        except ConstructError as exc:
            raise ImageError(f"bad {what} at 0x{address:08x}: {exc}") from None

    def read_rostrt(self, boot_result: BootResult) -> None:
        """Walk every ROstrt bucket chain; remember each string by address."""
        limit = boot_result.nrouse
        buckets = self.words(boot_result.rohash, boot_result.nrosize, "ROstrt bucket array")
        for head in buckets:
            ts = head
            while ts:
                if ts in self.strings or len(self.strings) >= limit:
                    raise ImageError(f"ROstrt chain at 0x{ts:08x} loops or exceeds nROuse")
                rec = self.parse(self.structs.flash_ts, ts, FLASH_TS_WORDS * WORD, "FlashTS")
                self.strings[ts] = self.read(ts + FLASH_TS_WORDS * WORD, rec.len + 1, "string")[:-1]
                ts = rec.next
        if len(self.strings) != limit:
            raise ImageError(f"ROstrt holds {len(self.strings)} strings, header says {limit}")

    def string(self, address: int) -> bytes:
        try:
            return self.strings[address]
        except KeyError:
            raise ImageError(f"string at 0x{address:08x} is not in the ROstrt") from None

    def lineinfo(self, address: int) -> bytes:
        """Packed line info points at the bytes of an ROstrt string (FlashTS + 16)."""
        return self.string(address - FLASH_TS_WORDS * WORD)

    def proto(self, address: int, depth: int = 0) -> Proto:
        """The Proto at `address`, read once: Protos that several parents point at (the
        firmware runs such an image) come back as one shared object, so a crafted image
        whose functions share children costs one visit per address, not one per path."""
        done = self.protos.get(address)
        if done is not None:
            return done
        if depth > 200:
            raise ImageError("Proto nesting too deep (a cycle?)")
        f = self.protos[address] = self._read_proto(address, depth)
        return f

    def _read_proto(self, address: int, depth: int) -> Proto:
        rec = self.parse(self.structs.proto, address, PROTO_WORDS * WORD, "Proto")
        tv = self.structs.tvalue_size
        constants = []
        for i in range(rec.sizek):
            raw = self.read(rec.k + i * tv, tv, "constant")
            constants.append(self.constant(raw))
        packed = self.lineinfo(rec.packedlineinfo) if rec.packedlineinfo else None
        return Proto(
            source=self.string(rec.source) if rec.source else None,
            linedefined=rec.linedefined,
            lastlinedefined=rec.lastlinedefined,
            nups=rec.nups,
            numparams=rec.numparams,
            is_vararg=rec.is_vararg,
            maxstacksize=rec.maxstacksize,
            code=list(self.words(rec.code, rec.sizecode, "code")),
            constants=constants,
            protos=[self.proto(a, depth + 1) for a in self.words(rec.p, rec.sizep, "Proto array")],
            packedlineinfo=packed,
            lineinfo=decode_line_info(packed) if packed is not None else [],
            locvars=[
                LocVar(self.string(v[0]), v[1], v[2])
                for v in _triples(self.words(rec.locvars, 3 * rec.sizelocvars, "locvars"))
            ],
            upvalues=[
                self.string(a) for a in self.words(rec.upvalues, rec.sizeupvalues, "upvalue names")
            ],
        )

    def constant(self, raw: bytes):
        try:
            tv = self.structs.tvalue.parse(raw)
        except ConstructError as exc:
            raise ImageError(f"bad constant: {exc}") from None
        if tv.tt == LUA_TNIL:
            return None
        if tv.tt == LUA_TBOOLEAN:
            return bool(tv.value)
        if tv.tt == LUA_TNUMBER:
            return tv.value
        if tv.tt == LUA_TSTRING:
            return self.string(tv.value)
        raise ImageError(f"constant with type tag {tv.tt}")


def _triples(words: array):
    for i in range(0, len(words), 3):
        yield words[i], _signed(words[i + 1]), _signed(words[i + 2])


def _signed(word: int) -> int:
    return word - (1 << 32) if word & 0x80000000 else word


def read_partition(flash: SimulatedFlash, integral: bool = False) -> Proto:
    """The booted partition's lookup main, read back through flash addresses and the ROstrt.

    Raises LoaderError with luaN_init's message when the partition does not boot.
    """
    result = boot(flash, integral)
    if not result.booted:
        raise LoaderError(result.message.rstrip("\n"))
    reader = _FlashReader(flash, firmware_target(integral), result.flash_size)
    reader.read_rostrt(result)
    return reader.proto(result.main_proto)
