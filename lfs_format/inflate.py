"""A pure-Python gzip/raw-deflate decoder with NodeMCU's uzlib limits.

This models `app/uzlib/uzlib_inflate.c` as the LFS loader drives it
(`app/lua/lflash.c`), including where it differs from zlib:

- Stored, fixed and dynamic blocks are accepted. A back-reference must have
  distance <= 16384 (the loader keeps 16 KiB of output) and strictly less than
  the number of bytes already output, so a reference to output byte 0 fails
  (`recall_byte`: "invalid dictionary offset on inflate").
- Huffman decoding is uzlib's canonical decoder: codes of one length are
  numbered on from the shorter ones and a code that no longer fits its length
  can never be decoded; a bit pattern that matches no code within 15 bits is a
  data error. Length symbols 286/287 and distance symbols 30/31 are not
  rejected: uzlib indexes its base/extra-bit tables past their end, reading the
  neighbouring table bytes; those values are reproduced here (286: 6 extra
  bits + 323; 287: 3 extra bits + 0, where a length of 0 underflows to a copy
  of 2**32-1 bytes; 30: 1 extra bit + 4368; 31: 18). A repeat-previous code
  length (16) first in a dynamic header reads before the array; 0 is assumed.
- The gzip header must be 1f 8b 08 with no reserved FLG bits; FEXTRA, FNAME,
  FCOMMENT and FHCRC are skipped, FEXTRA with XLEN 0 skipping to the next NUL
  as uzlib does. The trailer CRC is returned, not checked (the loader checks
  it against its own running CRC); ISIZE is ignored.
- Reading past the end of the input: uzlib's reader does not fail, it keeps
  returning the first byte of the last 1 KiB input chunk (`eof_byte`). With
  `eof_byte=None` (plain decoding) such a read is an error instead; either
  way at most EOF_READ_LIMIT bytes are read past the end, beyond which the
  device would hang.
- `on_block(end)` is called whenever the output reaches a multiple of
  `block_size` or exactly `stream_len` (the loader's `put_byte`), before any
  later symbol is decoded, so errors come in the device's order.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .errors import LuacrossError

DICTIONARY_WINDOW = 16384
BLOCK_SIZE = 2048
EOF_READ_LIMIT = 65536
DEFAULT_MAX_OUTPUT = 1 << 24

# uzlib_inflate.c's results
DATA_ERROR = "data"  # UZLIB_DATA_ERROR
DICT_ERROR = "dictionary"  # recall_byte's offset check
TRUNCATED = "truncated"  # read past the end of the input
OVERRUN = "overrun"  # output beyond max_output

# Order of the code-length code lengths (RFC 1951 3.2.7, uzlib's clcidx)
CLCIDX = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)


def _bits_base(delta: int, first: int) -> tuple[list[int], list[int]]:
    """uzlib's build_bits_base: extra-bit counts and base values, 30 entries."""
    bits = [0] * delta + [i // delta for i in range(30 - delta)]
    base, total = [], first
    for b in bits:
        base.append(total)
        total += 1 << b
    return bits, base


def _symbol_tables() -> tuple[tuple[int, ...], ...]:
    lbits, lbase = _bits_base(4, 3)
    lbits[28], lbase[28] = 0, 258  # uzlib's "special case", set after building
    dbits, dbase = _bits_base(2, 1)
    # out-of-range indexes read the following struct fields (little-endian):
    # lengthBits[30] = low byte of lengthBase[0]; lengthBase[30] = distBits[0:2];
    # distBits[30:32] = distBase[0]; distBase[30:32] = clcidx[0:4]
    lbits.append(lbase[0] & 0xFF)
    lbase.append(dbits[0] | dbits[1] << 8)
    dbits += [dbase[0] & 0xFF, dbase[0] >> 8]
    dbase += [CLCIDX[0] | CLCIDX[1] << 8, CLCIDX[2] | CLCIDX[3] << 8]
    return tuple(lbits), tuple(lbase), tuple(dbits), tuple(dbase)


LENGTH_BITS, LENGTH_BASE, DIST_BITS, DIST_BASE = _symbol_tables()


class InflateError(LuacrossError):
    """A stream uzlib rejects; `kind` is DATA_ERROR, DICT_ERROR, TRUNCATED or OVERRUN."""

    def __init__(self, kind: str, message: str, offset: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.offset = offset


@dataclass(frozen=True, slots=True)
class HuffmanTable:
    """A decode table indexed by the next `bits` input bits (LSB first).

    Each entry is `symbol << 4 | code_length`, or 0 where no code matches.
    """

    entries: tuple[int, ...]
    bits: int

    @classmethod
    def from_lengths(cls, lengths: list[int]) -> "HuffmanTable":
        counts = [0] * 16
        for length in lengths:
            counts[length] += 1
        counts[0] = 0
        maxbits = max((n for n in range(1, 16) if counts[n]), default=1)
        next_code = [0] * 16
        code = 0
        for n in range(1, 16):
            code = (code + counts[n - 1]) << 1
            next_code[n] = code
        entries = [0] * (1 << maxbits)
        for symbol, length in sorted(enumerate(lengths), key=lambda e: (e[1], e[0])):
            if not length:
                continue
            code = next_code[length]
            next_code[length] = code + 1
            if code >= 1 << length:
                continue  # over-subscribed: uzlib can never reach this code
            reversed_code = int(f"{code:0{length}b}"[::-1], 2)
            entry = symbol << 4 | length
            for index in range(reversed_code, 1 << maxbits, 1 << length):
                entries[index] = entry
        return cls(tuple(entries), maxbits)


FIXED_LITERALS = HuffmanTable.from_lengths([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8)
FIXED_DISTANCES = HuffmanTable.from_lengths([5] * 32)


@dataclass(frozen=True, slots=True)
class InflateResult:
    output: bytes
    crc: int  # CRC-32 from the gzip trailer (0 for raw deflate)
    end: int  # input offset just past the stream (and trailer)


class Inflater:
    """One decoding run over `data`; see the module docstring for the options."""

    def __init__(
        self,
        data: bytes,
        *,
        on_block: Callable[[int], None] | None = None,
        block_size: int = BLOCK_SIZE,
        stream_len: int | None = None,
        window: int = DICTIONARY_WINDOW,
        eof_byte: int | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ):
        self.size = len(data)
        self.data = bytes(data) + bytes([eof_byte or 0]) * EOF_READ_LIMIT
        self.strict_eof = eof_byte is None
        self.on_block = on_block
        self.block_size = block_size
        self.stream_len = stream_len
        self.window = window
        self.max_output = max_output
        self.out = bytearray()
        self.next_mark = self._mark_after(0)
        self.pos = 0
        self.bitbuf = 0
        self.bitcnt = 0

    # -- output marks (block callbacks) ----------------------------------------

    def _mark_after(self, n: int) -> int:
        """The next output length > n at which something must happen."""
        mark = self.max_output + 1
        if self.on_block is not None:
            mark = min(mark, (n // self.block_size + 1) * self.block_size)
            if self.stream_len is not None and n < self.stream_len:
                mark = min(mark, self.stream_len)
        return mark

    def _reach_mark(self) -> None:
        """Output length has reached `next_mark`: run the callback, or fail."""
        n = len(self.out)
        if n > self.max_output:
            raise InflateError(OVERRUN, f"output exceeds {self.max_output} bytes")
        if self.on_block is not None:
            self.on_block(n)
        self.next_mark = self._mark_after(n)

    def _put(self, chunk: bytes) -> None:
        """Append `chunk`, stopping at each mark on the way (stored blocks)."""
        out = self.out
        while chunk:
            room = self.next_mark - len(out)
            out += chunk[:room]
            chunk = chunk[room:]
            if len(out) >= self.next_mark:
                self._reach_mark()

    def _copy(self, dist: int, length: int) -> None:
        """Append a back-reference, stopping at each mark on the way."""
        out = self.out
        while length:
            seg = min(length, self.next_mark - len(out))
            start = len(out) - dist
            if dist >= seg:
                out += out[start : start + seg]
            else:  # overlapping: the last `dist` bytes repeat
                pattern = out[start:]
                out += (pattern * (seg // dist + 1))[:seg]
            length -= seg
            if len(out) >= self.next_mark:
                self._reach_mark()

    # -- bit input (used for headers; the symbol loop inlines it) ---------------

    def _need(self, n: int) -> None:
        data, pos, bitbuf, bitcnt = self.data, self.pos, self.bitbuf, self.bitcnt
        try:
            while bitcnt < n:
                bitbuf |= data[pos] << bitcnt
                pos += 1
                bitcnt += 8
        except IndexError:
            raise self._truncated() from None
        self.pos, self.bitbuf, self.bitcnt = pos, bitbuf, bitcnt

    def _bits(self, n: int) -> int:
        self._need(n)
        value = self.bitbuf & ((1 << n) - 1)
        self.bitbuf >>= n
        self.bitcnt -= n
        return value

    def _decode(self, table: HuffmanTable) -> int:
        self._need(table.bits)
        entry = table.entries[self.bitbuf & ((1 << table.bits) - 1)]
        if not entry:
            raise InflateError(DATA_ERROR, "invalid Huffman code", self.byte_pos())
        self.bitbuf >>= entry & 15
        self.bitcnt -= entry & 15
        return entry >> 4

    def byte_pos(self) -> int:
        """Input offset of the next byte not yet (even partly) consumed."""
        return self.pos - self.bitcnt // 8

    def _align(self) -> int:
        """Drop the partial byte and the read-ahead; return the byte position."""
        pos = self.byte_pos()
        self.pos, self.bitbuf, self.bitcnt = pos, 0, 0
        return pos

    def _read_bytes(self, n: int) -> bytes:
        pos = self._align()
        if pos + n > len(self.data):
            raise self._truncated()
        self.pos = pos + n
        return self.data[pos : pos + n]

    def _truncated(self) -> InflateError:
        return InflateError(TRUNCATED, "compressed data ends early", self.size)

    # -- stream structure --------------------------------------------------------

    def gzip(self) -> InflateResult:
        """Decode a gzip member (uzlib's parse_gzip_header + stream + trailer)."""
        magic = self._read_bytes(10)
        if magic[:3] != b"\x1f\x8b\x08" or magic[3] & 0xE0:
            raise InflateError(DATA_ERROR, "not a gzip deflate stream", 0)
        flags = magic[3]
        if flags & 0x04:  # FEXTRA
            xlen = int.from_bytes(self._read_bytes(2), "little")
            if xlen:
                self._read_bytes(xlen)
            else:
                self._skip_string()
        if flags & 0x08:  # FNAME
            self._skip_string()
        if flags & 0x10:  # FCOMMENT
            self._skip_string()
        if flags & 0x02:  # FHCRC
            self._read_bytes(2)
        self._blocks()
        crc = int.from_bytes(self._read_bytes(4), "little")
        self._read_bytes(4)  # ISIZE: the loader read it from the file's end
        return self._result(crc)

    def raw(self) -> InflateResult:
        """Decode a raw deflate stream (RFC 1951)."""
        self._blocks()
        self._align()
        return self._result(0)

    def _result(self, crc: int) -> InflateResult:
        if self.strict_eof and self.pos > self.size:
            raise self._truncated()
        return InflateResult(bytes(self.out), crc, self.pos)

    def _skip_string(self) -> None:
        pos = self._align()
        try:
            self.pos = self.data.index(0, pos) + 1
        except ValueError:
            raise self._truncated() from None

    def _blocks(self) -> None:
        while True:
            final = self._bits(1)
            btype = self._bits(2)
            if btype == 0:
                self._stored_block()
            elif btype == 1:
                self._huffman_block(FIXED_LITERALS, FIXED_DISTANCES)
            elif btype == 2:
                self._huffman_block(*self._dynamic_tables())
            else:
                raise InflateError(DATA_ERROR, "invalid block type 3", self.byte_pos())
            if self.strict_eof and self.byte_pos() > self.size:
                raise self._truncated()
            if final:
                return

    def _stored_block(self) -> None:
        header = self._read_bytes(4)
        length = header[0] | header[1] << 8
        if length != ~(header[2] | header[3] << 8) & 0xFFFF:
            raise InflateError(DATA_ERROR, "stored block length check fails", self.pos - 4)
        self._put(self._read_bytes(length))

    def _dynamic_tables(self) -> tuple[HuffmanTable, HuffmanTable]:
        hlit = self._bits(5) + 257
        hdist = self._bits(5) + 1
        hclen = self._bits(4) + 4
        cl_lengths = [0] * 19
        for i in range(hclen):
            cl_lengths[CLCIDX[i]] = self._bits(3)
        cl_table = HuffmanTable.from_lengths(cl_lengths)
        total = hlit + hdist
        lengths: list[int] = []
        while len(lengths) < total:
            sym = self._decode(cl_table)
            if sym < 16:
                lengths.append(sym)
                continue
            if sym == 16:
                fill, count = (lengths[-1] if lengths else 0), self._bits(2) + 3
            elif sym == 17:
                fill, count = 0, self._bits(3) + 3
            else:
                fill, count = 0, self._bits(7) + 11
            if len(lengths) + count > total:
                raise InflateError(DATA_ERROR, "code lengths overflow", self.byte_pos())
            lengths += [fill] * count
        return (
            HuffmanTable.from_lengths(lengths[:hlit]),
            HuffmanTable.from_lengths(lengths[hlit:]),
        )

    def _huffman_block(self, lit: HuffmanTable, dst: HuffmanTable) -> None:
        """The symbol loop, with the bit reader inlined for speed."""
        data, out, window = self.data, self.out, self.window
        lentries, lbits = lit.entries, lit.bits
        dentries, dbits = dst.entries, dst.bits
        lmask, dmask = (1 << lbits) - 1, (1 << dbits) - 1
        pos, bitbuf, bitcnt = self.pos, self.bitbuf, self.bitcnt
        try:
            while True:
                while bitcnt < lbits:
                    bitbuf |= data[pos] << bitcnt
                    pos += 1
                    bitcnt += 8
                entry = lentries[bitbuf & lmask]
                if not entry:
                    raise InflateError(DATA_ERROR, "invalid Huffman code", pos - bitcnt // 8)
                n = entry & 15
                bitbuf >>= n
                bitcnt -= n
                sym = entry >> 4
                if sym < 256:
                    out.append(sym)
                    if len(out) >= self.next_mark:
                        self._reach_mark()
                    continue
                if sym == 256:
                    break
                sym -= 257
                n = LENGTH_BITS[sym]
                while bitcnt < n + dbits:
                    bitbuf |= data[pos] << bitcnt
                    pos += 1
                    bitcnt += 8
                length = LENGTH_BASE[sym] + (bitbuf & ((1 << n) - 1))
                bitbuf >>= n
                bitcnt -= n
                entry = dentries[bitbuf & dmask]
                if not entry:
                    raise InflateError(DATA_ERROR, "invalid Huffman code", pos - bitcnt // 8)
                n = entry & 15
                bitbuf >>= n
                bitcnt -= n
                sym = entry >> 4
                n = DIST_BITS[sym]
                while bitcnt < n:
                    bitbuf |= data[pos] << bitcnt
                    pos += 1
                    bitcnt += 8
                dist = DIST_BASE[sym] + (bitbuf & ((1 << n) - 1))
                bitbuf >>= n
                bitcnt -= n
                have = len(out)
                if dist > window or dist >= have:
                    raise InflateError(
                        DICT_ERROR,
                        f"back-reference distance {dist} with {have} bytes output",
                        pos - bitcnt // 8,
                    )
                if not length:
                    length = 0xFFFFFFFF  # uzlib's curLen-- underflows
                if have + length < self.next_mark and dist >= length:
                    out += out[have - dist : have - dist + length]
                else:
                    self.pos, self.bitbuf, self.bitcnt = pos, bitbuf, bitcnt
                    self._copy(dist, length)
        except IndexError:
            raise self._truncated() from None
        finally:
            self.pos, self.bitbuf, self.bitcnt = pos, bitbuf, bitcnt


def inflate_gzip(data: bytes, **options) -> InflateResult:
    """Decode one gzip member with uzlib's rules (options: see `Inflater`)."""
    return Inflater(data, **options).gzip()


def inflate_raw(data: bytes, **options) -> InflateResult:
    """Decode a raw deflate stream with uzlib's rules (options: see `Inflater`)."""
    return Inflater(data, **options).raw()
