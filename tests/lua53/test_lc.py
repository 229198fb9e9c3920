"""Lua 5.3 `.lc` (format 10): every recorded chunk reads and dumps back to its
own bytes, and damaged chunks get lundump's messages, in lundump's order.

The expected messages below were printed by the reference luac.cross for Lua
5.3 (default build) given the same bytes as an input file.
"""

import struct

import pytest
from hypothesis import given, settings, strategies as st

from lfs_format.errors import LcFormatError
from lfs_format.lua53.lc import dump_lc, encode_count, encode_typed, header_bytes, read_lc
from lfs_format.lua53.proto import LocVar, Proto, Upvaldesc
from lfs_format.target import LUA53, LUA53_64
from luacross.lua53.core import loadfile_stream

from .golden53 import case, cases, lc_of, output_files, target

CHUNK_CATEGORIES = ("lc", "strip", "combine", "lookup", "stdin", "list", "version")


def _chunks():
    for c in cases():
        if c["id"].split("/")[1] not in CHUNK_CATEGORIES:
            continue
        for name, data in output_files(c).items():
            if data is not None and not name.endswith(".img"):
                yield pytest.param(c, data, id=f"{c['id']}:{name}")


@pytest.mark.parametrize(("case", "data"), list(_chunks()))
def test_golden_chunk_reads_and_dumps_back(case, data):
    strip = "-s" in case["args"]
    main = read_lc(data, b"@out.lc", target(case))
    assert dump_lc(main, target(case), strip=strip) == data


def test_strip_keeps_line_info_and_drops_only_the_names_flag():
    """`-s` is strip level 1: a stripped chunk, dumped unstripped, is the plain one."""
    for c in cases("strip"):
        (stripped,) = output_files(c).values()
        plain = lc_of(c["variant"], c["args"][-1])
        if stripped is None or plain is None:
            continue
        main = read_lc(stripped, b"@x", target(c))
        assert main.lineinfo
        assert dump_lc(main, target(c), strip=False) == plain


@pytest.mark.parametrize(("tgt", "size"), [(LUA53, 4), (LUA53_64, 8)])
def test_header(tgt, size):
    (data,) = output_files(case(f"{tgt.name}/lc/apps/app")).values()
    number = struct.pack("<f" if size == 4 else "<d", 370.5)
    expected = b"\x1bLuaS\n\x19\x93\r\n\x1a\n\x04\x04" + bytes((size, size, 0x20)) + number
    assert header_bytes(tgt) == expected == data[: len(expected)]


def test_integer_constants_at_the_int32_limits():
    data = lc_of("lua53", "syntax/int32_literal_limits.lua")
    constants = read_lc(data, b"@x", LUA53).constants
    assert 2147483647 in constants and -2147483648 in constants


def test_encodings():
    # DumpInt: 7-bit groups, high group first
    assert encode_count(0) == b"\x00"
    assert encode_count(300) == b"\x82\x2c"
    # DumpIntTT, as the reference wrote `16, 200, -1, 5, 300000` and a 199-byte string
    assert encode_typed(0x30, 16) == bytes.fromhex("b010")  # bit 4 in use: an extra group
    assert encode_typed(0x30, 200) == bytes.fromhex("b148")
    assert encode_typed(0x30, -1) == bytes.fromhex("40")  # -(n + 1), type 4
    assert encode_typed(0x30, 5) == bytes.fromhex("35")
    assert encode_typed(0x30, 300000) == bytes.fromhex("b092a760")
    assert encode_typed(0x60, 200) == bytes.fromhex("e148")  # long string, length + 1


# -- lundump's checks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def app_lc() -> bytes:
    (data,) = output_files(case("lua53/lc/apps/app")).values()
    return data


def _message(data: bytes, tgt=LUA53) -> str:
    with pytest.raises(LcFormatError) as info:
        read_lc(data, b"@bad.lc", tgt)
    return str(info.value)


@pytest.mark.parametrize("size", [1, 3, 4, 5, 6, 12, 15, 16, 17, 20, 21, 22, 30, 100, 1000])
def test_truncated(app_lc, size):
    assert _message(app_lc[:size]) == "bad.lc: truncated precompiled chunk"


@pytest.mark.parametrize(
    ("offset", "patch", "why"),
    [
        (1, b"Luc", "not a"),
        (4, b"\x52", "version mismatch in"),
        (5, b"\x0b", "format mismatch in"),
        (6, b"\x19\x93\r\n\x1a\x0b", "corrupted"),
        (12, b"\x08", "int size mismatch in"),
        (13, b"\x08", "Instruction size mismatch in"),
        (15, b"\x08", "lua_Number size mismatch in"),
        (17, b"\x00\x00\x00\x00", "float format mismatch in"),
    ],
)
def test_header_checks(app_lc, offset, patch, why):
    data = app_lc[:offset] + patch + app_lc[offset + len(patch) :]
    assert _message(data) == f"bad.lc: {why} precompiled chunk"


def test_other_builds_chunk(app_lc):
    (data64,) = output_files(case("lua53-64/lc/apps/app")).values()
    assert _message(data64, LUA53) == "bad.lc: lua_Integer size mismatch in precompiled chunk"
    assert _message(app_lc, LUA53_64) == "bad.lc: lua_Integer size mismatch in precompiled chunk"


def test_unchecked_header_byte_and_trailing_bytes(app_lc):
    main = read_lc(app_lc, b"@x", LUA53)
    assert read_lc(app_lc[:16] + b"\x00" + app_lc[17:], b"@x", LUA53) == main
    assert read_lc(app_lc + b"garbage", b"@x", LUA53) == main


def _function_start(app_lc: bytes) -> bytes:
    """Header, upvalue count, NULL source, linedefined, lastline, three bytes."""
    return app_lc[:22] + b"\x50\x00\x00\x00\x00\x00"


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b"\x8f\xff\xff\xff\x7f", "not enough memory"),  # -1 sub-functions
        (b"\x00\x8f\xff\xff\xff\x7f", "not enough memory"),  # -1 instructions
        (b"\x00\x8f\xff\xff\xff\x7e", "not enough memory"),  # -2 instructions
        (b"\x00\x87\xff\xff\xff\x7f", "bad.lc: truncated precompiled chunk"),
        (b"\x00\x00\x8f\xff\xff\xff\x7f", "not enough memory"),  # -1 constants
        (b"\x00\x00\x01\x70", "bad.lc: truncated precompiled chunk"),  # type 7 reads nothing
    ],
)
def test_counts(app_lc, tail, message):
    assert _message(_function_start(app_lc) + tail) == message


def test_huge_and_negative_string_lengths(app_lc):
    assert _message(app_lc[:22] + b"\xdf\xff\xff\xff\x7f") == "bad.lc: truncated precompiled chunk"
    # a negative length is a NULL string; the reference accepted this chunk
    rest = b"\x00\x00\x00\x00\x00\x00\x00\x00\x01\x26\x00\x80\x00\x01\x00\x00\x00\x00\x00"
    main = read_lc(app_lc[:22] + b"\xc0" + rest, b"@x", LUA53)
    assert main.source is None


@pytest.mark.parametrize(
    ("prefix", "named", "binary"),
    [
        (b"\xef\xbb\xbf", True, True),  # a BOM is skipped
        (b"#!x\n", True, True),  # a '#' line is skipped, then the file is reopened
        (b"\xef\xbb\xbf#!x\n", True, True),
        (b"\xef\xbb\xbf", False, True),  # stdin
        (b"#!x\n", False, False),  # stdin: not reopened, "\n" ESC... is source
        (b"\xef\xbb", True, False),  # a partial BOM stays: source
    ],
)
def test_loadfile_prefixes(app_lc, prefix, named, binary):
    stream = loadfile_stream(prefix + app_lc, named=named)
    assert (stream == app_lc) == binary


# -- read_lc(dump_lc(p)) == p ----------------------------------------------------------


def _constants(tgt):
    bits = 8 * tgt.int_size
    return st.lists(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1),
            st.floats(width=8 * tgt.float_size, allow_nan=False),
            st.binary(max_size=60),
        ),
        max_size=8,
    )


@st.composite
def _protos(draw, tgt, depth=0, source=b"@x.lua"):
    f = Proto()
    f.source = source
    f.linedefined, f.lastlinedefined = draw(st.integers(0, 5000)), draw(st.integers(0, 5000))
    f.numparams, f.is_vararg, f.maxstacksize = (draw(st.integers(0, 255)) for _ in range(3))
    f.code = draw(st.lists(st.integers(0, 2**32 - 1), max_size=10))
    f.constants = draw(_constants(tgt))
    f.upvalues = [
        Upvaldesc(draw(st.none() | st.binary(max_size=50)), draw(st.integers(0, 1)), i)
        for i in range(draw(st.integers(0, 3)))
    ]
    f.lineinfo = draw(st.binary(max_size=20))
    f.locvars = [LocVar(draw(st.binary(max_size=10)), 0, i) for i in range(draw(st.integers(0, 2)))]
    if depth < 2:
        child_source = st.sampled_from([None, b"=other%d" % depth])
        f.protos = [
            draw(_protos(tgt, depth + 1, draw(child_source)))
            for _ in range(draw(st.integers(0, 2)))
        ]
    return f


@pytest.mark.parametrize("tgt", [LUA53, LUA53_64], ids=lambda t: t.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_dump_then_read_is_identity(tgt, data):
    main = data.draw(_protos(tgt))
    chunk = dump_lc(main, tgt, strip=False)
    assert read_lc(chunk, b"@x", tgt) == main
    stripped = read_lc(dump_lc(main, tgt, strip=True), b"@x", tgt)
    assert stripped.locvars == [] and all(uv.name is None for uv in stripped.upvalues)
    assert stripped.lineinfo == main.lineinfo
