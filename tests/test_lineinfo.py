"""Packed line info against the formats reference §3.2 worked examples and the goldens.

Each example gives the packed bytes luac.cross wrote and the per-pc lines of
stock luac5.1. The writer tests replay the compiler's line events for those
sources (`code(pc, line)` per instruction, `fixline` where lparser.c calls it).
"""

import pytest

from golden import cases, output_blob
from lfs_format.lua51.lc import read_chunk
from lfs_format.lua51.lineinfo import LineInfoWriter, decode_line_info

# (name, events, packed bytes with NUL, stock per-pc lines, decodes to stock?)
# an event is ("code", pc, line) or ("fix", line)
EXAMPLES = [
    (
        "locals_gap",  # local a=1\nlocal b=2\n\n\nlocal c=3
        [("code", 0, 1), ("code", 1, 2), ("code", 2, 5), ("code", 3, 5)],
        "01 01 81 02 00",
        [1, 2, 5, 5],
        True,
    ),
    (
        "line_101",
        [("code", 0, 1), ("code", 1, 101), ("code", 2, 101)],
        "01 a2 81 02 00",
        [1, 101, 101],
        True,
    ),
    (
        "line_10001",
        [("code", 0, 1), ("code", 1, 10001), ("code", 2, 10001)],
        "01 8e 9c 81 02 00",
        [1, 10001, 10001],
        True,
    ),
    (
        "run_overflow_135",
        [("code", pc, 1) for pc in range(135)],
        "7e c0 09 00",
        [1] * 135,
        True,
    ),
    (
        "call_over_two_lines",  # f(\n1): CALL is fixed back to the line of `f`
        [("code", 0, 1), ("code", 1, 2), ("code", 2, 2), ("fix", 1), ("code", 3, 2)],
        "01 01 c1 01 01 00",
        [1, 2, 1, 2],
        True,
    ),
    (
        "function_statement_main",  # function g()\nend: the store is fixed to line 1
        [("code", 0, 2), ("code", 1, 2), ("fix", 1), ("code", 2, 2)],
        "80 01 c1 01 01 00",
        [2, 1, 2],
        True,
    ),
    ("function_statement_body", [("code", 0, 2)], "80 01 00", [2], True),
    (
        "rewind_bug_two_byte_delta",  # f( + 70 blank lines + )\nlocal z=1
        [("code", 0, 1), ("code", 1, 72), ("fix", 1), ("code", 2, 73), ("code", 3, 73)],
        "01 be 01 86 81 02 00",
        [1, 1, 73, 73],
        False,
    ),
    ("empty_file", [("code", 0, 1)], "01 00", [1], True),
    ("return_on_line_4", [("code", 0, 4), ("code", 1, 4)], "82 02 00", [4, 4], True),
]


def replay(events) -> bytes:
    writer = LineInfoWriter()
    for event in events:
        if event[0] == "code":
            writer.code(event[1], event[2])
        else:
            writer.fixline(event[1])
    return writer.packed()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e[0])
def test_writer_reproduces_reference_bytes(example):
    _, events, packed, _, _ = example
    assert replay(events) + b"\0" == bytes.fromhex(packed)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e[0])
def test_decoder(example):
    _, _, packed, stock, same = example
    lines = decode_line_info(bytes.fromhex(packed))
    assert (lines == stock) == same
    assert len(lines) == len(stock)


def test_rewind_bug_decodes_shifted_lines():
    """§3.2: the two-byte rewind restores the wrong line; later lines are off by +64."""
    assert decode_line_info(bytes.fromhex("01 be 01 86 81 02")) == [1, 65, 137, 137]


def test_rewind_never_merges():
    """A rewind onto the previous entry's line writes `c0 01`, not a merged count."""
    assert replay([("code", 0, 1), ("code", 1, 2), ("fix", 1)]) == bytes.fromhex("01 c0 01")
    assert decode_line_info(bytes.fromhex("01 01 c1 01 c0 01")) == [1, 2, 1, 1]


def test_recoded_pc_is_a_fixline():
    """luaK_code for the same pc again (an OP_NOT removed) moves the line like fixline."""
    direct = replay([("code", 0, 1), ("code", 1, 2), ("fix", 3)])
    recoded = replay([("code", 0, 1), ("code", 1, 2), ("code", 1, 3)])
    assert recoded == direct


def test_decoder_stops_at_fill_and_nul():
    assert decode_line_info(b"\x01\x7f\x01") == [1]
    assert decode_line_info(b"\x01\x00\x01") == [1]


def test_golden_line_info_covers_every_pc():
    """In every float .lc luac.cross wrote, the decoded lines cover exactly the code."""
    checked = 0
    for case in cases("float/lc/"):
        if case["expect"]["exit"] != 0:
            continue
        proto, _ = read_chunk(output_blob(case))
        for p in proto.walk():
            assert len(decode_line_info(p.packedlineinfo)) == len(p.code)
            checked += 1
    assert checked > 100
