"""`.lc` reading and writing against luac.cross's files, the formats reference and stock Lua."""

import random
import struct
import subprocess
import sys

import lupa.lua51
import pytest
from hypothesis import given, settings, strategies as st

from golden import CORPUS, cases, output_blob, paired_cases
from lfs_format.errors import LcFormatError, LcMemoryError
from lfs_format.instruction import create_abc
from lfs_format.lua51.lc import check_code, dump_chunk, identify_target, is_chunk, read_chunk
from lfs_format.lua51.opcodes import OpCode
from lfs_format.lua51.proto import LocVar, Proto
from lfs_format.target import FLOAT, HOST, INT, Target

TARGETS = [FLOAT, INT, HOST]
CHUNK_CATEGORIES = ("lc", "strip", "combine", "lookup", "stdin")
RETURN = create_abc(OpCode.RETURN, 0, 1, 0)


def chunk_cases() -> list[dict]:
    return [
        case
        for case in cases()
        if case["id"].split("/")[1] in CHUNK_CATEGORIES and case["expect"]["exit"] == 0
    ]


# ---------------------------------------------------------------------------
# golden chunks


@pytest.mark.parametrize("case", chunk_cases(), ids=lambda case: case["id"])
def test_golden_round_trip(case):
    """Every .lc luac.cross wrote reads and re-dumps to the same bytes."""
    data = output_blob(case)
    proto, target = read_chunk(data)
    assert target == (INT if case["variant"] == "int" else FLOAT)
    assert dump_chunk(proto, target, strip="-s" in case["args"]) == data


@pytest.mark.parametrize("pair", paired_cases("strip", "lc"), ids=lambda pair: pair[0]["id"])
def test_strip_matches_golden(pair):
    """Dumping the unstripped golden with strip=True gives luac.cross's -s output."""
    stripped, full = pair
    proto, target = read_chunk(output_blob(full))
    assert dump_chunk(proto, target, strip=True) == output_blob(stripped)


def test_stripped_main_source_is_lundumps():
    """A NULL main source reads as "=?" and children inherit it, as in lundump."""
    (case,) = [c for c in cases("float/strip/syntax/closures_in_loops")]
    proto, _ = read_chunk(output_blob(case))
    assert {p.source for p in proto.walk()} == {b"=?"}
    assert all(p.packedlineinfo is None and p.lineinfo == [] for p in proto.walk())


def test_child_source_inherited():
    (case,) = cases("float/lc/syntax/closures_in_loops")
    data = output_blob(case)
    proto, _ = read_chunk(data)
    assert proto.protos and all(p.source == b"@syntax/closures_in_loops.lua" for p in proto.walk())
    # and only the main function stores it
    assert data.count(b"@syntax/closures_in_loops.lua\0") == 1


# ---------------------------------------------------------------------------
# formats reference §2.3 worked example: `local x = 10\nreturn x + 2, "ab"\n` as s1.lua


def s1_proto() -> Proto:
    return Proto(
        source=b"@s1.lua",
        is_vararg=2,
        maxstacksize=3,
        code=[0x00000001, 0x0040404C, 0x00008081, 0x0180005E, 0x0080001E],
        constants=[10.0, 2.0, b"ab"],
        packedlineinfo=b"\x01\x04",
        lineinfo=[1, 2, 2, 2, 2],
    )


S1_FLOAT = bytes.fromhex(
    "1b4c7561 51 00 01 04 04 04 08 00"
    "08000000 4073312e6c756100"
    "00000000 00000000"
    "00 00 02 03"
    "05000000"
    "01000000 4c404000 81800000 5e008001 1e008000"
    "03000000"
    "03 0000000000002440"
    "03 0000000000000040"
    "04 03000000 616200"
    "00000000"
    "03000000 0000 010400"
    "00000000 00000000"
)


def test_worked_example_float():
    assert len(S1_FLOAT) == 111
    assert dump_chunk(s1_proto(), FLOAT) == S1_FLOAT
    assert read_chunk(S1_FLOAT) == (s1_proto(), FLOAT)


def test_worked_example_int():
    """Int build: header bytes 10/11 = 04 01, int32 constants, so the Align4 pads differ."""
    proto = s1_proto()
    proto.constants = [10, 2, b"ab"]
    expected = (
        S1_FLOAT[:10]
        + bytes.fromhex("0401")
        + S1_FLOAT[12:0x40]
        + bytes.fromhex("03 0a000000 03 02000000 04 03000000 616200 00000000")
        + bytes.fromhex("03000000 0000 010400 00000000 00000000")
    )
    assert dump_chunk(proto, INT) == expected
    assert read_chunk(expected) == (proto, INT)


def test_worked_example_strip():
    """-s: NULL source, n=0 line info with its (still written) Align4 pad; 100 bytes."""
    stripped = dump_chunk(s1_proto(), FLOAT, strip=True)
    assert len(stripped) == 100
    assert stripped[12:16] == bytes(4)
    assert stripped[0x56:0x64] == bytes(14)


def test_align4_written_even_when_zero():
    data = dump_chunk(s1_proto(), FLOAT)
    # sizecode at 0x24 leaves the code already aligned at 0x28
    assert data[0x24:0x2C] == bytes.fromhex("05000000 01000000")


# ---------------------------------------------------------------------------
# numbers and the INT target


def one_constant(value) -> Proto:
    return Proto(source=b"=t", maxstacksize=2, code=[RETURN], constants=[value])


@pytest.mark.parametrize("value", [2147483647, -2147483648, 2**40, 2147483647.0])
def test_int_range_check(value):
    with pytest.raises(LcFormatError, match="^value too big or small for target integer type$"):
        dump_chunk(one_constant(value), INT)


@pytest.mark.parametrize("value", [2147483646, -2147483647, 0, -1])
def test_int_range_limits_accepted(value):
    proto, _ = read_chunk(dump_chunk(one_constant(value), INT))
    assert proto.constants == [value]


def test_int_target_conversions():
    assert read_chunk(dump_chunk(one_constant(3.0), INT))[0].constants[0] == 3
    with pytest.raises(LcFormatError, match="fractional"):
        dump_chunk(one_constant(1.5), INT)
    with pytest.raises(LcFormatError, match="fractional"):
        dump_chunk(one_constant(float("inf")), INT)
    value = read_chunk(dump_chunk(one_constant(7), FLOAT))[0].constants[0]
    assert isinstance(value, float) and value == 7.0


def test_booleans_are_not_numbers():
    proto, _ = read_chunk(dump_chunk(one_constant(True), INT))
    assert proto.constants[0] is True


# ---------------------------------------------------------------------------
# stock Lua (HOST target)

LUA = lupa.lua51.LuaRuntime(encoding=None)
_DUMP = LUA.eval(
    "function(s) local f = loadstring(s) if f then return string.dump(f) end return nil end"
)
_LOADS = LUA.eval("function(s) local f, e = loadstring(s) return f ~= nil, e end")


def corpus_files() -> list:
    return sorted(CORPUS.rglob("*.lua"))


def test_host_round_trip_corpus():
    """string.dump of stock Lua reads and re-dumps identically (locals, upvalues, int lines)."""
    checked = 0
    for path in corpus_files():
        data = _DUMP(path.read_bytes())
        if data is None:
            continue  # a syntax-error case
        proto, target = read_chunk(data)
        assert target == HOST
        assert dump_chunk(proto, HOST) == data, path
        checked += 1
    assert checked > 40


def test_host_strip_matches_luac51(tmp_path):
    """strip=True for HOST gives what stock `luac5.1 -s` writes."""
    source = "syntax/closures_in_loops.lua"
    for flags, name in (([], "full"), (["-s"], "stripped")):
        command = ["luac5.1", *flags, "-o", str(tmp_path / name), source]
        subprocess.run(command, cwd=CORPUS, check=True)
    proto, target = read_chunk((tmp_path / "full").read_bytes())
    assert target == HOST and proto.locvars and proto.lineinfo
    assert dump_chunk(proto, HOST, strip=True) == (tmp_path / "stripped").read_bytes()


@pytest.mark.parametrize("case", cases("float/lc/") + cases("int/lc/"), ids=lambda c: c["id"])
def test_golden_loads_in_stock_lua(case):
    """A NodeMCU chunk re-dumped for HOST passes stock lundump's checks."""
    if case["expect"]["exit"] != 0:
        return
    proto, _ = read_chunk(output_blob(case))
    ok, err = _LOADS(dump_chunk(proto, HOST))
    assert ok, err


_SERIALISE = """
local function ser(v, seen)
  local t = type(v)
  if t == "table" then
    if seen[v] then return "<cycle>" end
    seen[v] = true
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = ser(k, seen) .. "=" .. ser(v[k], seen) end
    return "{" .. table.concat(out, ",") .. "}"
  elseif t == "string" then return string.format("%q", v)
  elseif t == "number" or t == "boolean" or t == "nil" then return tostring(v)
  else return t end
end
return function(chunk, name)
  local f = assert(loadstring(chunk, name))
  return ser({pcall(f)}, {})
end
"""


def run_serialised(chunk: bytes, chunkname: bytes) -> bytes:
    """Run `chunk` in a fresh stock Lua; its pcall results as comparable text."""
    return lupa.lua51.LuaRuntime(encoding=None).execute(_SERIALISE)(chunk, chunkname)


@pytest.mark.parametrize(
    "name",
    [
        "syntax/break_nested_and_captured.lua",
        "syntax/closures_in_loops.lua",
        "syntax/closures_many_prototypes.lua",
        "syntax/comments_all_forms.lua",
        "syntax/constants_over_512.lua",
        "syntax/control_if_elseif.lua",
    ],
)
def test_golden_runs_in_stock_lua(name):
    """Running luac.cross's chunk (via HOST) gives what running the source gives."""
    (case,) = cases(f"float/lc/{name.removesuffix('.lua')}")
    proto, _ = read_chunk(output_blob(case))
    chunkname = b"@" + name.encode()
    ours = run_serialised(dump_chunk(proto, HOST), chunkname)
    stock = run_serialised((CORPUS / name).read_bytes(), chunkname)
    assert ours == stock


# ---------------------------------------------------------------------------
# headers and records


def test_is_chunk():
    assert is_chunk(S1_FLOAT)
    assert not is_chunk(b"-- lua")
    assert not is_chunk(b"")


def test_identify_target():
    assert identify_target(S1_FLOAT[:12]) == FLOAT
    assert identify_target(dump_chunk(s1_proto(), INT)[:12]) == INT
    assert identify_target(dump_chunk(s1_proto(), HOST)[:12]) == HOST
    for bad in (S1_FLOAT[:11], b"\x1bLub" + S1_FLOAT[4:12], S1_FLOAT[:8] + b"\x08\x04\x04\x01"):
        with pytest.raises(LcFormatError):
            identify_target(bad)


def test_header_fields_checked():
    for offset in (4, 5, 6, 7, 9):
        bad = bytearray(S1_FLOAT)
        bad[offset] ^= 0x10
        with pytest.raises(LcFormatError, match="bad header"):
            read_chunk(bytes(bad))


# ---------------------------------------------------------------------------
# corrupt input: only LcFormatError, never a construct/Index/Memory error


def small_goldens() -> list[bytes]:
    blobs = sorted({output_blob(c) for c in chunk_cases()}, key=len)
    return [b for b in blobs if len(b) < 2000][:12]


def test_dump_does_not_load_construct():
    """Compiling and dumping (one `luacross -o` run) leaves construct unimported: it costs
    ~20 ms of start-up and only the reader needs it."""
    script = (
        "import sys; from luacross.lua51.parser import compile_source;"
        "from lfs_format.lua51.lc import dump_chunk; from lfs_format.target import FLOAT;"
        "dump_chunk(compile_source(b'local t = {1, [[x]], y = 2.5} return t', b'=t'), FLOAT);"
        "print('construct' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_truncations_raise_lc_format_error():
    for data in small_goldens():
        for end in range(len(data)):
            with pytest.raises(LcFormatError):
                read_chunk(data[:end])


def test_bit_flips_raise_only_lc_format_error():
    rng = random.Random(51)
    for data in small_goldens():
        for _ in range(300):
            bad = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
            try:
                proto, target = read_chunk(bytes(bad))
            except (LcFormatError, LcMemoryError) as error:
                assert error.offset is None or 0 <= error.offset <= len(bad)
            else:
                try:  # whatever reads dumps again, bar the INT target's range check
                    dump_chunk(proto, target)
                except LcFormatError as error:
                    assert error.reason == "value too big or small for target integer type"


def test_huge_counts_rejected_without_allocating():
    """(the reasons lundump gives are in test_lc_lundump.py)"""
    for offset, count in ((0x24, b"\xff\xff\xff\x3f"), (0x3C, b"\xff\xff\xff\x7f")):
        data = bytearray(S1_FLOAT)
        data[offset : offset + 4] = count  # sizecode, sizek
        with pytest.raises(LcFormatError, match="unexpected end"):
            read_chunk(bytes(data))
    data = bytearray(S1_FLOAT)
    data[0x0C:0x10] = b"\xff\xff\xff\xff"  # source length -1 as lundump's int32_t
    with pytest.raises(LcMemoryError, match="not enough memory"):
        read_chunk(bytes(data))


def test_specific_rejections():
    def patched(offset: int, new: bytes) -> bytes:
        data = bytearray(S1_FLOAT)
        data[offset : offset + len(new)] = new
        return bytes(data)

    cases_ = {
        "bad integer": patched(0x24, b"\xff\xff\xff\xff"),
        "bad constant": patched(0x40, b"\x07"),
        "bad code": patched(0x38, b"\x1f"),  # last instruction no longer RETURN
        "bad header": b"return 1\n" + bytes(8),
        "unexpected end": S1_FLOAT[:11],
    }
    for reason, data in cases_.items():
        with pytest.raises(LcFormatError, match=reason):
            read_chunk(data)


def test_trailing_bytes_ignored():
    """lua_load stops after the main function: luac.cross copies a .lc with a trailer unchanged."""
    assert read_chunk(S1_FLOAT + b"xyz") == read_chunk(S1_FLOAT)
    assert read_chunk(S1_FLOAT + b"xyz", FLOAT) == read_chunk(S1_FLOAT)


# ---------------------------------------------------------------------------
# reading for a target: lundump's LoadHeader (what luac.cross and luac.cross.int accept)


def test_target_header_checked_before_body():
    """luac.cross.int says "bad header" for a float .lc cut anywhere after its header."""
    for end in (12, 13, 40, len(S1_FLOAT) - 1):
        with pytest.raises(LcFormatError, match="^bad header$"):
            read_chunk(S1_FLOAT[:end], INT)
    with pytest.raises(LcFormatError, match="^unexpected end$"):
        read_chunk(S1_FLOAT[:11], INT)


def test_target_rejects_other_size_t():
    """Byte 8 = 8 (a stock 64-bit luac5.1 header) is a "bad header" to both builds."""
    stock = dump_chunk(s1_proto(), HOST)
    patched = bytearray(S1_FLOAT)
    patched[8] = 8
    for target in (FLOAT, INT):
        for data in (stock, bytes(patched)):
            with pytest.raises(LcFormatError, match="^bad header$"):
                read_chunk(data, target)


def test_target_takes_number_size_from_file():
    """luac.cross accepts a float .lc whose byte 10 says 4 and reads 8-byte doubles anyway."""
    patched = bytearray(S1_FLOAT)
    patched[10] = 4
    assert read_chunk(bytes(patched), FLOAT) == read_chunk(S1_FLOAT)


def test_int_chunk_converted_for_float_target():
    """lundump's toflt: the float build reads an INT .lc, its numbers becoming doubles."""
    proto, target = read_chunk(dump_chunk(one_constant(-5), INT), FLOAT)
    assert target == FLOAT
    assert proto.constants == [-5.0] and isinstance(proto.constants[0], float)


def test_int64_chunk_converted_for_float_target():
    """Byte 10 = 8 with the integral flag: 8-byte integers (luac.cross -l lists -1099511627776)."""
    chunk = dump_chunk(Proto(source=b"=t", maxstacksize=2, code=[RETURN], constants=[-5, 7]), INT)
    narrow = b"\x03" + struct.pack("<i", -5) + b"\x03" + struct.pack("<i", 7)
    wide = b"\x03" + struct.pack("<q", -(2**40)) + b"\x03" + struct.pack("<q", 7)
    data = bytearray(chunk.replace(narrow, wide))  # 8 more bytes: alignment unchanged
    data[10] = 8
    proto, _ = read_chunk(bytes(data), FLOAT)
    assert proto.constants == [-1099511627776.0, 7.0]
    with pytest.raises(LcFormatError, match="^unexpected end$"):  # the int build reads int32s
        read_chunk(bytes(data), INT)


def test_too_deep_nesting():
    proto = s1_proto()
    node = proto
    for _ in range(205):
        child = s1_proto()
        node.protos.append(child)
        node = child
    with pytest.raises(LcFormatError, match="code too deep"):
        read_chunk(dump_chunk(proto, FLOAT))


def test_check_code_accepts_compiler_output():
    assert check_code(s1_proto()) is None
    proto = s1_proto()
    proto.code[1] = create_abc(OpCode.ADD, 9, 0, 256 + 7)  # register and constant out of range
    assert check_code(proto) is not None


# ---------------------------------------------------------------------------
# property: read_chunk(dump_chunk(p, t)) == p


@st.composite
def protos(draw, target: Target, depth: int = 0, source=None):
    if target.integral:
        number = st.integers(-0x7FFFFFFF, 0x7FFFFFFE)
    else:
        number = st.floats(allow_nan=False)
    constant = st.one_of(st.none(), st.booleans(), number, st.binary(max_size=20))
    code = [RETURN] * draw(st.integers(1, 4))
    if source is None:
        source = draw(st.binary(min_size=1, max_size=12))
    children = draw(st.integers(0, 2 if depth < 2 else 0))
    proto = Proto(
        source=source,
        linedefined=draw(st.integers(0, 1000)),
        lastlinedefined=draw(st.integers(0, 1000)),
        nups=draw(st.integers(0, 5)),
        numparams=draw(st.integers(0, 3)),
        is_vararg=draw(st.sampled_from([0, 2, 3])),
        maxstacksize=draw(st.integers(4, 250)),
        code=code,
        constants=draw(st.lists(constant, max_size=6)),
        upvalues=[],
        locvars=[],
    )
    proto.protos = [draw(protos(target, depth + 1, source)) for _ in range(children)]
    if target.packed_lineinfo:
        proto.packedlineinfo = b"\x01" * len(code)
        proto.lineinfo = list(range(1, len(code) + 1))
    else:
        lines = st.lists(st.integers(0, 10**6), min_size=len(code), max_size=len(code))
        proto.lineinfo = draw(lines)
        locvar = st.builds(LocVar, st.binary(max_size=8), st.integers(0, 9), st.integers(0, 9))
        proto.locvars = draw(st.lists(locvar, max_size=3))
        proto.upvalues = draw(st.lists(st.binary(max_size=8), max_size=proto.nups, min_size=0))
    return proto


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_read_dump_property(target, data):
    proto = data.draw(protos(target))
    chunk = dump_chunk(proto, target)
    back, got_target = read_chunk(chunk)
    assert got_target == target
    assert back == proto
    assert [p.lineinfo for p in back.walk()] == [p.lineinfo for p in proto.walk()]
    assert dump_chunk(back, target) == chunk
