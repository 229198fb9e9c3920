"""The uzlib-model inflater: standard streams decode as zlib does; the device's
limits (16 KiB window, no reference to byte 0) and quirks are kept."""

import gzip
import os
import zlib

import pytest
from hypothesis import given, settings, strategies as st

from golden import cases, output_blob
from lfs_format.compress import best_compress, uzlib_compress
from lfs_format.inflate import (
    DATA_ERROR,
    DICT_ERROR,
    TRUNCATED,
    InflateError,
    inflate_gzip,
    inflate_raw,
)

GOLDEN_GZIP = [
    c
    for c in cases()
    if "/image" in c["id"] and c["expect"]["exit"] == 0 and "lfs.img" in c["expect"]["files"]
]


class FixedBlockWriter:
    """Hand-made fixed-Huffman deflate streams (RFC 1951 §3.2.6) for quirk tests."""

    def __init__(self):
        self.acc = 0
        self.n = 0

    def bits(self, value: int, count: int) -> "FixedBlockWriter":  # LSB first
        self.acc |= value << self.n
        self.n += count
        return self

    def code(self, value: int, count: int) -> "FixedBlockWriter":  # Huffman: MSB first
        return self.bits(int(format(value, f"0{count}b")[::-1], 2), count)

    def header(self, final: bool = True) -> "FixedBlockWriter":
        return self.bits(int(final), 1).bits(1, 2)

    def literal(self, byte: int) -> "FixedBlockWriter":
        return self.code(0x30 + byte, 8) if byte < 144 else self.code(0x190 + byte - 144, 9)

    def symbol(self, sym: int) -> "FixedBlockWriter":
        if sym < 280:
            return self.code(sym - 256, 7)
        return self.code(0xC0 + sym - 280, 8)

    def match(
        self,
        length_sym: int,
        length_extra: tuple[int, int],
        dist_sym: int,
        dist_extra: tuple[int, int],
    ) -> "FixedBlockWriter":
        self.symbol(length_sym).bits(*length_extra)
        return self.code(dist_sym, 5).bits(*dist_extra)

    def end(self) -> bytes:
        self.symbol(256)
        return self.acc.to_bytes((self.n + 7) // 8, "little")


@pytest.mark.parametrize("case", GOLDEN_GZIP, ids=lambda c: c["id"])
def test_golden_images_inflate_like_gzip(case):
    data = output_blob(case)
    result = inflate_gzip(data)
    assert result.output == gzip.decompress(data)
    assert result.crc == zlib.crc32(result.output) and result.end == len(data)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 40))
def test_round_trip_through_device_valid_encoders(data, repeat):
    data = data * repeat
    assert inflate_gzip(best_compress(data)).output == data  # stored + dynamic blocks


@pytest.mark.parametrize("strategy", [zlib.Z_DEFAULT_STRATEGY, zlib.Z_FIXED, zlib.Z_RLE])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_zlib_streams_within_the_window(level, strategy):
    data = b"x" + os.urandom(3000) + bytes(range(256)) * 200
    body = zlib.compressobj(level, zlib.DEFLATED, -14, 9, strategy)
    raw = bytes((0, 1, 0, 0xFE, 0xFF)) + data[:1] + body.compress(data[1:]) + body.flush()
    assert inflate_raw(raw).output == data


def test_reference_to_byte_zero_is_rejected():
    # 'a', then copy length 3 at distance 1 (= bytes output so far): zlib accepts it
    raw = FixedBlockWriter().header().literal(97).match(257, (0, 0), 0, (0, 0)).end()
    assert zlib.decompress(raw, -15) == b"aaaa"
    with pytest.raises(InflateError) as exc:
        inflate_raw(raw)
    assert exc.value.kind == DICT_ERROR
    ok = FixedBlockWriter().header().literal(97).literal(98).match(257, (0, 0), 0, (0, 0)).end()
    assert inflate_raw(ok).output == b"abbbb"


def test_distance_beyond_16k_is_rejected():
    data = os.urandom(20000)
    stored = b"".join(
        bytes((0,)) + len(c).to_bytes(2, "little") + (len(c) ^ 0xFFFF).to_bytes(2, "little") + c
        for c in (data[:10000], data[10000:])
    )
    # distance code 29: base 24577, 13 extra bits; 16385 needs code 28 (16385 + 0)
    far = FixedBlockWriter().header().match(257, (0, 0), 28, (0, 13)).end()
    near = FixedBlockWriter().header().match(257, (0, 0), 27, (16384 - 12289, 12)).end()
    assert inflate_raw(stored + near).output == data + data[-16384:][:3]
    with pytest.raises(InflateError) as exc:
        inflate_raw(stored + far)
    assert exc.value.kind == DICT_ERROR


def test_length_symbol_286_uses_uzlib_table_overrun():
    # uzlib: length index 29 reads 6 extra bits over a base of 323 (zlib rejects 286)
    w = FixedBlockWriter().header().literal(0).literal(1).literal(2)
    raw = w.match(286, (5, 6), 1, (0, 0)).end()  # length 323 + 5 at distance 2
    with pytest.raises(zlib.error):
        zlib.decompress(raw, -15)
    assert inflate_raw(raw).output == b"\x00\x01\x02" + b"\x01\x02" * 164


@pytest.mark.parametrize(
    "raw",
    [
        bytes((0x07,)),  # block type 3
        bytes((0x01, 0x05, 0x00, 0x00, 0x00)),  # stored: NLEN is not ~LEN
    ],
)
def test_data_errors(raw):
    with pytest.raises(InflateError) as exc:
        inflate_raw(raw)
    assert exc.value.kind == DATA_ERROR


@pytest.mark.parametrize("header", [b"\x1f\x8c\x08\0", b"\x1f\x8b\x07\0", b"\x1f\x8b\x08\x20"])
def test_bad_gzip_header(header):
    data = bytearray(gzip.compress(b"hello", mtime=0))
    data[:4] = header
    with pytest.raises(InflateError) as exc:
        inflate_gzip(bytes(data))
    assert exc.value.kind == DATA_ERROR


def test_gzip_optional_header_fields_are_skipped():
    body = uzlib_compress(b"xhello hello hello")[10:]
    # FEXTRA (XLEN 2), FNAME, FCOMMENT, FHCRC
    header = b"\x1f\x8b\x08\x1e" + bytes(6) + b"\x02\x00xy" + b"name\0" + b"comment\0" + b"\0\0"
    assert inflate_gzip(header + body).output == b"xhello hello hello"
    # uzlib skips an FEXTRA of length 0 up to the next NUL
    header = b"\x1f\x8b\x08\x04" + bytes(6) + b"\x00\x00junk\0"
    assert inflate_gzip(header + body).output == b"xhello hello hello"


def test_truncated_stream():
    data = uzlib_compress(bytes(range(256)) * 8)
    with pytest.raises(InflateError) as exc:
        inflate_gzip(data[:40])
    assert exc.value.kind == TRUNCATED


def test_past_end_reads_repeat_the_eof_byte():
    # a stored block whose data runs off the end is completed with eof_byte
    raw = bytes((0x01, 0x04, 0x00, 0xFB, 0xFF)) + b"ab"
    assert inflate_raw(raw, eof_byte=0x7A).output == b"abzz"


def test_block_callbacks_at_2048_and_at_stream_len():
    data = os.urandom(5000)
    seen = []
    result = inflate_gzip(best_compress(data), on_block=seen.append, stream_len=4100)
    assert result.output == data
    assert seen == [2048, 4096, 4100]
