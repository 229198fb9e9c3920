"""Which firmware builds an LFS image is for, from its header: for `check`,
`run` and `inspect` to name the chip and number build an image needs.

- An absolute image starts with its `FlashHeader`: the flash signature
  `0xFAFAA050 | format | bits` tells the core (format 0x100: Lua 5.1,
  0x200: Lua 5.3) and the number build: Lua 5.1 sets 0x02 for the integer
  build and 0x04 for the float build (both chips); the ESP32's Lua 5.3 adds
  0x01 for 64-bit integers and 0x02 for doubles (the ESP8266's 5.3 builds add
  nothing). A 5.1 image's string table size tells the chips apart when
  `2 << log2(n)` and the ESP32's `2 << log2(1.3 * n)` differ.
- A Lua 5.1 relocatable image is the gzip of the same words (plus the
  relocation bitmap).
- A Lua 5.3 relocatable image (`-f`, format 11) starts with the `.lc` header,
  whose sizes of lua_Integer and lua_Number name the number build; the chip
  leaves no mark in it (the ESP8266 and ESP32 images differ only by the seed).

The header's fields are read by `lfs_format.sniff` (`flash_signature`,
`lua53_number_sizes`). `image_targets(data)` returns the candidates, in `TARGETS` order;
`describe(target)` names one, with the luacross flags that select it.
"""

import struct

from .sniff import (
    FLASH51_FLOAT,
    FLASH51_INTEGER,
    GZIP_MAGIC,
    LUA51_FLASH_FORMAT,
    LUA53_FLASH_FORMAT,
    flash_signature,
    inflate_gzip,
    lua53_number_sizes,
)
from .target import TARGETS, Lua53Target, Target

LUA53_HEADER = b"\x1bLuaS"


def _lua51_strtable_fits(target: Target, nuse: int, nsize: int) -> bool:
    if not nuse:
        return True
    n = int(nuse * 1.3) if target.rostrt_margin else nuse
    return nsize == 2 << (n.bit_length() - 1)


def _lua51_targets(header: bytes) -> list[Target | Lua53Target]:
    sig, _size, _main, _hash, nuse, nsize = struct.unpack_from("<6I", header)
    integral = bool(sig & FLASH51_INTEGER)
    if sig & FLASH51_FLOAT == integral * FLASH51_FLOAT:  # both bits or neither
        return []
    found: list[Target | Lua53Target] = []
    for target in TARGETS.values():
        if isinstance(target, Target) and target.integral == integral:
            if _lua51_strtable_fits(target, nuse, nsize):
                found.append(target)
    return found


def _lua53_flash_targets(bits: int) -> list[Target | Lua53Target]:
    return [
        target
        for target in TARGETS.values()
        if isinstance(target, Lua53Target) and target.flash_sig_bits == bits
    ]


def _lua53_dump_targets(data: bytes) -> list[Target | Lua53Target]:
    sizes = lua53_number_sizes(data)
    return [
        target
        for target in TARGETS.values()
        if isinstance(target, Lua53Target) and (target.int_size, target.float_size) == sizes
    ]


def image_targets(data: bytes) -> list[Target | Lua53Target]:
    """The builds whose firmware can load `data` (an LFS image as luac.cross
    writes it, relocatable or absolute); empty when it is none of these."""
    if data.startswith(LUA53_HEADER):
        return _lua53_dump_targets(data)
    if data.startswith(GZIP_MAGIC):
        data = inflate_gzip(data, 64)[0]
    signature = flash_signature(data)
    if len(data) < 24 or signature is None:
        return []
    if signature[0] == LUA51_FLASH_FORMAT:
        return _lua51_targets(data)
    if signature[0] == LUA53_FLASH_FORMAT:
        return _lua53_flash_targets(signature[1])
    return []


def flags(target: Target | Lua53Target) -> list[str]:
    """The luacross flags that select `target`."""
    for (chip, lua, numbers), known in TARGETS.items():
        if known is target:
            out = [] if chip == "esp8266" else ["--chip", chip]
            out += [] if lua == "5.1" else ["--lua", lua]
            if numbers == "int":
                out.append("--int")
            elif numbers is not None:
                out += ["--numbers", numbers]
            return out
    raise KeyError(target)


def describe(target: Target | Lua53Target) -> str:
    """`ESP32 firmware, Lua 5.3, 64-bit integers and doubles (--chip esp32 ...)`."""
    chip = target.chip.upper()
    if isinstance(target, Target):
        build = "Lua 5.1, integer build" if target.integral else "Lua 5.1, float build"
    else:
        ints = f"{8 * target.int_size}-bit integers"
        floats = "doubles" if target.float_size == 8 else "single floats"
        build = f"Lua 5.3, {ints} and {floats}"
    options = " ".join(flags(target)) or "the default build"
    return f"{chip} firmware, {build} ({options})"
