"""`luacross check` and `luacross inspect` on every recorded ESP32 image (the
dev-esp32 firmware's luac.cross: `-f` images and `-a`/`-F -a` regions, all six
builds): check accepts each one and both name the chip and number build it
needs, with the flags that select that build (issue 12)."""

import pytest

from golden import run_cli

from .golden_esp32 import BLOBS, VARIANT_FLAGS, cases

# what each recorded variant's firmware is, in words (its Kconfig number build)
NUMBERS = {
    "esp32-51": "Lua 5.1, float build",
    "esp32-51-int": "Lua 5.1, integer build",
    "esp32-53": "Lua 5.3, 32-bit integers and single floats",
    "esp32-53-int64": "Lua 5.3, 64-bit integers and single floats",
    "esp32-53-double": "Lua 5.3, 32-bit integers and doubles",
    "esp32-53-int64-double": "Lua 5.3, 64-bit integers and doubles",
}
# only the ESP32's firmware has these builds: no ESP8266 build may be named
ESP32_ONLY = {"esp32-53-int64", "esp32-53-double"}


def _images() -> list[tuple[str, str, str]]:
    found, seen = [], set()
    for case in cases():
        if case["expect"]["exit"] != 0:
            continue
        for name, meta in case["expect"]["files"].items():
            if name.endswith(".img") and meta["sha256"] not in seen:
                seen.add(meta["sha256"])
                found.append((case["id"], case["variant"], meta["sha256"]))
    return found


IMAGES = _images()


def test_every_variant_has_images() -> None:
    assert {variant for _, variant, _ in IMAGES} == set(NUMBERS)
    assert len(IMAGES) >= 40


def _named(lines: list[str], variant: str) -> None:
    wanted = f"ESP32 firmware, {NUMBERS[variant]} ({' '.join(VARIANT_FLAGS[variant])})"
    assert wanted in lines, (wanted, lines)
    if variant in ESP32_ONLY:
        assert not [line for line in lines if "ESP8266" in line], lines


@pytest.mark.parametrize(("case_id", "variant", "sha"), IMAGES, ids=[i for i, _, _ in IMAGES])
def test_check_names_the_build(case_id: str, variant: str, sha: str) -> None:
    run = run_cli(["check", str(BLOBS / sha)])
    assert run.status == 0, run.stderr
    assert run.stderr == b""
    lines = run.stdout.decode().splitlines()
    assert lines[0].startswith(("LFS image OK", "LFS region OK"))
    names = [line.removeprefix("firmware: ") for line in lines if line.startswith("firmware: ")]
    _named(names, variant)


@pytest.mark.parametrize(("case_id", "variant", "sha"), IMAGES, ids=[i for i, _, _ in IMAGES])
def test_inspect_names_the_build(case_id: str, variant: str, sha: str) -> None:
    run = run_cli(["inspect", str(BLOBS / sha)])
    assert run.status == 0, run.stderr
    lines = run.stdout.decode().splitlines()
    assert "LFS image" in lines[0]
    names = [line.removeprefix("  firmware: ") for line in lines if line.startswith("  firmware: ")]
    _named(names, variant)


@pytest.mark.parametrize(
    ("variant", "maxinteger"),
    [("esp32-53-int64", b"9223372036854775807"), ("esp32-53-double", b"2147483647")],
)
def test_run_mixed_number_builds(variant: str, maxinteger: bytes) -> None:
    """The ESP32-only builds' regions (-F -a) load and run at their address;
    math.maxinteger is that of the build's lua_Integer."""
    case = next(c for c in cases(f"{variant}/absimage/apps3"))
    sha = next(iter(case["expect"]["files"].values()))["sha256"]
    run = run_cli(
        ["run", str(BLOBS / sha), "--lfs-base", "0x3F400000", "--code", "print(math.maxinteger)"]
    )
    assert run.status == 0, run.stderr
    assert run.stdout.strip() == maxinteger


@pytest.mark.parametrize(("case_id", "variant", "sha"), IMAGES, ids=[i for i, _, _ in IMAGES])
def test_check_against_the_named_build(case_id: str, variant: str, sha: str) -> None:
    """`check --chip esp32 ...` with the flags the image was built with accepts it."""
    run = run_cli(["check", *VARIANT_FLAGS[variant], str(BLOBS / sha)])
    assert run.status == 0, run.stderr


def test_check_refuses_esp32_region_on_esp8266_firmware() -> None:
    """The ESP8266's 64-bit firmware wants the signature without the ESP32's
    number bits: an ESP32 64-bit region is another build's."""
    case = next(c for c in cases("esp32-53-int64-double/absimage/apps3"))
    sha = next(iter(case["expect"]["files"].values()))["sha256"]
    run = run_cli(["check", "--lua", "5.3", "--numbers", "64", str(BLOBS / sha)])
    assert run.status == 1
    assert run.stderr.count(b"\n") == 1 and b"ESP32" in run.stderr
