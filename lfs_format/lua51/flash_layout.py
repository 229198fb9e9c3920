"""The LFS image's layout facts: signature bits, record sizes, the flash limit.

Facts from `app/lua/lflash.h` (FlashHeader, signature bits) and
`app/lua/luac_cross/lflashimg.c`. The image builder needs only these, so they
live apart from the construct definitions (`image_structs`), which the loader
uses and which take long to import.
"""

from ..target import Target

# flash signature bits (lflash.h)
FLASH_SIG_BASE = 0xFAFAA050
FLASH_FORMAT_VERSION = 0x100
FLASH_FORMAT_MASK = 0xF00
FLASH_SIG_ABSOLUTE = 0x01
FLASH_SIG_B1 = 0x02  # integer build (LUA_NUMBER_INTEGRAL)
FLASH_SIG_B2 = 0x04  # packed TValues (float build, LUA_PACK_TVALUES)
FLASH_SIG_B2_MASK = 0x04
FLASH_SIG_IN_PROGRESS = 0x08  # set by the device while pass 2 writes flash

WORD = 4
FLASH_HEADER_WORDS = 8
FLASH_TS_WORDS = 4
PROTO_WORDS = 18
LUA_MAX_FLASH_SIZE = 0x10000  # image limit in words (lflashimg.c)
LFS_MARKED = 1 << 6  # bitmask(LFSBIT): FlashTS.marked


def flash_sig(target: Target, absolute: bool = False) -> int:
    """FLASH_SIG of a firmware build for `target`, with the ABSOLUTE bit if asked."""
    sig = FLASH_SIG_BASE | FLASH_FORMAT_VERSION
    sig |= FLASH_SIG_B1 if target.integral else FLASH_SIG_B2
    return sig | (FLASH_SIG_ABSOLUTE if absolute else 0)


def tvalue_size(target: Target) -> int:
    """Bytes of one TValue in the image: packed 8+4 (float), 4+4 (int)."""
    return target.number_size + WORD
