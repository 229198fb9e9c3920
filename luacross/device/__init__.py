"""The device model, one module per firmware core.

`detect(image)` tells from an image's own bytes which firmware build it is
for (a `Build`); `firmware(lua, numbers, integral)` is the build the command
line names, for checking an image against a given device. `core(build)` is
the module that models that firmware: `luacross.device.lua51` (app/lua) or
`luacross.device.lua53` (app/lua53). Each provides

- `check_image(data, build, *, lfs_size) -> summary` (`summary.lines()`),
  raising `LoaderError` with the firmware loader's message;
- `open_device(build, *, lfs_base, lfs_size, memory_limit, timeout, output,
  globals, prelude, files, spiffs)`: a device with `load(data)`, `startup()`,
  `notes`, `modules`, `run_module(name)`, `require(name)` and `execute(code)`.

What is shared by both cores is written once: the child process, the
seccomp confinement, the time and memory limits and signals in
`luacross.device_cli` and `luacross.confine`; calls into the sandboxed VM
and their errors in `luacross.device.vm`; the Lua both firmwares share
(print, node.LFS, the file module) in `luacross.device.libs`; the virtual
SPIFFS in `luacross.device.spiffs`. The build is chosen once, here.
"""

import importlib
from dataclasses import dataclass

from lfs_format.errors import LoaderError
from lfs_format.flash import SECTOR_SIZE
from lfs_format.sniff import (
    FLASH51_INTEGER,
    GZIP_MAGIC,
    LUA51_FLASH_FORMAT,
    LUA53_SIZES_AT,
    LUA_SIGNATURE,
    flash_signature,
    lua51_image_integral,
)
from lfs_format.target import FLOAT, INT, LUA53, LUA53_64


@dataclass(frozen=True, slots=True)
class Build:
    """A firmware build: `lua` "5.1" or "5.3", `target` its number formats."""

    lua: str
    target: object
    label: str

    @property
    def core(self) -> str:
        return "luacross.device.lua51" if self.lua == "5.1" else "luacross.device.lua53"


LUA51_FLOAT = Build("5.1", FLOAT, "Lua 5.1, float build")
LUA51_INT = Build("5.1", INT, "Lua 5.1, integer build")
LUA53_32 = Build("5.3", LUA53, "Lua 5.3, default build (32-bit integers and floats)")
LUA53_64BIT = Build("5.3", LUA53_64, "Lua 5.3, 64-bit build (LUA_NUMBER_64BITS)")


def core(build: Build):
    return importlib.import_module(build.core)


def round_sectors(size: int) -> int:
    return max(SECTOR_SIZE, (size + SECTOR_SIZE - 1) // SECTOR_SIZE * SECTOR_SIZE)


def firmware(
    lua: str | None, numbers: str | None, integral: bool, chip: str | None = None
) -> Build | None:
    """The build `--lua`/`--numbers`/`--int`/`--chip` name (None: none named)."""
    if lua is None and numbers is None and not integral and chip is None:
        return None
    from lfs_format.target import Lua53Target
    from luacross import api

    lua = lua or ("5.3" if numbers else "5.1")
    target = api.select_target(lua, numbers, integral, chip or "esp8266")
    known = {FLOAT: LUA51_FLOAT, INT: LUA51_INT, LUA53: LUA53_32, LUA53_64: LUA53_64BIT}
    if target in known:
        return known[target]
    if isinstance(target, Lua53Target):  # an ESP32 build: its signature bits
        return _esp32_build(target.flash_sig_bits)
    return LUA51_INT if target.integral else LUA51_FLOAT  # the ESP32's 5.1 loads as the ESP8266's


def detect(data: bytes) -> Build:
    """The build an image is for, from its header; LoaderError if it is no LFS image."""
    if data[:2] == GZIP_MAGIC:  # a 5.1 image (-f): its flash header says the build
        return LUA51_INT if lua51_image_integral(data) else LUA51_FLOAT
    if data[:4] == LUA_SIGNATURE or (data[:1] == LUA_SIGNATURE[:1] and data[4:5] == b"\x53"):
        return _detect_lua(data)
    signature = flash_signature(data)
    if signature is not None:
        version, flags = signature
        if version == LUA51_FLASH_FORMAT:  # a 5.1 absolute image (-a)
            return LUA51_INT if flags & FLASH51_INTEGER else LUA51_FLOAT
        if not flags:  # a 5.3 LFS region (-F/-a)
            from lfs_format.lua53.region import read_region

            return LUA53_64BIT if read_region(data).wide else LUA53_32
        if not flags & ~3:  # an ESP32 5.3 region: its number build in bits 0-1
            return _esp32_build(flags)
    raise LoaderError(
        "not an LFS image: neither a Lua 5.1 image (gzip, or -a) nor a Lua 5.3 image (-f, or -a)"
    )


def _detect_lua(data: bytes) -> Build:
    """A chunk header. Damaged 5.3 image headers still pick a 5.3 build, so
    that its loader reports the damage in the firmware's words."""
    version = data[4] if len(data) > 4 else None
    fmt = data[5] if len(data) > 5 else None
    if version == 0x51:
        raise LoaderError("a Lua 5.1 .lc file, not an LFS image (build one with -f)")
    if version == 0x53 and fmt == 10:
        raise LoaderError(
            "(null): format mismatch in precompiled chunk "
            "(a Lua 5.3 .lc file, not an LFS image: build one with --lua 5.3 -f)"
        )
    if version != 0x53 and fmt != 11:
        raise LoaderError("a Lua chunk for no NodeMCU firmware, not an LFS image")
    # a header too short to hold them: the loader says why
    integer_size = data[LUA53_SIZES_AT] if len(data) > LUA53_SIZES_AT else 4
    number_size = data[LUA53_SIZES_AT + 1] if len(data) > LUA53_SIZES_AT + 1 else integer_size
    if {integer_size, number_size} == {4, 8} and _checks_hold(data, number_size):
        return _esp32_build((integer_size == 8) | (number_size == 8) << 1)
    return LUA53_64BIT if integer_size == 8 else LUA53_32


def _checks_hold(data: bytes, number_size: int) -> bool:
    """The image header's LUAC_NUM (370.5, after a 1-byte field) reads right at
    this size: an ESP32 build's image, not a damaged header of another build's."""
    import struct

    if len(data) < 17 + number_size:
        return False
    return struct.unpack_from("<d" if number_size == 8 else "<f", data, 17)[0] == 370.5


def _esp32_build(sig_bits: int) -> Build:
    """An ESP32 Lua 5.3 build by its flash signature bits (1: 64-bit integers, 2: doubles)."""
    from lfs_format.target import TARGETS, Lua53Target
    from luacross.device.lua53 import build_label

    for target in TARGETS.values():
        if isinstance(target, Lua53Target) and target.chip == "esp32":
            if target.flash_sig_bits == sig_bits:
                return Build("5.3", target, build_label(target))
    raise LoaderError("an LFS image of no known firmware build")


def firmware_names(data: bytes, build: Build) -> list[str]:
    """The firmware builds (chip, core, numbers, luacross flags) that load
    `data` as `build`, from `lfs_format.variants`: both chips where the bytes
    cannot tell them apart."""
    from lfs_format.target import Lua53Target
    from lfs_format.variants import describe, image_targets

    def numbers(target) -> tuple:
        if isinstance(target, Lua53Target):
            return (target.int_size, target.float_size)
        return (target.integral,)

    return [describe(t) for t in image_targets(data) if numbers(t) == numbers(build.target)]
