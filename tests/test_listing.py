"""The -l listing against luac.cross's recorded listings, stock luac5.1 and print.c's rules."""

import io
import re
import subprocess

import pytest

from golden import CORPUS, cases, normalise_listing, output_blob, paired_cases
from lfs_format.instruction import create_abc, create_abx
from lfs_format.lua51.lc import read_chunk
from lfs_format.lua51.opcodes import OpCode
from lfs_format.lua51.proto import Proto
from lfs_format.target import FLOAT, HOST, INT
from luacross.lua51.listing import Instruction, decode_instructions, print_listing

ADDRESS = re.compile(r"0x[0-9a-f]{6,16}")


def listing(proto: Proto, *, full: bool = True, target=FLOAT) -> str:
    out = io.StringIO()
    print_listing(proto, out, full=full, target=target)
    return out.getvalue()


@pytest.mark.parametrize("pair", paired_cases("list", "lc"), ids=lambda pair: pair[0]["id"])
def test_golden_listing(pair):
    """`-l -l -p` (float) / `-l -p` (int) of a file == our listing of luac.cross's .lc of it."""
    case, lc = pair
    proto, target = read_chunk(output_blob(lc))
    full = case["args"].count("-l") == 2
    assert normalise_listing(listing(proto, full=full, target=target)) == case["expect"]["stdout"]


@pytest.mark.parametrize("group", ["apps", "syntax-a", "syntax-b"])
def test_lookup_main_listing(group):
    """The -f -l listing (before "Image size") == our listing of the -i .lc of the same files."""
    (image_list,) = cases(f"float/image-list/{group}")
    (lookup,) = cases(f"float/lookup/{group}")
    stdout = image_list["expect"]["stdout"]
    expected = stdout[: stdout.rindex("Image size: ")]
    proto, target = read_chunk(output_blob(lookup))
    text = listing(proto, full=False, target=target)
    assert "\t1\t[-]\tEQ       \t0 0 -1\t; - " in text
    assert normalise_listing(text) == expected


def test_stock_luac_listing(tmp_path):
    """Stock chunks (locals, upvalue names, int line info) list as `luac5.1 -l -l` does."""
    checked = 0
    for path in sorted(CORPUS.glob("*/*.lua")):
        name = str(path.relative_to(CORPUS))
        out = tmp_path / "luac.out"
        run = subprocess.run(
            ["luac5.1", "-l", "-l", "-o", str(out), name], cwd=CORPUS, capture_output=True
        )
        if run.returncode:
            continue  # a syntax-error case
        proto, target = read_chunk(out.read_bytes())
        assert target == HOST
        ours = normalise_listing(listing(proto, target=HOST)).encode("latin-1")
        assert ours == ADDRESS.sub("0x?", run.stdout.decode("latin-1")).encode("latin-1"), name
        checked += 1
    assert checked > 40


# ---------------------------------------------------------------------------
# print.c's rules, from the formats reference §5

RETURN = create_abc(OpCode.RETURN, 0, 1, 0)


def with_constants(*constants) -> Proto:
    """A main function that LOADKs each constant in turn."""
    code = [create_abx(OpCode.LOADK, 0, i) for i in range(len(constants))] + [RETURN]
    return Proto(source=b"@k.lua", maxstacksize=2, code=code, constants=list(constants))


def comments(text: str) -> list[str]:
    return [line.split("\t; ", 1)[1] for line in text.splitlines() if "\t; " in line]


def test_number_formats_float():
    proto = with_constants(-0.0, float("inf"), float("-inf"), 1e100, 1 / 3, 0.1, 2.0**53, 12.0)
    assert comments(listing(proto, full=False)) == [
        "-0",
        "inf",
        "-inf",
        "1e+100",
        "0.33333333333333",
        "0.1",
        "9.007199254741e+15",
        "12",
    ]


def test_nan_keeps_its_sign():
    """glibc printf writes "-nan" for a NaN with the sign bit set."""
    nan = float("nan")
    assert comments(listing(with_constants(nan, -nan), full=False)) == ["nan", "-nan"]


def test_number_format_int():
    assert comments(listing(with_constants(-2147483647, 7), full=False, target=INT)) == [
        "-2147483647",
        "7",
    ]


def test_string_escapes():
    proto = with_constants(b'"\\\a\b\f\n\r\t\v', b"\x00\x7f\x80\xff ~", None, True, False)
    assert comments(listing(proto, full=False)) == [
        '"\\"\\\\\\a\\b\\f\\n\\r\\t\\v"',
        '"\\000\\127\\128\\255 ~"',
        "nil",
        "true",
        "false",
    ]


def test_global_names_are_raw_bytes():
    """GETGLOBAL prints the name with %s: unescaped, up to a NUL, one latin-1 char per byte."""
    code = [
        create_abx(OpCode.GETGLOBAL, 0, 0),
        create_abx(OpCode.SETGLOBAL, 0, 1),
        RETURN,
    ]
    proto = Proto(source=b"@g.lua", maxstacksize=2, code=code, constants=[b"caf\xe9\n", b"a\0b"])
    assert comments(listing(proto, full=False)) == ["caf\xe9", "a"]
    assert "caf\xe9\n" in listing(proto, full=False)


def test_header_and_sections():
    child = Proto(
        source=b"@h.lua",
        linedefined=2,
        lastlinedefined=4,
        numparams=1,
        maxstacksize=1,
        code=[RETURN],
    )
    main = Proto(
        source=b"@h.lua",
        is_vararg=2,
        maxstacksize=2,
        code=[create_abx(OpCode.CLOSURE, 0, 0), RETURN],
        protos=[child],
        packedlineinfo=b"\x84\x01\x01",
    )
    child.packedlineinfo = b"\x82\x01"
    text = listing(main)
    address = ADDRESS.findall(text)
    assert len(set(address)) == 2 and address[1] == address[5]  # CLOSURE names the child
    assert normalise_listing(text) == (
        "\nmain <h.lua:0,0> (2 instructions, 8 bytes at 0x?)\n"
        "0+ params, 2 slots, 0 upvalues, 0 locals, 0 constants, 1 function\n"
        "\t1\t[6]\tCLOSURE  \t0 0\t; 0x?\n"
        "\t2\t[7]\tRETURN   \t0 1\n"
        "constants (0) for 0x?:\n"
        "locals (0) for 0x?:\n"
        "upvalues (0) for 0x?:\n"
        "\nfunction <h.lua:2,4> (1 instruction, 4 bytes at 0x?)\n"
        "1 param, 1 slot, 0 upvalues, 0 locals, 0 constants, 0 functions\n"
        "\t1\t[4]\tRETURN   \t0 1\n"
        "constants (0) for 0x?:\n"
        "locals (0) for 0x?:\n"
        "upvalues (0) for 0x?:\n"
    )


@pytest.mark.parametrize(
    "source, shown",
    [
        (b"=stdin", "stdin"),
        (b"@a/b.lua", "a/b.lua"),
        (b"\x1bLua", "(bstring)"),
        (b"x=1", "(string)"),
    ],
)
def test_source_names(source, shown):
    text = listing(Proto(source=source, maxstacksize=2, code=[RETURN]), full=False)
    assert text.startswith(f"\nmain <{shown}:0,0> (1 instruction, 4 bytes at 0x")


def test_no_line_info_prints_dash():
    text = listing(Proto(source=b"=(luac)", maxstacksize=2, code=[RETURN]), full=False)
    assert "\t1\t[-]\tRETURN   \t0 1\n" in text


def test_setlist_count_word_is_consumed():
    """SETLIST with C=0 prints the next raw word as its count and does not list it."""
    code = [create_abc(OpCode.SETLIST, 0, 1, 0), 600, RETURN]
    proto = Proto(source=b"@s.lua", maxstacksize=2, code=code)
    text = listing(proto, full=False)
    assert "\t1\t[-]\tSETLIST  \t0 1 0\t; 600\n\t3\t[-]\tRETURN   \t0 1\n" in text
    assert [i.pc for i in decode_instructions(proto)] == [0, 2]


def test_rk_operands_and_comments():
    code = [
        create_abc(OpCode.ADD, 0, 256, 0),
        create_abc(OpCode.MOD, 0, 256, 257),  # MOD gets no comment
        create_abc(OpCode.GETTABLE, 0, 0, 257),
        create_abc(OpCode.EQ, 1, 0, 0),
        create_abx(OpCode.JMP, 0, 1 + 131071 - 3),
        RETURN,
    ]
    proto = Proto(source=b"@r.lua", maxstacksize=2, code=code, constants=[1.0, b"k"])
    lines = listing(proto, full=False).splitlines()[3:]
    assert lines[:5] == [
        "\t1\t[-]\tADD      \t0 -1 0\t; 1 -",
        "\t2\t[-]\tMOD      \t0 -1 -2",
        '\t3\t[-]\tGETTABLE \t0 0 -2\t; "k"',
        "\t4\t[-]\tEQ       \t1 0 0",
        "\t5\t[-]\tJMP      \t-2\t; to 4",
    ]


def test_decoder_fields():
    proto = Proto(source=b"@d.lua", code=[0x0040404C, RETURN], packedlineinfo=b"\x82\x01")
    first = next(decode_instructions(proto))
    bx = 0x40404C >> 14
    assert first == Instruction(
        pc=0, opcode=OpCode.ADD, a=1, b=0, c=257, bx=bx, sbx=bx - 131071, line=4
    )
