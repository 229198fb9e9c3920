"""SimulatedFlash: NOR semantics (erase to 0xFF, writes only clear bits) and power loss."""

import pytest

from lfs_format.errors import LuacrossError
from lfs_format.flash import SECTOR_SIZE, FlashError, PowerLoss, SimulatedFlash


def test_starts_erased_and_writes_only_clear_bits():
    flash = SimulatedFlash(0x40220000, 2 * SECTOR_SIZE)
    assert flash.read(0, 8) == b"\xff" * 8
    flash.write(4, bytes.fromhex("0ff0aa55"))
    flash.write(4, bytes.fromhex("f00fffff"))
    assert flash.read(4, 4) == bytes.fromhex("0000aa55")  # old & new, like NOR flash
    flash.erase_sector(0)
    assert flash.read(0, SECTOR_SIZE) == b"\xff" * SECTOR_SIZE


def test_clearing_the_in_progress_bit_needs_no_erase():
    flash = SimulatedFlash(0x40220000, SECTOR_SIZE)
    flash.write(0, (0xFAFAA154 | 0x08).to_bytes(4, "little"))
    flash.write(0, (0xFAFAA154).to_bytes(4, "little"))
    assert flash.read_word(0) == 0xFAFAA154


def test_erase_touches_one_sector_only():
    flash = SimulatedFlash(0x40220000, 2 * SECTOR_SIZE)
    flash.write(0, b"\0" * 2 * SECTOR_SIZE)
    flash.erase_sector(1)
    assert flash.read(0, SECTOR_SIZE) == bytes(SECTOR_SIZE)
    assert flash.read(SECTOR_SIZE, SECTOR_SIZE) == b"\xff" * SECTOR_SIZE


@pytest.mark.parametrize(
    "action",
    [
        lambda f: f.write(2, b"\0\0\0\0"),
        lambda f: f.write(0, b"\0\0"),
        lambda f: f.write(SECTOR_SIZE, b"\0\0\0\0"),
        lambda f: f.read(SECTOR_SIZE - 2, 4),
        lambda f: f.erase_sector(1),
    ],
)
def test_misuse_raises_flash_error(action):
    flash = SimulatedFlash(0x40220000, SECTOR_SIZE)
    with pytest.raises(FlashError):
        action(flash)
    assert issubclass(FlashError, LuacrossError)


@pytest.mark.parametrize("size", [0, 100, SECTOR_SIZE + 4])
def test_size_must_be_whole_sectors(size):
    with pytest.raises(FlashError):
        SimulatedFlash(0x40220000, size)


def test_power_loss_after_n_writes_keeps_earlier_writes():
    flash = SimulatedFlash(0x40220000, SECTOR_SIZE)
    flash.inject_power_loss(writes=2)
    flash.write(0, b"\0" * 4)
    flash.write(4, b"\0" * 4)
    with pytest.raises(PowerLoss):
        flash.write(8, b"\0" * 8)
    assert flash.read(0, 16) == b"\0" * 8 + b"\xff" * 8
    flash.write(8, b"\0" * 4)  # the plan fires once
    assert flash.writes == 3


def test_torn_write_stores_a_prefix():
    flash = SimulatedFlash(0x40220000, SECTOR_SIZE)
    flash.inject_power_loss(writes=0, torn_bytes=3)
    with pytest.raises(PowerLoss):
        flash.write(0, b"\0" * 8)
    assert flash.read(0, 8) == b"\0\0\0" + b"\xff" * 5


def test_power_loss_during_erase():
    flash = SimulatedFlash(0x40220000, 2 * SECTOR_SIZE)
    flash.write(0, b"\0" * 2 * SECTOR_SIZE)
    flash.inject_power_loss(erases=1)
    flash.erase_sector(0)
    with pytest.raises(PowerLoss):
        flash.erase_sector(1)
    assert flash.read(SECTOR_SIZE, 4) == b"\0" * 4


def test_contains_uses_mapped_addresses():
    flash = SimulatedFlash(0x40220000, SECTOR_SIZE)
    assert flash.contains(0x40220000, 4) and flash.contains(0x40220FFC, 4)
    assert not flash.contains(0x40220FFE, 4) and not flash.contains(0x4021FFFC)


def test_large_partition_holds_only_what_is_written():
    """A 4 GiB (or 1 TiB) partition is not allocated: only the bytes up to the highest one
    erased or written are held; the rest reads as erased."""
    for size in (0x100000000, 1 << 40):
        flash = SimulatedFlash(0x40200000, size)
        assert flash.sectors == size // SECTOR_SIZE
        assert flash.read(size - 8, 8) == b"\xff" * 8
        flash.erase_sector(flash.sectors - 1)  # erasing what reads erased holds nothing
        assert len(flash.data) == 0
        flash.write(8, b"\x01\x02\x03\x04")
        assert len(flash.data) == 12
        assert flash.read(4, 12) == b"\xff" * 4 + b"\x01\x02\x03\x04" + b"\xff" * 4
        assert flash.read_word(8) == 0x04030201
        flash.erase_sector(0)
        assert flash.read(0, 16) == b"\xff" * 16


def test_image_in_a_large_partition():
    """`check IMG --lfs-size 0x100000000` used to allocate the whole partition (8 GB with
    the copy). The CLI now refuses sizes no ESP8266 has; the format layer takes any size
    and holds only the image's own bytes."""
    from golden import cases, output_blob
    from lfs_format.lua51.loader import LoaderPass, boot, read_partition

    (case,) = cases("float/image/apps")
    loader = LoaderPass(partition_size=0x100000000)
    validated = loader.first(output_blob(case))
    flash = SimulatedFlash(0x40200000, 0x100000000)
    loader.second(validated, flash)
    assert boot(flash).booted and read_partition(flash).protos
    assert len(flash.data) <= validated.flash_size + SECTOR_SIZE
