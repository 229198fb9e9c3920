"""Combined mains (luac.c `combine`) against luac.cross's own `.lc` output."""

import pytest

from golden import cases, epoch, output_blob
from lfs_format.errors import ImageError
from lfs_format.lua51.lc import dump_chunk, read_chunk
from lfs_format.lua51.proto import Proto
from lfs_format.target import FLOAT, INT, Target
from luacross.lua51.combine import build_lookup_main, combine_mains, corename, int2fb


def golden_file_proto(variant: str, path: str) -> tuple[Proto, Target]:
    """The Proto luac.cross compiled from corpus file `path` (read from its `.lc`).

    The int build refuses to dump numbers outside int32's [-2^31+1, 2^31-2]
    (apps/button.lua holds 2147483647) and leaves a truncated file; such a file
    has only integral numbers, so its float compile with int constants stands in.
    """
    case_id = f"{variant}/lc/{path.removesuffix('.lua')}"
    (case,) = [case for case in cases(case_id) if case["id"] == case_id]
    if case["expect"]["exit"]:
        assert variant == "int" and "value too big" in case["expect"]["stderr"]
        proto, _ = golden_file_proto("float", path)
        for f in proto.walk():
            assert all(float(k).is_integer() for k in f.constants if type(k) is float)
            f.constants = [int(k) if type(k) is float else k for k in f.constants]
        return proto, INT
    return read_chunk(output_blob(case))


def golden_inputs(case: dict) -> tuple[list[Proto], Target]:
    """Per-file Protos of the `.lua` arguments of a golden case, in command-line order."""
    files = [arg for arg in case["args"] if arg.endswith(".lua")]
    loaded = [golden_file_proto(case["variant"], path) for path in files]
    return [proto for proto, _ in loaded], loaded[0][1]


@pytest.mark.parametrize("case", cases("float/lookup/"), ids=lambda case: case["id"])
def test_lookup_main_matches_luac_cross(case):
    protos, target = golden_inputs(case)
    main = build_lookup_main(protos, epoch(), target)
    golden_main, _ = read_chunk(output_blob(case))
    assert main == golden_main
    assert dump_chunk(main, target) == output_blob(case)


@pytest.mark.parametrize("case", cases("float/combine/"), ids=lambda case: case["id"])
def test_type0_main_matches_luac_cross(case):
    protos, target = golden_inputs(case)
    assert dump_chunk(combine_mains(protos), target) == output_blob(case)


def test_single_file_type0_is_its_own_main():
    proto, _ = golden_file_proto("float", "apps/_init.lua")
    assert combine_mains([proto]) is proto


def test_lookup_main_layout_for_two_modules():
    # formats reference §6.2, n = 2
    a, b = Proto(source=b"@a.lua"), Proto(source=b"@dir/b.lua")
    main = build_lookup_main([a, b], 1704067200, FLOAT)
    words = [f"{w:08x}" for w in main.code]
    assert words[:8] == [
        "00400017",
        "80004016",
        "00000064",
        "0100005e",
        "00404017",
        "80004016",
        "00004064",
        "0100005e",
    ]
    assert words[8:] == [
        "00008041",
        "0100008a",
        "000000c1",
        "00004101",
        "010040a2",
        "0180005e",
        "0080001e",
    ]
    assert main.constants == [b"a", b"b", 1704067200.0]
    assert (main.numparams, main.maxstacksize, main.source) == (1, 5, b"=(luac)")


def test_timestamp_is_a_lua_number_of_the_target():
    a = Proto(source=b"@a.lua", code=[0x0080001E], maxstacksize=2)
    float_dump = dump_chunk(build_lookup_main([a], 1704067200, FLOAT), FLOAT)
    int_dump = dump_chunk(build_lookup_main([a], 1704067200, INT), INT)
    assert bytes.fromhex("03 00 00 00 20 80 64 d9 41") in float_dump
    assert bytes.fromhex("03 80 00 92 65") in int_dump
    assert type(build_lookup_main([a], 1704067200, INT).constants[-1]) is int


def test_module_limit():
    protos = [Proto(source=b"@m%d.lua" % i) for i in range(51)]
    build_lookup_main(protos[:50], 0, FLOAT)
    with pytest.raises(ImageError, match="^'-f': Number of modules > 50$"):
        build_lookup_main(protos, 0, FLOAT)
    assert len(combine_mains(protos).code) == 103  # type 0 has no limit


@pytest.mark.parametrize(
    ("n", "fb"), [(0, 0), (7, 7), (8, 8), (9, 9), (15, 15), (16, 16), (17, 17), (50, 29)]
)
def test_int2fb(n, fb):
    assert int2fb(n) == fb


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("a.b.lua", "a"),
        ("sub.dir/x.lua", "x"),
        (".hid/.y.lua", "y"),
        ("..z", "z"),
        ("sub.dir/...", "sub.dir/..."),
        ("w\\in.lua", "in"),
        (".hid/a\\b.c.lua", "a\\b"),
        ("sub.dir/.lua", "lua"),
        ("./noext", "noext"),
    ],
)
def test_corename(path, name):
    # formats reference §6.2 table
    assert corename(b"@" + path.encode()) == name.encode()


def test_corename_of_stdin():
    assert corename(b"=stdin") == b"stdin"
