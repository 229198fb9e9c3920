"""uzlib_compress against luac.cross's own gzip output; --best validity."""

import gzip
import importlib.util
import zlib

import pytest
from hypothesis import given, settings, strategies as st

from golden import REPO, blob, cases
from lfs_format.compress import GZIP_HEADER, best_compress, uzlib_compress


def _golden_gzip_blobs() -> dict[str, bytes]:
    """Every distinct gzip image luac.cross wrote, by its first case id."""
    blobs: dict[str, bytes] = {}
    seen = set()
    for case in cases():
        for info in case["expect"].get("files", {}).values():
            digest = info["sha256"]
            if info["size"] == 0 or digest in seen:
                continue
            data = blob(digest)
            if data.startswith(b"\x1f\x8b"):
                seen.add(digest)
                blobs[case["id"]] = data
    return blobs


GOLDEN_BLOBS = _golden_gzip_blobs()


@pytest.mark.parametrize("case_id", sorted(GOLDEN_BLOBS))
def test_uzlib_matches_luac_cross(case_id):
    blob = GOLDEN_BLOBS[case_id]
    assert uzlib_compress(gzip.decompress(blob)) == blob


def test_golden_images_cover_the_32k_wrap():
    # the 15-bit offset wrap only matters past 32 KiB of input
    assert max(len(gzip.decompress(b)) for b in GOLDEN_BLOBS.values()) > 0x10000


def test_golden_images_cover_stale_offsets(monkeypatch):
    # uzlib reads a hash entry older than 32 KiB as a nearer position; the
    # goldens only all match if the compressor walks those stale entries too.
    # A compiled compressor calls its functions directly: patch a copy run
    # from the source.
    spec = importlib.util.spec_from_file_location(
        "compress_source", REPO / "lfs_format" / "compress.py"
    )
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    monkeypatch.setattr(source, "_stale_candidates", lambda i, j, chain, tries: [])
    assert any(source.uzlib_compress(gzip.decompress(b)) != b for b in GOLDEN_BLOBS.values())


def test_header_and_empty_input():
    out = uzlib_compress(b"")
    assert out.startswith(GZIP_HEADER)
    assert gzip.decompress(out) == b""
    assert gzip.decompress(uzlib_compress(b"ab")) == b"ab"


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=3000) | st.lists(st.sampled_from([b"ab", b"\0\0\0\0", b"xyz"])).map(b"".join)
)
def test_uzlib_round_trip(data):
    assert gzip.decompress(uzlib_compress(data)) == data


def _assert_device_inflatable(member: bytes, data: bytes) -> None:
    """No distance beyond 16 KiB, and none reaching output byte 0.

    zlib with a 2^14 window rejects longer distances. Byte 0 sits alone in the
    leading stored block: changing it there must change only output byte 0.
    """
    assert member.startswith(GZIP_HEADER)
    body = member[len(GZIP_HEADER) : -8]
    assert gzip.decompress(member) == data
    assert zlib.decompress(body, -14) == data
    assert body[:5] == bytes((0, 1, 0, 0xFE, 0xFF)) and body[5] == data[0]
    altered = bytearray(body)
    altered[5] ^= 0xFF
    out = zlib.decompress(bytes(altered), -14)
    assert out[0] == data[0] ^ 0xFF and out[1:] == data[1:]


@pytest.mark.parametrize("case_id", sorted(GOLDEN_BLOBS))
def test_best_is_smaller_and_device_inflatable(case_id):
    blob = GOLDEN_BLOBS[case_id]
    data = gzip.decompress(blob)
    best = best_compress(data)
    _assert_device_inflatable(best, data)
    assert len(best) < len(blob)


def test_best_ratio_on_golden_images():
    default = sum(len(b) for b in GOLDEN_BLOBS.values())
    best = sum(len(best_compress(gzip.decompress(b))) for b in GOLDEN_BLOBS.values())
    assert best <= 0.88 * default


def test_best_never_refers_to_byte_0():
    # luac.cross's compressor refers back to byte 0 here (formats reference §9.1)
    data = b"T\xa1\xfa\xfa" * 100
    _assert_device_inflatable(best_compress(data), data)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=40000).map(lambda b: b * 3))
def test_best_round_trip(data):
    _assert_device_inflatable(best_compress(data), data)
