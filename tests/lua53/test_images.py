"""Lua 5.3 LFS images (`--lua 5.3 -f`, `-F IMAGE -a ADDR`, `-a ADDR` from sources):
the recorded runs of luac.cross 5.3 (tests/golden53) and reference recordings
in tests/lua53/data/images (see the README there)."""

import shutil
from pathlib import Path

import pytest

from golden import run_cli
from lfs_format.lua53 import image as image53
from lfs_format.lua53.loader import ImageLoadError, load_image
from lfs_format.target import LUA53, LUA53_64

from .golden53 import (
    CORPUS,
    VARIANT_FLAGS,
    blob,
    case,
    cases,
    epoch,
    normalise_stderr,
    normalise_stdout,
    sha256,
)

DATA = Path(__file__).resolve().parent / "data" / "images"
IMAGE_CATEGORIES = ("image", "image-list", "image-strip", "absimage", "stdin")
FLAGS = {32: ["--lua", "5.3"], 64: ["--lua", "5.3", "--numbers", "64"]}
TARGETS = {32: LUA53, 64: LUA53_64}
QUIRKS = ["quirks.lua", "a_module_name_that_is_quite_long_indeed_over_40.lua", "small.lua"]


def _stage(names, work: Path) -> None:
    for name in names:
        source = CORPUS / name
        if name and source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, work / name)


def _image_cases():
    for c in cases():
        if c["id"].split("/")[1] in IMAGE_CATEGORIES:
            yield pytest.param(c, id=c["id"])


@pytest.mark.parametrize("case", list(_image_cases()))
def test_golden_case(case, tmp_path, monkeypatch):
    work = tmp_path / "w"
    work.mkdir()
    _stage([*case["args"], case.get("stdin") or ""], work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch()))
    stdin = (work / case["stdin"]).read_bytes() if case.get("stdin") else b""
    before = {path for path in work.rglob("*") if path.is_file()}
    seed = ["--seed", str(case["seed"])] if "seed" in case else []

    run = run_cli(VARIANT_FLAGS[case["variant"]] + seed + case["args"], stdin)

    expect = case["expect"]
    assert run.status == expect["exit"], run.stderr.decode("latin-1")
    out = normalise_stdout(run.stdout.decode("latin-1"))
    if expect["stdout"] is None:
        assert sha256(out.encode("latin-1")) == expect["stdout_sha256"]
    else:
        assert out == expect["stdout"]
    assert normalise_stderr(run.stderr.decode("latin-1")) == expect["stderr"]
    written = {
        str(path.relative_to(work)): sha256(path.read_bytes())
        for path in work.rglob("*")
        if path.is_file() and path not in before
    }
    assert written == {name: meta["sha256"] for name, meta in expect["files"].items()}


def _seed_of(data: bytes, bits: int) -> int:
    """The seed a reference image holds (DumpInteger right after the header)."""
    pos = 21 if bits == 32 else 25
    first = data[pos]
    value = first & 0x0F
    while first & 0x80:
        pos += 1
        first = data[pos]
        value = (value << 7) | (first & 0x7F)
    if (data[21 if bits == 32 else 25] & 0x70) == 0x40:  # LUAU_TNUMNINT
        value = -value - 1
    return value & 0xFFFFFFFF


def _stage_quirks(work: Path) -> None:
    for name in [*QUIRKS, "ref32.img", "ref64.img"]:
        shutil.copyfile(DATA / name, work / name)


def _masked(data: bytes, undefined) -> bytes:
    out = bytearray(data)
    for offset, length in undefined:
        out[offset : offset + length] = bytes(length)
    return bytes(out)


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("strip", [False, True])
def test_reference_images(bits, strip, tmp_path, monkeypatch):
    """Fixed strings as constants ("thread", "proto", "__index"), nil and
    boolean constants, long strings and a module name over 40 bytes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    _stage_quirks(tmp_path)
    name = f"ref{bits}_strip.img" if strip else f"ref{bits}.img"
    expected = (DATA / name).read_bytes()
    inputs = ["quirks.lua", "small.lua"] if strip else QUIRKS
    seed = str(_seed_of(expected, bits))
    flags = [*FLAGS[bits], "--seed", seed, "-f", *(["-s"] if strip else [])]
    run = run_cli([*flags, "-o", "out.img", *inputs])
    assert (run.status, run.stdout, run.stderr) == (0, b"", b"")
    assert (tmp_path / "out.img").read_bytes() == expected


@pytest.mark.parametrize("bits", [32, 64])
def test_reference_absolute_images(bits, tmp_path, monkeypatch):
    """`-F IMAGE -a ADDR`: the erase dots and the loaded region, equal to the
    reference's except for the bytes its loader leaves uninitialised."""
    monkeypatch.chdir(tmp_path)
    _stage_quirks(tmp_path)
    expected = (DATA / f"ref{bits}_abs.img").read_bytes()
    run = run_cli([*FLAGS[bits], "-F", f"ref{bits}.img", "-a", "0x40234000", "-o", "abs.img"])
    assert run.status == 0 and run.stderr == b""
    assert run.stdout == (DATA / f"ref{bits}_abs.stdout").read_bytes()
    ours = (tmp_path / "abs.img").read_bytes()
    loaded = load_image((DATA / f"ref{bits}.img").read_bytes(), TARGETS[bits], address=0x40234000)
    assert ours == loaded.flash and len(ours) == len(expected)
    assert _masked(ours, loaded.undefined) == _masked(expected, loaded.undefined)
    # the undefined bytes are few: pads of upvalue descriptors and Protos, nil values
    assert sum(length for _, length in loaded.undefined) < len(ours) // 20
    # one step from the sources, with the same seed: the same region
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    seed = str(_seed_of((DATA / f"ref{bits}.img").read_bytes(), bits))
    args = [*FLAGS[bits], "--seed", seed, "-a", "0x40234000", "-o", "one.img", *QUIRKS]
    run = run_cli(args)
    assert (run.status, run.stdout, run.stderr) == (0, b"", b"")
    assert (tmp_path / "one.img").read_bytes() == ours


def test_loader_reads_the_modules_back():
    """The loader gives the modules as Protos, with names and timestamp."""
    data = (DATA / "ref32.img").read_bytes()
    loaded = load_image(data, LUA53, address=0x40210000)
    assert loaded.names == [b"quirks", b"a_module_name_that_is_quite_long_indeed_over_40", b"small"]
    assert loaded.timestamp == 1704067200
    assert loaded.seed == _seed_of(data, 32)
    assert [p.source for p in loaded.protos] == [b"@" + name.encode() for name in QUIRKS]
    # the firmware's fixed-string quirk: "userdata" is added twice, so the
    # dumper's "thread" and "proto" load as the strings after them
    quirks = loaded.protos[0]
    assert quirks.constants[:3] == [b"userdata", b"thread", b"userdata"]  # thread, proto, userdata


def test_seed_without_option_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    _stage_quirks(tmp_path)
    assert run_cli(["--lua", "5.3", "-f", "-o", "a.img", *QUIRKS]).status == 0
    assert run_cli(["--lua", "5.3", "-f", "-o", "b.img", *QUIRKS]).status == 0
    assert run_cli(["--lua", "5.3", "-f", "-o", "c.img", "small.lua"]).status == 0
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.img", "b.img", "c.img"))
    assert a == b
    assert _seed_of(a, 32) != _seed_of(c, 32)
    # with that seed given explicitly: the same bytes
    seed = str(_seed_of(a, 32))
    assert run_cli(["--lua", "5.3", "--seed", seed, "-f", "-o", "d.img", *QUIRKS]).status == 0
    assert (tmp_path / "d.img").read_bytes() == a


def test_size_gate(tmp_path, monkeypatch):
    """`-m SIZE`: the C 5.3 tool ignores it; luacross refuses an image whose
    flash size exceeds it, with both numbers, and leaves an existing output."""
    monkeypatch.chdir(tmp_path)
    _stage_quirks(tmp_path)
    (tmp_path / "lfs.img").write_bytes(b"old")
    run = run_cli(["--lua", "5.3", "-m", "4096", "-o", "lfs.img", *QUIRKS])
    flash = len(load_image((DATA / "ref32.img").read_bytes(), LUA53, address=0x40210000).flash)
    assert run.status == 1 and run.stdout == b""
    assert run.stderr.startswith(
        f"luacross: lfs.img: {flash} bytes, over the 4096-byte limit by {flash - 4096}; ".encode()
    )
    assert run.stderr.count(b"\n") == 1
    assert (tmp_path / "lfs.img").read_bytes() == b"old"
    assert run_cli(["--lua", "5.3", "-m", "8192", "-o", "lfs.img", *QUIRKS]).status == 0
    assert (tmp_path / "lfs.img").read_bytes()[:6] == b"\x1bLuaS\x0b"
    # absolute images too
    run = run_cli(["--lua", "5.3", "-m", "4096", "-F", "ref32.img", "-a", "0x40220000", "-o", "x"])
    assert run.status == 1 and not (tmp_path / "x").exists()
    assert run.stderr == (
        b"luacross: x: 4376 bytes, over the 4096-byte limit by 280; biggest modules: "
        b"quirks 1100, a_module_name_that_is_quite_long_indeed_over_40 664, small 328\n"
    )
    # not a multiple of 4096: a usage error
    assert run_cli(["--lua", "5.3", "-m", "5000", "-o", "y", *QUIRKS]).status == 1


@pytest.mark.parametrize(
    "args",
    [
        ["-a", "0x40200000", "-F", "ref32.img", "-o", "x"],  # offset 0
        ["-a", "0x40300001", "-F", "ref32.img", "-o", "x"],  # beyond IROM0_SEGMAX
        ["-a", "0x40220000", "-F", "ref32.img", "-o", "-"],  # -o stdout
        ["-a", "0x40220000", "-o", "x"],  # neither -F nor sources
        ["-a", "0x40220000", "-F", "ref32.img", "-o", "x", "small.lua"],  # both
    ],
)
def test_absolute_usage(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _stage_quirks(tmp_path)
    run = run_cli(["--lua", "5.3", *args])
    assert run.status == 1 and b"usage:" in run.stderr
    assert not (tmp_path / "x").exists()


def test_address_window_edges(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _stage_quirks(tmp_path)
    for address in ("0x40200001", "0x40300000"):
        run = run_cli(["--lua", "5.3", "-F", "ref32.img", "-a", address, "-o", "x"])
        assert run.status == 0, run.stderr


def test_truncations_give_loader_messages():
    """Every prefix of an image fails with one of the loader's messages."""
    data = (DATA / "ref32.img").read_bytes()
    for cut in range(len(data)):
        with pytest.raises(ImageLoadError) as info:
            load_image(data[:cut], LUA53, address=0x40220000)
        assert str(info.value) == "(null): truncated precompiled chunk"


def test_fixed_strings():
    """71 fixed strings (ldump.c addFixedStrings), never written to the image."""
    assert len(image53.FIXED_STRINGS) == 71
    data = blob(case("lua53/image/one-module")["expect"]["files"]["lfs.img"]["sha256"])
    # the prologue's counts: 115 short (71 fixed + 44), 1 long, 45 written
    assert data[26:34] == b"\x19ss\x29\x73\x01\x2d\x5e"


def test_damaged_images_fail_with_one_message():
    """Bit flips and byte changes: the loader loads the image or refuses it with
    one message; never anything else."""
    import random

    rng = random.Random(53)
    images = [((DATA / f"ref{bits}.img").read_bytes(), TARGETS[bits]) for bits in (32, 64)]
    for _ in range(400):
        data, target = rng.choice(images)
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        try:
            load_image(bytes(damaged), target, address=0x40220000)
        except ImageLoadError as exc:
            assert "\n" not in str(exc) and str(exc)


def test_deep_nesting_is_refused():
    header = (DATA / "ref32.img").read_bytes()[:21]
    # seed 0, no strings beyond the fixed ones, then functions nested without end
    prologue = b"\x30" + b"\x19ss" + bytes([17, 71, 0, 0]) + b"\x19pr" + b"\x01"
    nested = b"\x50\x00\x00\x00\x00\x02\x01" * 100000
    with pytest.raises(ImageLoadError, match="not enough memory"):
        load_image(header + prologue + nested, LUA53, address=0x40220000)


def test_absolute_image_must_fit_the_region_unless_m_says_more(tmp_path, monkeypatch):
    """Without -m an absolute image must fit luac.cross's 256 KiB LFS region;
    `-f` has no default limit (luac.cross 5.3 has none)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    # 4000 distinct long strings: about 300 KiB of flash
    body = "".join(
        f'"{i:04d} a string long enough to be a long one in flash",\n' for i in range(4000)
    )
    (tmp_path / "big.lua").write_text("return {\n" + body + "}\n")
    run = run_cli(["--lua", "5.3", "-f", "-o", "big.img", "big.lua"])
    assert run.status == 0 and (tmp_path / "big.img").is_file()
    run = run_cli(["--lua", "5.3", "-a", "0x40220000", "-o", "abs.img", "big.lua"])
    assert run.status == 1 and not (tmp_path / "abs.img").exists()
    assert b"bytes, over the 262144-byte limit by " in run.stderr
    run = run_cli(["--lua", "5.3", "-m", "512K", "-a", "0x40220000", "-o", "abs.img", "big.lua"])
    assert run.status == 0 and (tmp_path / "abs.img").stat().st_size > 262144
