"""NodeMCU's 5.3 packed line info: the writer's events and the decoder.

Expected bytes are the line info of the reference's `.lc` output (luac.cross
5.3, default build) for the sources named in each test.
"""

from lfs_format.lua53.lineinfo import LineInfoWriter, decode_line_info
from lfs_format.target import LUA53
from luacross.lua53.parser import compile_source


def test_runs_and_deltas_round_trip() -> None:
    writer = LineInfoWriter()
    lines = [1, 1, 3, 2, 2, 70, 9000, 5, 5]
    for pc, line in enumerate(lines):
        writer.add(pc, line)
    assert decode_line_info(writer.packed()) == lines


def test_long_runs_split_at_127() -> None:
    # 131 instructions on line 1: the reference writes 7f c0 04 00
    proto = compile_source(b"local t = {} " + b"t.x = 1 " * 129, b"@run130.lua", LUA53)
    assert len(proto.code) == 131
    assert proto.lineinfo.hex() == "7fc00400"


def test_rewind_of_a_multibyte_delta_keeps_only_its_low_bits() -> None:
    # local function f(a) <200 blank lines> return - <100 blank lines> a end
    # The UNM is coded on line 302 (delta 300: two bytes), then moved back to the
    # operator's line 202; undoing the delta restores line 0 + (300 & 63) + 2.
    source = b"local function f(a)\n" + b"\n" * 200 + b"return -\n" + b"\n" * 100 + b"a end"
    inner = compile_source(source, b"@rw_a.lua", LUA53).protos[0]
    assert inner.lineinfo.hex() == "f601a3810200"
    assert decode_line_info(inner.lineinfo) == [-54, 47, 47]


def test_decoder_pads_to_sizecode() -> None:
    assert decode_line_info(bytes([2, 0]), sizecode=3) == [1, 1, -1]
