"""`--chip esp32`: the build table, `--partition-table`, the image-to-build lookup
(`lfs_format.variants`) and the number builds the ESP8266 firmware lacks."""

import re
import shutil
from pathlib import Path

import pytest

from golden import normalise_listing, run_cli
from lfs_format.partitions import (
    PartitionTableError,
    lfs_partition,
    lfs_partition_size,
    parse_partitions,
)
from lfs_format.target import (
    ESP32_53,
    ESP32_53_64,
    ESP32_53_DOUBLE,
    ESP32_53_INT64,
    ESP32_FLOAT,
    ESP32_INT,
    FLOAT,
    INT,
    LUA53,
    LUA53_64,
    TARGETS,
)
from lfs_format.variants import describe, flags, image_targets
from luacross.api import select_target
from luacross.lua53.codegen import LUA_OPADD, LUA_OPDIV, arith

from .golden_esp32 import VARIANT_FLAGS, blob, cases

# components/platform/partitions.csv of the dev-esp32 firmware
FIRMWARE_PARTITIONS = """\
# Name,  Type, SubType, Offset,  Size
nvs,           data, nvs,      0x9000,   0x6000
phy_init,      data, phy,      0xf000,   0x1000
factory,       app,  factory, 0x10000, 0x180000
# Type 0xC2 => NodeMCU. SubTypes: 0x01 = LFS
lfs,           0xC2, 0x01,           , 0x10000
storage,       data, spiffs,         , 0x70000
"""


@pytest.mark.parametrize(
    ("args", "target"),
    [
        ((), FLOAT),
        (("5.1", None, True), INT),
        (("5.3",), LUA53),
        (("5.3", "64"), LUA53_64),
        (("5.1", None, False, "esp32"), ESP32_FLOAT),
        (("5.1", None, True, "esp32"), ESP32_INT),
        (("5.3", None, False, "esp32"), ESP32_53),
        (("5.3", "32", False, "esp32"), ESP32_53),
        (("5.3", "int64", False, "esp32"), ESP32_53_INT64),
        (("5.3", "double", False, "esp32"), ESP32_53_DOUBLE),
        (("5.3", "64", False, "esp32"), ESP32_53_64),
    ],
)
def test_select_target(args, target):
    assert select_target(*args) is target


def test_every_build_is_one_table_entry():
    assert len({id(target) for target in TARGETS.values()}) == len(TARGETS)
    for target in TARGETS.values():
        assert select_target(*_selection(flags(target))) is target


def _selection(options: list[str]) -> tuple:
    lua, numbers, integral, chip = "5.1", None, False, "esp8266"
    it = iter(options)
    for option in it:
        if option == "--int":
            integral = True
        elif option == "--lua":
            lua = next(it)
        elif option == "--numbers":
            numbers = next(it)
        elif option == "--chip":
            chip = next(it)
    return lua, numbers, integral, chip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chip", "esp99", "x.lua"], "luacross: unknown chip 'esp99'"),
        (["--lua", "5.3", "--numbers", "int64", "x.lua"], "unknown number format 'int64'"),
        (["--chip", "esp32", "--lua", "5.3", "--numbers", "16", "x.lua"], "--numbers double"),
        (["--chip", "esp32", "--numbers", "64", "x.lua"], "use it with --lua 5.3"),
    ],
)
def test_bad_selection(args, message):
    run = run_cli(args)
    assert run.status == 1
    assert message in run.stderr.decode()
    assert run.stderr.count(b"\n") == 1


@pytest.mark.parametrize("variant", sorted(VARIANT_FLAGS))
def test_version(variant):
    (case,) = cases(f"{variant}/version")
    assert run_cli(VARIANT_FLAGS[variant] + ["-v"]).stdout.decode() == case["expect"]["stdout"]


# -- the image -> build lookup ---------------------------------------------------------

VARIANT_TARGETS = {
    "esp32-51": ESP32_FLOAT,
    "esp32-51-int": ESP32_INT,
    "esp32-53": ESP32_53,
    "esp32-53-int64": ESP32_53_INT64,
    "esp32-53-double": ESP32_53_DOUBLE,
    "esp32-53-int64-double": ESP32_53_64,
}
IMAGE_CASES = [
    case
    for case in cases()
    if case["id"].split("/")[1] in ("image", "image-strip", "absimage") and case["expect"]["files"]
]


@pytest.mark.parametrize("case", IMAGE_CASES, ids=lambda case: case["id"])
def test_image_targets_of_recorded_images(case):
    (meta,) = case["expect"]["files"].values()
    found = image_targets(blob(meta["sha256"]))
    target = VARIANT_TARGETS[case["variant"]]
    assert target in found
    if target in (ESP32_53_INT64, ESP32_53_DOUBLE):
        assert found == [target]  # the mixed builds exist only on the ESP32
    if case["id"].endswith("base-outside-esp8266"):
        assert found == [target]  # its string table is sized as only the ESP32 tool does


def test_image_targets_of_other_data():
    assert image_targets(b"") == []
    assert image_targets(b"\x1bLua\x51\x00" + bytes(30)) == []
    assert image_targets(bytes(64)) == []


def test_describe():
    assert describe(ESP32_53_64) == (
        "ESP32 firmware, Lua 5.3, 64-bit integers and doubles (--chip esp32 --lua 5.3 --numbers 64)"
    )
    assert describe(INT) == "ESP8266 firmware, Lua 5.1, integer build (--int)"
    assert describe(FLOAT) == "ESP8266 firmware, Lua 5.1, float build (the default build)"


# -- mixed number sizes ----------------------------------------------------------------


def test_int64_to_single_float_rounds_once():
    """`(float)i` for a 64-bit integer: 2^60 + 2^36 + 1 is nearest to 2^60 + 2^37
    (via a double, 2^60 + 2^36, a tie, would round to 2^60)."""
    value = (1 << 60) + (1 << 36) + 1
    assert arith(ESP32_53_INT64, LUA_OPADD, value, 0.0) == float((1 << 60) + (1 << 37))
    assert arith(ESP32_53_INT64, LUA_OPADD, -value, 0.0) == -float((1 << 60) + (1 << 37))


def test_int32_with_doubles():
    assert arith(ESP32_53_DOUBLE, LUA_OPADD, 0x7FFFFFFF, 1) == -0x80000000  # integers wrap
    assert arith(ESP32_53_DOUBLE, LUA_OPDIV, 1, 3) == 1 / 3  # a double quotient


# -- partition tables ------------------------------------------------------------------


def test_firmware_partition_table():
    partitions = parse_partitions(FIRMWARE_PARTITIONS)
    assert [p.name for p in partitions] == ["nvs", "phy_init", "factory", "lfs", "storage"]
    lfs = lfs_partition(partitions)
    assert (lfs.offset, lfs.size) == (0x190000, 0x10000)
    assert partitions[-1].offset == 0x1A0000


def test_partition_table_numbers():
    table = "nvs, data, nvs, , 24K\napp0, app, factory, , 1M\nlfs, 0xc2, 1, , 128k\n"
    nvs, app, lfs = parse_partitions(table)
    assert (nvs.offset, nvs.size) == (0x9000, 24 * 1024)
    assert (app.offset, app.size) == (0x10000, 0x100000)  # app partitions: 64 KiB aligned
    assert (lfs.offset, lfs.size) == (0x110000, 0x20000)
    assert lfs_partition([nvs, app, lfs]) is lfs


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("nvs, data, nvs, 0x9000, 0x6000\n", "partitions.csv: no LFS partition"),
        ("lfs, 0xC2, 0x01, , lots\n", "partitions.csv:1: bad partition size 'lots'"),
        ("# only\nlfs, 0xC2\n", "partitions.csv:2: expected"),
        ("lfs, nodemcu, 0x01, , 0x10000\n", "bad partition type 'nodemcu'"),
    ],
)
def test_bad_partition_tables(table, message):
    with pytest.raises(PartitionTableError) as error:
        lfs_partition(parse_partitions(table))
    assert message in str(error.value)


def test_partition_table_size_not_a_page_multiple(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("lfs, 0xC2, 0x01, , 0x10800\n")
    with pytest.raises(PartitionTableError, match="not a multiple of 4,096"):
        lfs_partition_size(str(path))


def test_cli_partition_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "partitions.csv").write_text(FIRMWARE_PARTITIONS)
    (tmp_path / "small.lua").write_text("print('hi')\n")
    (tmp_path / "big.lua").write_text(
        "local t = {\n" + "".join(f"  'string number {i}',\n" for i in range(4000)) + "}\n"
    )
    args = ["--chip", "esp32", "--partition-table", "partitions.csv", "-f", "-o", "lfs.img"]
    run = run_cli([*args, "small.lua"])
    assert run.status == 0
    assert run.stdout.decode().endswith("% of available size of 64kiB)\n")  # 0x10000
    run = run_cli([*args, "big.lua"])
    assert run.status == 1
    assert re.fullmatch(  # the partition's 0x10000 bytes are the limit
        rb"luacross: lfs.img: \d+ bytes, over the 65536-byte limit by \d+; "
        rb"biggest modules: big \d+\n",
        run.stderr,
    ), run.stderr
    missing = run_cli(["--chip", "esp32", "--partition-table", "none.csv", "-f", "small.lua"])
    assert missing.status == 1
    assert missing.stderr.decode().startswith("luacross: cannot open partition table none.csv")


@pytest.mark.parametrize(("chip", "argument"), [("esp8266", "nil"), ("esp32", "s.lua")])
def test_execute_argument(chip, argument, tmp_path, monkeypatch):
    """The ESP32 luac.c calls the `-e` script with its file name (`lua_pushstring(L,
    execute)`, `lua_pcall(L, 1, 1, 0)`); the ESP8266 one with no arguments."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.lua").write_text("local name = ...\nerror('got ' .. tostring(name), 0)\n")
    run = run_cli(["--chip", chip, "-e", "s.lua"])
    assert (run.status, run.stderr.decode()) == (1, f"luacross: got {argument}\n")


@pytest.mark.parametrize(
    ("options", "message"),
    [  # luac.c's usage(): 5.1 LUA_QL("-e"); app/lua53 "\"-e\""; dev-esp32 lua-5.3 "\"-m\""
        ([], "'-e' maximum size must be a multiple of 4,096"),
        (["--chip", "esp32"], "'-e' maximum size must be a multiple of 4,096"),
        (["--lua", "5.3"], '"-e" maximum size must be a multiple of 4,096'),
        (["--chip", "esp32", "--lua", "5.3"], '"-m" maximum size must be a multiple of 4,096'),
    ],
)
def test_max_size_usage_message(options, message):
    run = run_cli(["-m", "0x1001", *options, "a.lua"])
    assert run.status == 1
    assert run.stderr.decode().splitlines()[0] == f"luacross: {message}"


DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("numbers", ["int64", "double"])
def test_mixed_builds_fold_as_the_reference(numbers, tmp_path, monkeypatch):
    """Numerals and folding at the edges of the int64/float and int32/double
    builds, against recordings of the ESP32 tools (tests/esp32/data/README.md)."""
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(DATA / "numbers.lua", tmp_path / "numbers.lua")
    flags = ["--chip", "esp32", "--lua", "5.3", "--numbers", numbers]
    run = run_cli([*flags, "-l", "-l", "-o", "out.lc", "numbers.lua"])
    assert run.status == 0
    listing = normalise_listing(run.stdout.decode("latin-1"))
    assert listing == (DATA / f"numbers-{numbers}.lst").read_text(encoding="latin-1")
    assert (tmp_path / "out.lc").read_bytes() == (DATA / f"numbers-{numbers}.lc").read_bytes()
