"""`luacross inspect`: kinds, image summaries and listings, against the real tool's files.

Flash sizes come from luac.cross's own `Image size: N` (Lua 5.1) and from the
flash regions luac.cross 5.3 wrote for `-F IMAGE -a ADDR`; module names from the
files each image was built from; listings from luac.cross's `-f -l` output.
"""

import json
import os
import re
from pathlib import Path

import pytest

from golden import cases, epoch, output_blob, run_cli
from luacross.inspect import examine, listing

TESTS = Path(__file__).resolve().parent
GOLDEN53 = TESTS / "golden53"
IMAGES53 = TESTS / "lua53" / "data" / "images"


def _cases53(prefix: str) -> list[dict]:
    recording = json.loads((GOLDEN53 / "cases.json").read_text())
    return [case for case in recording["cases"] if case["id"].startswith(prefix)]


def _blob53(case: dict) -> bytes:
    (meta,) = case["expect"]["files"].values()
    return (GOLDEN53 / "blobs" / meta["sha256"]).read_bytes()


def _module_names(args: list[str]) -> list[str]:
    """The corenames of the source files on a command line (basename up to the first dot)."""
    names = []
    for arg in args:
        if arg.endswith(".lua"):
            names.append(os.path.basename(arg).lstrip(".").split(".")[0])
    return names


def _sum_up(image: dict) -> int:
    return sum(m["bytes"] for m in image["modules"]) + sum(image["overhead"].values())


IMAGES51 = [
    case
    for case in cases()
    if case["id"].split("/")[1] in ("image", "absimage", "image-strip", "image-list")
    and case["expect"]["files"]
]


@pytest.mark.parametrize("case", IMAGES51, ids=lambda case: case["id"])
def test_lua51_images(case):
    data = output_blob(case)
    report = examine("lfs.img", data)
    assert report["error"] is None
    image = report["image"]
    size = int(re.search(r"Image size: (\d+)", case["expect"]["stdout"]).group(1))
    assert image["flash_size"] == size
    assert _sum_up(image) == size
    for module in image["modules"]:
        parts = ("code", "constants", "nested", "debug", "records", "strings")
        assert sum(module[part] for part in parts) == module["bytes"]
    assert [m["name"] for m in image["modules"]] == _module_names(case["args"])
    assert image["timestamp"] == epoch()
    assert image["build"] == case["variant"]
    assert image["absolute"] == (case["id"].split("/")[1] == "absimage")
    if image["absolute"]:  # the FlashHeader as luac.cross wrote it: nROuse is word 4
        assert image["strings"]["count"] == int.from_bytes(data[16:20], "little")
        assert image["address"] == int(case["args"][case["args"].index("-a") + 1], 0)
    else:
        assert image["compressed_size"] == len(data)


def test_lua53_image_sizes_match_the_regions_luac_cross_wrote():
    for image_file, region_file in [("ref32.img", "ref32_abs.img"), ("ref64.img", "ref64_abs.img")]:
        image = examine(image_file, (IMAGES53 / image_file).read_bytes())["image"]
        region = examine(region_file, (IMAGES53 / region_file).read_bytes())["image"]
        assert (
            image["flash_size"] == region["flash_size"] == (IMAGES53 / region_file).stat().st_size
        )
        assert _sum_up(image) == image["flash_size"]
        assert image["seed"] == region["seed"]
        assert image["timestamp"] == region["timestamp"] == 1704067200
        names = ["quirks", "a_module_name_that_is_quite_long_indeed_over_40", "small"]
        assert [m["name"] for m in image["modules"]] == names
        assert [m["name"] for m in region["modules"]] == names
        # the region, read back on its own, gives every module the same bytes
        assert region["modules"] == image["modules"]
        assert region["overhead"] == image["overhead"]
        assert region["address"] == 0x40234000  # the -a address it was made with
        assert _sum_up(region) == region["flash_size"]
        lists = [
            listing(examine(name, (IMAGES53 / name).read_bytes()), full=True)
            for name in (image_file, region_file)
        ]
        assert lists[0] == lists[1]


@pytest.mark.parametrize("variant", ["lua53", "lua53-64"])
def test_lua53_golden_images(variant):
    for case in _cases53(f"{variant}/image/"):
        if not case["expect"]["files"]:
            continue
        image = examine("lfs.img", _blob53(case))["image"]
        assert _sum_up(image) == image["flash_size"]
        assert image["build"] == variant
    for case in _cases53(f"{variant}/absimage/"):
        if case["expect"]["files"]:
            region = examine("abs.img", _blob53(case))["image"]
            assert region["address"] == int(case["args"][case["args"].index("-a") + 1], 0)
            assert _sum_up(region) == region["flash_size"] == len(_blob53(case))
    (region_case,) = _cases53(f"{variant}/absimage/apps3")
    source = "apps3.img" if variant == "lua53" else "apps3_64.img"
    image = examine(source, (GOLDEN53 / "corpus" / "images" / source).read_bytes())["image"]
    assert image["flash_size"] == len(_blob53(region_case))


LC_INT = next(case for case in cases("int/lc/") if case["expect"]["files"])


def _normalise(text: str) -> str:
    text = re.sub(r"Image size: \d+\n", "", text)
    return re.sub(r"0x[0-9a-fA-F?]+", "0x?", text)


def test_image_listings_are_luac_crosss():
    checked = 0
    for case in [*cases("float/image-list/"), *_cases53("lua53/image-list/")]:
        data = output_blob(case) if case in IMAGES51 else None
        if data is None:
            data = _blob53(case)
        report = examine("lfs.img", data)
        text = listing(report, full=case["args"].count("-l") > 1).decode("latin-1")
        assert _normalise(text) == _normalise(case["expect"]["stdout"]), case["id"]
        checked += 1
    assert checked >= 6


def test_lc_listing_is_luac_crosss():
    from golden import paired_cases

    pairs = [(lst, lc) for lst, lc in paired_cases("list", "lc") if lst["args"].count("-l") == 2]
    assert pairs
    for list_case, lc_case in pairs[:20]:
        data = output_blob(lc_case)
        report = examine("out.lc", data)
        assert report["chunk"]["source"] == "@" + lc_case["args"][-1]
        text = listing(report, full=True).decode("latin-1")
        assert _normalise(text) == _normalise(list_case["expect"]["stdout"]), list_case["id"]


# -- the command ------------------------------------------------------------------


def _validate(value, schema, root):
    """The parts of JSON Schema docs/inspect-schema.json uses."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in schema:
        errors = []
        for option in schema["oneOf"]:
            try:
                _validate(value, option, root)
                return
            except AssertionError as exc:
                errors.append(exc)
        raise AssertionError(errors)
    if "const" in schema:
        assert value == schema["const"]
    if "enum" in schema:
        assert value in schema["enum"], (value, schema["enum"])
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        python = {"object": dict, "array": list, "string": str, "boolean": bool,
                  "integer": int, "null": type(None)}  # fmt: skip
        assert any(
            isinstance(value, python[k]) and not (k == "integer" and isinstance(value, bool))
            for k in kinds
        ), (value, kinds)
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, key
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), set(value) - set(props)
        for key, sub in props.items():
            if key in value:
                _validate(value[key], sub, root)
    if isinstance(value, list) and "items" in schema:
        for item in value:
            _validate(item, schema["items"], root)
    if isinstance(value, int) and "minimum" in schema:
        assert value >= schema["minimum"]


def test_json_follows_the_schema(tmp_path):
    image51 = tmp_path / "lfs.img"
    image51.write_bytes(output_blob(IMAGES51[0]))
    lc = tmp_path / "x.lc"
    lc.write_bytes(output_blob(LC_INT))
    source = tmp_path / "x.lua"
    source.write_text("print(1)\n")
    junk = tmp_path / "junk"
    junk.write_bytes(bytes(range(256)))
    files = [image51, lc, source, junk, IMAGES53 / "ref32.img", IMAGES53 / "ref64_abs.img"]
    run = run_cli(["inspect", "--json", *map(str, files)])
    assert run.status == 0, run.stderr
    document = json.loads(run.stdout)
    schema = json.loads((TESTS.parent / "docs" / "inspect-schema.json").read_text())
    _validate(document, schema, schema)
    assert [f["kind"] for f in document["files"]] == [
        "image", "lc", "source", "unknown", "image", "image"
    ]  # fmt: skip


def test_text_output_and_errors(tmp_path):
    lc = tmp_path / "x.lc"
    lc.write_bytes(output_blob(LC_INT))
    run = run_cli(["inspect", str(lc)])
    assert run.status == 0
    assert run.stdout.decode().startswith(f"{lc}: NodeMCU Lua 5.1 bytecode (integer build)\n")
    missing = run_cli(["inspect", str(tmp_path / "nope")])
    assert missing.status == 1
    assert (
        missing.stderr.decode()
        == f"luacross: cannot open {tmp_path / 'nope'}: No such file or directory\n"
    )
    usage = run_cli(["inspect", "--bogus"])
    assert usage.status == 2
    assert usage.stderr.decode().count("\n") == 1
    assert run_cli(["inspect"]).status == 2
    assert b"usage: luacross inspect" in run_cli(["inspect", "--help"]).stdout


def test_damaged_image_is_one_line(tmp_path):
    data = bytearray(output_blob(IMAGES51[0]))
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.img"
    bad.write_bytes(bytes(data))
    run = run_cli(["inspect", str(bad)])
    assert run.status == 1
    assert b"damaged: " in run.stdout
    assert run.stderr.startswith(b"luacross: " + bytes(bad) + b": damaged: ")
    assert run.stderr.count(b"\n") == 1


# -- ESP32 builds (files the dev-esp32 luac.cross wrote, tests/data/esp32) -------------

ESP32 = TESTS / "data" / "esp32"
ESP32_BUILDS = {
    "esp32-51": "float",
    "esp32-51-int": "int",
    "esp32-53": "lua53",
    "esp32-53-int64": "lua53-int64",
    "esp32-53-double": "lua53-double",
    "esp32-53-int64-double": "lua53-64",
}


def test_esp32_files():
    manifest = json.loads((ESP32 / "manifest.json").read_text())["files"]
    assert len(manifest) >= 16
    for entry in manifest:
        report = examine(entry["file"], (ESP32 / entry["file"]).read_bytes())
        category = entry["id"].split("/")[1]
        assert report["error"] is None, entry["id"]
        assert report["build"] == ESP32_BUILDS[entry["variant"]], entry["id"]
        if category == "lc":
            assert report["kind"] == "lc" and report["chunk"]["functions"] >= 1
            continue
        image = report["image"]
        assert report["kind"] == "image"
        assert image["absolute"] == (category == "absimage"), entry["id"]
        assert _sum_up(image) == image["flash_size"], entry["id"]
        if entry["image_size"] is not None:
            assert image["flash_size"] == entry["image_size"], entry["id"]
        if entry["address"] is not None:
            assert image["address"] == entry["address"], entry["id"]
