""".lc inputs where lundump decides: each case is one kind of difference a mutation run
(bit flips, truncations, insertions, extreme field values; luac.cross and luac.cross.int
against luacross, `-o out.lc` and `-l -l -p`) found. Every expected message, exit status
and output byte comes from running the reference tools on the same chunk.

The chunks are patches of the formats reference's worked example (S1, `local x = 10
return x + 2, "ab"`): offsets 0x0C source size, 0x18 linedefined, 0x1C lastlinedefined,
0x3C sizek, 0x40 first constant, 0x5E sizelineinfo, 0x64 packed line bytes `01 04 00`.
"""

import os
import struct

import pytest

from golden import run_cli
from lfs_format.errors import LcFormatError, LcMemoryError
from lfs_format.instruction import create_abc, create_abx
from lfs_format.lua51.lc import NULL_STRING, dump_chunk, read_chunk
from lfs_format.lua51.opcodes import OpCode
from lfs_format.lua51.proto import LocVar, Proto
from lfs_format.target import FLOAT

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
# the same function from luac.cross.int: int32 constants move the line info by 8 bytes
S1_INT = bytes.fromhex(
    "1b4c7561 51 00 01 04 04 04 04 01"
    "08000000 4073312e6c756100"
    "00000000 00000000"
    "00 00 02 03"
    "05000000"
    "01000000 4c404000 81800000 5e008001 1e008000"
    "03000000"
    "03 0a000000"
    "03 02000000"
    "04 03000000 616200"
    "00000000"
    "03000000 0000 010400"
    "00000000 00000000"
)
VALUE_TOO_BIG = "value too big or small for target integer type"


def patched(data: bytes, offset: int, new: bytes) -> bytes:
    out = bytearray(data)
    out[offset : offset + len(new)] = new
    return bytes(out)


def reason(data: bytes, target=FLOAT) -> str | None:
    try:
        read_chunk(data, target)
    except (LcFormatError, LcMemoryError) as error:
        return error.reason
    return None


def luacross(tmp_path, data: bytes, *args: str):
    (tmp_path / "m.lc").write_bytes(data)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return run_cli([*args, "m.lc"])
    finally:
        os.chdir(cwd)


# ---------------------------------------------------------------------------
# the first problem in lundump's reading order decides the reason


def test_bad_constant_before_the_data_runs_out():
    """sizek 1000 with 71 bytes left: lundump reads the first constant's type (7) and stops
    there ("bad constant"); checking the count against the bytes left said "unexpected end"."""
    data = S1_FLOAT[:0x3C] + struct.pack("<i", 1000) + b"\x07" + S1_FLOAT[0x41:]
    assert reason(data) == "bad constant"


def test_bad_integer_before_the_end():
    """A negative linedefined in a chunk cut just after it: "bad integer" (LoadInt checks
    each int as it reads it), not "unexpected end" (reading all scalars first)."""
    assert reason(patched(S1_FLOAT, 0x18, b"\xff\xff\xff\xff")[:0x1C]) == "bad integer"


def test_item_loops_stop_at_the_end():
    """Counts are not checked against the bytes left: items are read one by one and the
    data runs out. luac.cross first allocates what the count asks for, so on a host short
    of that memory it says "not enough memory" instead (sizek 0x7FFFFFFF, 32 GB, on a
    23 GB machine); the model is a host that has it. Each value below gave "unexpected
    end" from luac.cross on that machine."""
    counts = ((0x24, 0x3FFFFFFF), (0x3C, 0x100000), (0x5A, 0x100000), (0x5A, 0x7FFFFFFF))
    for offset, count in counts:
        assert reason(patched(S1_FLOAT, offset, struct.pack("<i", count))) == "unexpected end"


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (0xFFFFFFFF, "not enough memory"),
        (0xFFFFFFFE, "memory allocation error: block too big"),
        (0xFFFFFFFD, "memory allocation error: block too big"),
        (0xFFFFFFFC, "not enough memory"),
        (0x80000000, "not enough memory"),
    ],
)
def test_negative_string_size_is_a_memory_error(tmp_path, size, message):
    """LoadString reads an int32_t: a negative length becomes a size_t near 2**64, which
    luaM_reallocv refuses as too big (n+1 > MAX_SIZET) or the allocator cannot give.
    luac.cross prints the VM's message alone, without "in precompiled chunk"."""
    data = patched(S1_FLOAT, 0x0C, struct.pack("<I", size))
    assert reason(data) == message
    for args in (["-o", "out.lc"], ["-l", "-l", "-p"]):
        run = luacross(tmp_path, data, *args)
        assert (run.status, run.stderr) == (1, f"luacross: {message}\n".encode())
    assert not (tmp_path / "out.lc").exists()


def test_code_too_deep_at_lundumps_depth():
    """pmain runs under lua_cpcall, so the main function is C call 2 and the limit of 200
    refuses a function nested 199 deep: luac.cross copies a 198-deep chunk."""

    def nested(depth: int) -> bytes:
        main = node = Proto(source=b"@n.lua", maxstacksize=2, code=[RETURN])
        for _ in range(depth):
            child = Proto(maxstacksize=2, code=[RETURN], source=b"@n.lua")
            node.code = [create_abx(OpCode.CLOSURE, 0, 0), RETURN]
            node.protos = [child]
            node = child
        return dump_chunk(main, FLOAT)

    ok = nested(198)
    assert dump_chunk(read_chunk(ok, FLOAT)[0], FLOAT) == ok
    assert reason(nested(199)) == "code too deep"
    assert reason(nested(200)) == "code too deep"


RETURN = create_abc(OpCode.RETURN, 0, 1, 0)


# ---------------------------------------------------------------------------
# byte-swapped chunks


def big_endian_s1(endian_byte: int) -> bytes:
    data = bytearray(S1_FLOAT)
    data[6] = endian_byte
    ints = (0x0C, 0x18, 0x1C, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C, 0x53, 0x5A, 0x5E, 0x67)
    for offset in (*ints, 0x6B):
        data[offset : offset + 4] = data[offset : offset + 4][::-1]
    for offset in (0x41, 0x4A):  # the two doubles
        data[offset : offset + 8] = data[offset : offset + 8][::-1]
    return bytes(data)


@pytest.mark.parametrize("endian_byte", [0, 2])
def test_byte_swapped_chunk_loads(endian_byte):
    """Any endianness byte but 1 makes lundump swap every int, size, number and
    instruction; luac.cross then writes the chunk little-endian (S1 again)."""
    proto, _ = read_chunk(big_endian_s1(endian_byte), FLOAT)
    assert dump_chunk(proto, FLOAT) == S1_FLOAT


# ---------------------------------------------------------------------------
# packed line info is taken as it comes


def test_line_info_with_a_nul_inside_float_and_int(tmp_path):
    """Line bytes `01 00 00`: lundump keeps them, ldump writes strlen+1 of them (`01 00`,
    n=2), the listing shows pcs past the NUL as `[-]`. Both builds accept it."""
    for source, integral in ((S1_FLOAT, False), (S1_INT, True)):
        at = source.index(b"\x01\x04\x00")
        data = patched(source, at + 1, b"\x00")
        expected = (
            source[: at - 6] + struct.pack("<i", 2) + b"\0\0" + b"\x01\x00" + source[at + 3 :]
        )
        flag = ["--int"] if integral else []
        run = luacross(tmp_path, data, *flag, "-o", "out.lc")
        assert (run.status, run.stderr) == (0, b"")
        assert (tmp_path / "out.lc").read_bytes() == expected
        run = luacross(tmp_path, data, *flag, "-l", "-l", "-p")
        lines = [line.split(b"\t")[2] for line in run.stdout.splitlines() if line[:1] == b"\t"][:5]
        assert lines == [b"[1]", b"[-]", b"[-]", b"[-]", b"[-]"]


def test_line_info_of_one_nul():
    """sizelineinfo 1 holding only the NUL: no lines, and dumped back unchanged."""
    data = S1_FLOAT[:0x5E] + struct.pack("<i", 1) + b"\0\0\0" + S1_FLOAT[0x67:]
    proto, _ = read_chunk(data, FLOAT)
    assert proto.packedlineinfo == b"" and proto.lineinfo == []
    assert dump_chunk(proto, FLOAT) == data


def test_line_info_without_terminator():
    """`01 04 05` with no NUL: luac.cross's strlen reads on past the buffer (the heap held a
    NUL there: it wrote `01 04 05 00`, n=4). Modelled as if a NUL followed the bytes."""
    data = patched(S1_FLOAT, 0x66, b"\x05")
    proto, _ = read_chunk(data, FLOAT)
    assert proto.lineinfo[:5] == [1, 2, 2, 2, 2]
    expected = S1_FLOAT[:0x5E] + struct.pack("<i", 4) + b"\0\0" + b"\x01\x04\x05\x00"
    assert dump_chunk(proto, FLOAT) == expected + S1_FLOAT[0x67:]


def test_line_info_longer_than_the_file():
    """A sizelineinfo past the end is "unexpected end" (the bytes are never inspected)."""
    assert reason(patched(S1_FLOAT, 0x5E, struct.pack("<i", 0x70))) == "unexpected end"


# ---------------------------------------------------------------------------
# NULL names and string constants


def upvalue_chunk(upname, varname, constants=()) -> bytes:
    getupval = create_abc(OpCode.GETUPVAL, 0, 0, 0)
    child = Proto(
        source=b"@u.lua",
        nups=1,
        maxstacksize=2,
        code=[getupval, RETURN],
        packedlineinfo=b"\x02",
        locvars=[LocVar(varname, 0, 1)],
        upvalues=[upname],
    )
    main = Proto(
        source=b"@u.lua",
        maxstacksize=2,
        code=[
            create_abc(OpCode.LOADNIL, 0, 0, 0),
            create_abx(OpCode.CLOSURE, 1, 0),
            create_abc(OpCode.MOVE, 0, 0, 0),
            RETURN,
        ],
        constants=list(constants),
        protos=[child],
        packedlineinfo=b"\x04",
        locvars=[LocVar(b"x", 0, 4)],
    )
    return dump_chunk(main, FLOAT)


@pytest.mark.parametrize(
    "data",
    [
        upvalue_chunk(None, b"y"),
        upvalue_chunk(b"x", None),
        upvalue_chunk(b"x", b"y", [b"a", NULL_STRING]),
    ],
    ids=["upvalue-name", "local-name", "string-constant"],
)
def test_null_strings(tmp_path, data):
    """A name or string constant of length 0 loads as NULL: luac.cross -o copies the chunk
    byte for byte; its listing and its image writer dereference the NULL and die of
    SIGSEGV, where luacross says so in one line."""
    run = luacross(tmp_path, data, "-o", "out.lc")
    assert (run.status, run.stderr) == (0, b"")
    assert (tmp_path / "out.lc").read_bytes() == data
    run = luacross(tmp_path, data, "-l", "-l", "-p")
    assert run.status == 1
    assert run.stderr.startswith(b"luacross: cannot list a NULL string")
    assert run.stderr.count(b"\n") == 1
    # luac.cross -f dies of SIGSEGV on them too
    run = luacross(tmp_path, data, "-f", "-o", "out.img")
    assert run.status == 1
    assert run.stderr.startswith(b"luacross: cannot build an LFS image with a NULL string")
    assert run.stderr.count(b"\n") == 1
    assert not (tmp_path / "out.img").exists()


def test_null_string_constant_dumps_as_empty_for_stock_lua():
    """Stock Lua would crash on a NULL constant too: the HOST dump stores it as ""."""
    from lfs_format.target import HOST

    proto, _ = read_chunk(upvalue_chunk(b"x", b"y", [NULL_STRING]), FLOAT)
    host, _ = read_chunk(dump_chunk(proto, HOST))
    assert host.constants == [b""]


# ---------------------------------------------------------------------------
# values lundump reads that ldump cannot write back


@pytest.mark.parametrize(
    ("data", "integral"),
    [
        (patched(S1_FLOAT, 0x18, struct.pack("<i", 0x7FFFFFFF)), False),  # linedefined
        (patched(S1_INT, 0x1C, struct.pack("<i", 0x7FFFFFFF)), True),  # lastlinedefined
        (
            upvalue_chunk(b"x", b"y").replace(  # a local's endpc
                b"y\0" + struct.pack("<ii", 0, 1), b"y\0" + struct.pack("<ii", 0, 0x7FFFFFFF)
            ),
            False,
        ),
    ],
    ids=["linedefined", "lastlinedefined-int", "endpc"],
)
def test_int_fields_beyond_dumpint(tmp_path, data, integral):
    """LoadInt accepts 0x7FFFFFFF; ldump's DumpInt allows at most 0x7FFFFFFE: `-o` fails with
    luac.cross's message (no output left behind), the listing is fine."""
    flag = ["--int"] if integral else []
    run = luacross(tmp_path, data, *flag, "-o", "out.lc")
    assert (run.status, run.stderr) == (1, f"luacross: {VALUE_TOO_BIG}\n".encode())
    assert not (tmp_path / "out.lc").exists()
    run = luacross(tmp_path, data, *flag, "-l", "-l", "-p")
    assert (run.status, run.stderr) == (0, b"")


def test_int_field_at_dumpint_limit(tmp_path):
    data = patched(S1_FLOAT, 0x18, struct.pack("<i", 0x7FFFFFFE))
    run = luacross(tmp_path, data, "-o", "out.lc")
    assert run.status == 0 and (tmp_path / "out.lc").read_bytes() == data
