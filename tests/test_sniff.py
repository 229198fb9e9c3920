"""lfs_format.sniff: what a file is, checked against files the real tools wrote.

Expectations come from the recordings (the variant and the kind of run that wrote
each blob in tests/golden and tests/golden53), from stock Lua's own `string.dump`
(lupa) and from the corpus sources, never from luacross's output.
"""

import gzip
import json
import random
from pathlib import Path

import lupa.lua51
import lupa.lua53
import lupa.lua54
import pytest

from lfs_format.sniff import sniff

TESTS = Path(__file__).resolve().parent
BUILDS = {"float": "float", "int": "int", "lua53": "lua53", "lua53-64": "lua53-64"}
CHUNK_CATEGORIES = {"lc", "strip", "combine", "lookup"}


def _written(golden: str):
    """(case id, variant, category, bytes) of every file the recorded runs wrote."""
    root = TESTS / golden
    recording = json.loads((root / "cases.json").read_text())
    for case in recording["cases"]:
        variant, category = case["id"].split("/")[:2]
        for meta in case["expect"]["files"].values():
            blob = root / "blobs" / meta["sha256"]
            if blob.exists() and meta["size"]:
                yield case, variant, category, blob.read_bytes()


ALL_WRITTEN = [*_written("golden"), *_written("golden53")]


@pytest.mark.parametrize("golden", ["golden", "golden53"])
def test_every_recorded_file(golden):
    checked = 0
    for case, variant, category, data in _written(golden):
        found = sniff(data)
        lua = "5.3" if variant.startswith("lua53") else "5.1"
        if category in CHUNK_CATEGORIES:
            assert (found.kind, found.lua, found.build) == ("lc", lua, variant), case["id"]
        elif category in ("image", "image-list", "image-strip", "absimage"):
            assert (found.kind, found.lua, found.build) == ("image", lua, variant), case["id"]
            assert found.absolute == (category == "absimage"), case["id"]
        else:
            continue
        checked += 1
    assert checked > 200


def test_descriptions_name_the_build():
    lc51 = next(d for c, v, cat, d in ALL_WRITTEN if v == "int" and cat == "lc")
    assert sniff(lc51).description == "NodeMCU Lua 5.1 bytecode (integer build)"
    lc53 = next(d for c, v, cat, d in ALL_WRITTEN if v == "lua53-64" and cat == "lc")
    assert "Lua 5.3 bytecode (64-bit integers, 64-bit floats)" in sniff(lc53).description
    abs51 = next(c for c in ALL_WRITTEN if c[0]["id"] == "float/absimage/base-high")
    assert "absolute at 0x40300000" in sniff(abs51[3]).description  # the -a address given


def test_lua53_reference_images_in_tests_data():
    images = TESTS / "lua53" / "data" / "images"
    for name, build, absolute in [
        ("ref32.img", "lua53", False),
        ("ref64.img", "lua53-64", False),
        ("ref32_abs.img", "lua53", True),
        ("ref64_abs.img", "lua53-64", True),
    ]:
        found = sniff((images / name).read_bytes())
        assert (found.kind, found.build, found.absolute) == ("image", build, absolute), name


def test_corpus_sources_are_source():
    sources = sorted((TESTS / "golden" / "corpus").rglob("*.lua"))
    sources += sorted((TESTS / "golden53" / "corpus").rglob("*.lua"))
    assert len(sources) > 200
    for path in sources:
        assert sniff(path.read_bytes()).kind == "source", path


@pytest.mark.parametrize(
    "module, expected",
    [
        (lupa.lua51, "stock Lua 5.1 bytecode (64-bit host)"),
        (lupa.lua53, "stock Lua 5.3 bytecode"),
        (lupa.lua54, "Lua 5.4 bytecode"),
    ],
)
def test_stock_lua_chunks(module, expected):
    dumped = module.LuaRuntime(encoding=None).eval(b"string.dump(function() return 1 end)")
    found = sniff(dumped)
    assert found.kind == "luac"
    assert found.description.startswith(expected)
    assert "not NodeMCU's" in found.description


def test_gzip_of_something_else():
    found = sniff(gzip.compress(b"print('hello')\n"))
    assert found.kind == "gzip"
    assert found.inner.kind == "source"
    assert found.description == "gzip of Lua source (text)"
    assert sniff(b"\x1f\x8b\x08\x00garbage").kind == "gzip"  # does not inflate


def test_random_bytes_and_the_empty_file():
    rng = random.Random(10)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(256, 2000)))
        if data[:1] not in (b"\x1b", b"\x1f"):
            assert sniff(data).kind == "unknown"
    assert sniff(b"").kind == "source"  # an empty file compiles
