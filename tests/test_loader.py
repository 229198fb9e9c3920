"""The device loader model against the recorded luac.cross images (formats doc §9)."""

import gzip
import struct
import zlib

import pytest
from test_inflate import FixedBlockWriter

from golden import cases, output_blob
from lfs_format.compress import best_compress
from lfs_format.errors import ImageError, LcFormatError, LoaderError
from lfs_format.flash import PowerLoss, SimulatedFlash
from lfs_format.lua51.image_structs import PROTO_WORDS, ImageStructs
from lfs_format.lua51.lc import dump_chunk, function_count, read_chunk
from lfs_format.lua51.loader import (
    BAD_BUILD,
    BAD_CHECKSUM,
    BAD_DICTIONARY,
    BAD_SIGNATURE,
    BAD_VERSION,
    LENGTH_MISMATCH,
    NO_PARTITION,
    READ_ERROR,
    TOO_BIG,
    UNDEFINED,
    UPDATED,
    LoaderPass,
    absolute_base,
    boot,
    place_absolute,
    read_partition,
)
from lfs_format.target import FLOAT, HOST

BASE = 0x40280000
IMAGES = [
    c
    for c in cases()
    if c["id"].split("/")[1] in ("image", "absimage") and c["expect"]["exit"] == 0
]
FIRMWARE_MESSAGES = {
    NO_PARTITION,
    READ_ERROR,
    BAD_VERSION,
    BAD_BUILD,
    BAD_SIGNATURE,
    TOO_BIG,
    LENGTH_MISMATCH,
    BAD_DICTIONARY,
    BAD_CHECKSUM,
    UNDEFINED,
}


def case(case_id: str) -> dict:
    (found,) = [c for c in cases() if c["id"] == case_id]
    return found


def golden_lc(variant: str, source: bytes):
    """read_chunk of luac.cross's own .lc for one source file, if it compiled."""
    found = [c for c in cases(f"{variant}/lc/") if c["args"][-1] == source.decode()[1:]]
    if not found or found[0]["expect"]["exit"]:
        return None
    return read_chunk(output_blob(found[0]))[0]


def load(image: bytes, integral: bool = False, size: int | None = None) -> SimulatedFlash:
    loader = LoaderPass(integral=integral, partition_size=size)
    validated = loader.first(image)
    flash = SimulatedFlash(BASE, size or (validated.flash_size + 4095) // 4096 * 4096)
    assert loader.second(validated, flash) == UPDATED
    return flash


def sections(image: bytes) -> tuple[bytes, bytes]:
    """Inflated image and bitmap of a relocatable image."""
    raw = gzip.decompress(image)
    flash_size = struct.unpack_from("<I", raw, 4)[0]
    return raw[:flash_size], raw[flash_size:]


def first_pass_error(image: bytes, **options) -> str:
    with pytest.raises(LoaderError) as exc:
        LoaderPass(**options).first(image)
    return str(exc.value)


@pytest.mark.parametrize("c", IMAGES, ids=lambda c: c["id"])
def test_golden_image_loads_boots_and_reads_back(c):
    integral = c["variant"] == "int"
    data = output_blob(c)
    if c["id"].split("/")[1] == "image":
        flash = load(data, integral)
    else:
        base = absolute_base(data)
        assert f"{base:#x}" == c["args"][1]
        flash = SimulatedFlash(base, (len(data) + 4095) // 4096 * 4096)
        place_absolute(data, flash)
    result = boot(flash, integral)
    assert result.booted and result.flash_size == int(c["expect"]["stdout"].split()[-1])
    main = read_partition(flash, integral)
    sources = [a for a in c["args"] if a.endswith(".lua")]
    assert [p.source for p in main.protos] == [b"@" + s.encode() for s in sources]
    for proto in main.protos:
        expected = golden_lc(c["variant"], proto.source)
        if expected is not None:
            assert proto == expected, proto.source


def test_absolute_image_equals_relocated_image():
    rel = load(output_blob(case("float/image/apps")))
    abs_image = output_blob(case("float/absimage/apps"))
    flash = SimulatedFlash(0x40220000, rel.size)
    flash_rel = load(output_blob(case("float/image/apps")))
    assert rel.read(0, 4) == flash_rel.read(0, 4)
    relocated = SimulatedFlash(0x40220000, rel.size)
    LoaderPass().reload(output_blob(case("float/image/apps")), relocated)
    place_absolute(abs_image, flash)
    n = len(abs_image)
    # identical apart from the ABSOLUTE signature bit (formats doc §7.7)
    assert relocated.read(4, n - 4) == flash.read(4, n - 4)
    assert relocated.read_word(0) | 1 == flash.read_word(0)


@pytest.mark.parametrize("integral,variant", [(True, "float"), (False, "int")])
def test_wrong_build_type(integral, variant):
    image = output_blob(case(f"{variant}/image/apps"))
    assert first_pass_error(image, integral=integral) == BAD_BUILD


APPS = "float/image/apps"


def rebuilt(patch=None, bitmap_patch=None) -> bytes:
    image, bitmap = sections(output_blob(case(APPS)))
    image = bytearray(image)
    if patch:
        patch(image)
    bitmap = bitmap_patch(bitmap) if bitmap_patch else bitmap
    return best_compress(bytes(image) + bitmap)


def set_word(index: int, value: int):
    return lambda image: struct.pack_into("<I", image, 4 * index, value)


def test_recompressed_image_still_loads():
    assert boot(load(rebuilt())).booted  # stored + dynamic blocks


@pytest.mark.parametrize(
    "patch,message",
    [
        (set_word(0, 0xFAFAA254), BAD_VERSION),
        (set_word(0, 0xFAFAA150), BAD_BUILD),
        (set_word(0, 0xFAFAA15C), BAD_SIGNATURE),  # IN_PROGRESS bit
        (set_word(0, 0xFAFBA154), BAD_SIGNATURE),
        (set_word(0, 0xFAFAA156), BAD_SIGNATURE),  # B1 (integer) with B2
        (set_word(1, 71056 + 4), LENGTH_MISMATCH),
        (set_word(1, 71056 - 4), LENGTH_MISMATCH),
        (set_word(1, 71058), LENGTH_MISMATCH),
        (set_word(1, 0x7FFFFFF0), TOO_BIG),
    ],
)
def test_header_corruptions(patch, message):
    assert first_pass_error(rebuilt(patch), partition_size=0x40000) == message


def test_image_bigger_than_partition():
    image = output_blob(case(APPS))
    assert first_pass_error(image, partition_size=0x10000) == TOO_BIG
    assert LoaderPass(partition_size=0x12000).first(image).flash_size == 71056


def test_no_partition():
    assert first_pass_error(output_blob(case(APPS)), partition_size=0) == NO_PARTITION


def test_bitmap_length_mismatch():
    assert first_pass_error(rebuilt(bitmap_patch=lambda b: b + bytes(4))) == LENGTH_MISMATCH
    assert first_pass_error(rebuilt(bitmap_patch=lambda b: b[:-4])) == LENGTH_MISMATCH


def test_checksum_and_isize_in_trailer():
    image = bytearray(output_blob(case(APPS)))
    image[-8] ^= 1
    assert first_pass_error(bytes(image)) == BAD_CHECKSUM
    image = bytearray(output_blob(case(APPS)))
    image[-4] ^= 4
    assert first_pass_error(bytes(image)) == LENGTH_MISMATCH


def test_small_files_and_absolute_images_are_read_errors():
    image = output_blob(case("float/image/one-module"))
    assert first_pass_error(image[:200]) == READ_ERROR
    assert first_pass_error(output_blob(case("float/absimage/apps"))) == READ_ERROR


def stored(data: bytes, final: bool = False) -> bytes:
    return bytes((int(final),)) + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


def gzip_member(body: bytes, data: bytes) -> bytes:
    header = b"\x1f\x8b\x08\0\0\0\0\0\x04\x03"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data))


def test_back_reference_to_byte_zero_and_beyond_16k():
    image, bitmap = sections(output_blob(case(APPS)))
    data = image + bitmap
    # 300 stored bytes, then copy 3 bytes from distance 300 (257 + 43): output byte 0
    to_zero = FixedBlockWriter().header().match(257, (0, 0), 16, (43, 7)).end()
    assert first_pass_error(gzip_member(stored(data[:300]) + to_zero, data)) == BAD_DICTIONARY
    near = FixedBlockWriter().header().match(257, (0, 0), 16, (42, 7)).end()
    assert first_pass_error(gzip_member(stored(data[:300]) + near, data)) == BAD_CHECKSUM
    # 17000 stored bytes, then distance 16385 (code 28, 13 extra bits of 0)
    far = FixedBlockWriter().header().match(257, (0, 0), 28, (0, 13)).end()
    assert first_pass_error(gzip_member(stored(data[:17000]) + far, data)) == BAD_DICTIONARY


def test_every_corruption_is_a_firmware_message():
    image = output_blob(case("float/image/one-module"))
    for offset in range(0, len(image), 7):
        damaged = bytearray(image)
        damaged[offset] ^= 0x5A
        try:
            LoaderPass().first(bytes(damaged))
        except LoaderError as exc:
            assert str(exc) in FIRMWARE_MESSAGES, offset
    for length in range(201, len(image), 97):
        assert first_pass_error(image[:length]) in FIRMWARE_MESSAGES


def test_boot_messages():
    flash = SimulatedFlash(BASE, 0x20000)
    assert boot(flash).message == "No LFS image loaded\n"
    flash.write(0, struct.pack("<I", 0xFAFAA15C))
    assert boot(flash).message == "Flash sig not correct: 0xfafaa15c vs 0xfafaa154\n"
    abs_image = output_blob(case("float/absimage/apps"))
    wrong = SimulatedFlash(0x40300000, 0x20000)  # imaged at the wrong address
    place_absolute(abs_image, wrong)
    main = struct.unpack_from("<I", abs_image, 8)[0]
    assert boot(wrong).message == (
        f"Flash size check failed: 0x40220020 vs 0xFFFFFFFF; "
        f"0x{(main - 0x40300000) & 0xFFFFFFFF:08x} >= 0x{71056:08x}\n"
    )
    assert boot(load(output_blob(case(APPS))), integral=True).message == (
        "Flash sig not correct: 0xfafaa154 vs 0xfafaa152\n"
    )


def test_pass1_failure_leaves_old_image():
    flash = load(output_blob(case("float/image/one-module")), size=0x20000)
    before = bytes(flash.data)
    with pytest.raises(LoaderError):
        LoaderPass(partition_size=flash.size).reload(output_blob(case("int/image/apps")), flash)
    assert bytes(flash.data) == before


def test_power_loss_never_boots_a_partial_image():
    old = output_blob(case("float/image/one-module"))
    loader = LoaderPass(partition_size=0x20000)
    validated = loader.first(output_blob(case(APPS)))
    blocks = -(-validated.flash_size // 2048)
    reference = SimulatedFlash(BASE, 0x20000)
    loader.second(validated, reference)
    assert reference.writes == blocks + 1  # every block, then the final signature
    for writes in range(blocks + 1):
        for torn in (0, 4, 2048):
            flash = load(old, size=0x20000)
            flash.inject_power_loss(writes=writes, torn_bytes=torn)
            with pytest.raises(PowerLoss):
                loader.second(validated, flash)
            # only a final signature write that got all its 4 bytes out completes the image
            complete = writes == blocks and torn >= 4
            assert boot(flash).booted == complete, (writes, torn)
    erases = -(-validated.flash_size // 4096)
    for n in range(erases):
        flash = load(old, size=0x20000)
        before = bytes(flash.data)
        flash.inject_power_loss(erases=n)
        with pytest.raises(PowerLoss):
            loader.second(validated, flash)
        if n == 0:  # nothing erased yet: the old image is intact and boots
            assert flash.data == before and boot(flash).booted
        else:
            assert boot(flash).message == "No LFS image loaded\n"
    flash = load(old, size=0x20000)
    loader.second(validated, flash)
    assert boot(flash).booted and flash.data == reference.data


# ---------------------------------------------------------------------------
# Protos shared between parents


def shared_children_image(depth: int = 40) -> bytes:
    """An image luac.cross cannot make but the firmware boots: a module whose functions
    each hold two closures, 40 deep, with every Proto's two child pointers then set to the
    same next Proto (the loader relocates both; the bitmap flags are unchanged)."""
    from luacross import api
    from luacross.lua51.parser import compile_source

    source = "function() end"
    for _ in range(depth):
        source = f"function() local a = {source} local b = function() end end"
    module = compile_source(f"return {source}\n".encode(), b"@m.lua", FLOAT)
    main = api.combine([module], lookup=True, target=FLOAT)
    image, bitmap = sections(api.build_image(main, FLOAT).data)
    image = bytearray(image)
    structs = ImageStructs(FLOAT)
    offset = 4 * structs.flash_header.parse(image[:32]).mainProto  # word offsets in the file
    shared = 0
    while True:
        rec = structs.proto.parse(image[offset : offset + 4 * PROTO_WORDS])
        children = struct.unpack_from(f"<{rec.sizep}I", image, 4 * rec.p)
        if rec.sizep == 2:
            struct.pack_into("<I", image, 4 * rec.p + 4, children[0])
            shared += 1
        if not children:
            break
        offset = 4 * children[0]
    assert shared == depth
    return best_compress(bytes(image) + bitmap)


def test_shared_children_read_once():
    """Reading visits each Proto once by address (2**40 visits before); the firmware
    boots the image, and `check` accepts it."""
    from luacross.runtime import check_image

    data = shared_children_image()
    assert len(data) < 1200
    flash = load(data)
    assert boot(flash).booted
    main = read_partition(flash)
    node, levels = main.protos[0].protos[0], 0  # the module's main, then the 40 levels
    while node.protos:
        assert len(node.protos) == 2 and node.protos[0] is node.protos[1]
        node, levels = node.protos[0], levels + 1
    assert levels == 40
    total, distinct = function_count(main)
    assert (total, distinct) == (2**41 + 1, 43)
    summary = check_image(data)
    assert summary.modules == ["m"]


def test_shared_children_too_many_to_dump():
    """A chunk holds each child once per parent: 2**41 functions are refused in one line
    (what `run` reports when it hands the image to stock Lua), not written for ever."""
    main = read_partition(load(shared_children_image()))
    with pytest.raises(LcFormatError, match="would dump as 2199023255553"):
        dump_chunk(main, HOST)
    # a little sharing is written out in full
    small = read_partition(load(shared_children_image(depth=3)))
    proto, _ = read_chunk(dump_chunk(small, HOST))
    assert function_count(proto) == (2**4 + 1, 2**4 + 1)


def test_counts_cannot_read_past_the_image():
    """A crafted sizecode of 0x01000000 in a 4 GiB partition: the read-back stops at the
    image's end (the model reads no gigabytes of erased flash)."""
    image, bitmap = sections(output_blob(case(APPS)))
    image = bytearray(image)
    structs = ImageStructs(FLOAT)
    main = 4 * structs.flash_header.parse(image[:32]).mainProto
    rec = structs.proto.parse(image[main : main + 4 * PROTO_WORDS])
    rec.sizecode = 0x01000000  # 64 MiB of code: inside the partition, past the image
    image[main : main + 4 * PROTO_WORDS] = structs.proto.build(rec)
    flash = load(best_compress(bytes(image) + bitmap), size=0x100000000)
    with pytest.raises(ImageError, match="code at 0x.* lies outside the LFS image"):
        read_partition(flash)
