"""The combined mains of the Lua 5.3 luac.cross (luac.c `combine`), its module
names and its file order, against the reference's recorded runs."""

import pytest

from lfs_format.lua53.lc import dump_lc, read_lc
from lfs_format.target import LUA53, LUA53_64
from luacross.lua53.combine import (
    COMBINED_SOURCE,
    DuplicateModuleError,
    combine,
    corename,
    reorder_files,
)
from luacross.lua53.core import load_chunk

from .golden53 import CORPUS, case, cases, epoch, lc_of, normalise_stderr, output_files, target


def _main_of(variant: str, path: str):
    """A file's main as the reference compiled it (its recorded `.lc`), else compiled here."""
    tgt = LUA53 if variant == "lua53" else LUA53_64
    data = lc_of(variant, path)
    if data is None:
        return load_chunk((CORPUS / path).read_bytes(), b"@" + path.encode(), tgt)
    return read_lc(data, b"@" + path.encode(), tgt)


def _files(args: list[str]) -> list[str]:
    files = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-o":
            skip = True
        elif not arg.startswith("-"):
            files.append(arg)
    return files


def _combine_cases():
    for c in cases("combine") + cases("lookup"):
        yield pytest.param(c, id=c["id"])
    for name in ("dunder-third", "dup-basename", "same-file-twice", "dup-long-names"):
        yield pytest.param(case(f"lua53/image/{name}"), id=f"lua53/image/{name}")


@pytest.mark.parametrize("case", list(_combine_cases()))
def test_golden_combination(case):
    lookup = "-i" in case["args"] or "-f" in case["args"]
    protos = [_main_of(case["variant"], path) for path in reorder_files(_files(case["args"]))]
    if case["expect"]["exit"] != 0:
        with pytest.raises(DuplicateModuleError) as info:
            combine(protos, lookup=lookup, timestamp=epoch(), target=target(case))
        assert normalise_stderr(f"luac.cross: {info.value}\n") == case["expect"]["stderr"]
        return
    main = combine(protos, lookup=lookup, timestamp=epoch(), target=target(case))
    if "-f" in case["args"]:
        return  # an image: only the names are checked here
    (expected,) = output_files(case).values()
    assert dump_lc(main, target(case), strip="-s" in case["args"]) == expected


def test_reorderfiles():
    # a file whose name (minus its first character) has the basename "__" goes first,
    # and the shift loop copies the first file into the slots up to its old place
    assert reorder_files(["app", "fifo", "x/__"]) == ["x/__", "app", "app"]
    assert reorder_files(["app", "x/__", "fifo"]) == ["x/__", "app", "fifo"]
    assert reorder_files(["x/__", "app"]) == ["x/__", "app"]
    assert reorder_files(["a", "__init.lua"]) == ["a", "__init.lua"]
    assert reorder_files(["__"]) == ["__"]  # "_" after the first character: not moved
    # pmain reads stdin where the original argument was "-"
    assert reorder_files(["app", "-", "x/__"]) == ["x/__", None, "app"]
    assert reorder_files(["-", "x/__"]) == [None, "-"]


@pytest.mark.parametrize(
    ("source", "name", "rest"),
    [
        (b"@apps/app.lua", b"app", b"app.lua"),
        (b"@names/.leading_dot.lua", b"leading_dot", b"leading_dot.lua"),
        (b"@names/multi.part.name.lua", b"multi", b"multi.part.name.lua"),
        (b"=stdin", b"stdin", b"stdin"),
        (b"@dir\\win.lua", b"win", b"win.lua"),
        (b"@a\\b/c.lua", b"c", b"c.lua"),
    ],
)
def test_corename(source, name, rest):
    assert corename(source) == (name, rest)


def test_one_file_is_its_own_main_unless_lookup():
    main = _main_of("lua53", "apps/app.lua")
    assert combine([main], lookup=False, timestamp=0, target=LUA53) is main
    lookup = combine([main], lookup=True, timestamp=0, target=LUA53)
    assert lookup.source == COMBINED_SOURCE and lookup.constants == [b"app", 0]
    assert main.upvalues[0].instack == 0


def test_timestamp_is_a_target_integer():
    main = _main_of("lua53", "apps/app.lua")
    stamp = 2**31 + 5
    assert combine([main], lookup=True, timestamp=stamp, target=LUA53).constants[-1] == 5 - 2**31
    assert combine([main], lookup=True, timestamp=stamp, target=LUA53_64).constants[-1] == stamp
