"""The Lua 5.3 LFS region as the firmware lays it out (app/lua53 `lundump.c` LFS
mode, `lnodemcu.c` `luaN_writeFlash`), in the ESP8266's 32-bit layout.

Everything is written serially, each record padded with zeros to a 4-byte
boundary; a record's address is where it starts. The structures are the
firmware's 32-bit ones (luac.cross writes them from its 64-bit structures
through `lundump.c`'s repack formats):

- the `FlashHeader` (12 words) at the start, written last;
- per string (`addTS`): a `TString` (next, tt/marked/extra/shrlen, hash,
  hnext or length) and its bytes with a terminating 0;
- the `ROstrt` hash vector of the short strings;
- per function, children first: the sub-function vector, code, constants
  (`TValue`s), upvalue descriptors, line info, then the `Proto` (19 words);
- the module `ROTable` entries (name, light userdata = the Proto) and the
  `ROTable` header.
"""

import struct

FLASH_FORMAT_VERSION = 2 << 8
FLASH_SIG = 0xFAFAA050 | FLASH_FORMAT_VERSION
HEADER_WORDS = 12  # struct FlashHeader
LFS_SIZE = 0x40000  # the LFS region luac.cross emulates (lnodemcu.c)
FLASH_PAGE_SIZE = 0x1000
IROM0_SEG = 0x40210000  # lnodemcu.c: the flash address of physical offset 0 as the loader prints it

LFSBIT = 1 << 5  # lgc.h: object lives in LFS
BIT_ISCOLLECTABLE = 1 << 6
STRING_MARKED = LFSBIT | BIT_ISCOLLECTABLE  # what addTS sets (in `marked`, as lundump.c does)

# lobject.h type tags (the tt_ words of TValues and the tt bytes of objects)
LUA_TNIL = 0
LUA_TBOOLEAN = 1
LUA_TLIGHTUSERDATA = 2
LUA_TNUMFLT = 3
LUA_TNUMINT = 3 | (1 << 4)
LUA_TSHRSTR = 4
LUA_TLNGSTR = 4 | (1 << 4)
LUA_TTBLROF = 5 | (1 << 4)
LUA_TPROTO = 9
CTB = BIT_ISCOLLECTABLE  # ctb(): collectable types in a TValue's tag

LUAI_HASHLIMIT = 5


def luaS_hash(data: bytes, seed: int) -> int:
    """lstring.c `luaS_hash` (unsigned 32-bit arithmetic)."""
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    step = (length >> LUAI_HASHLIMIT) + 1
    while length >= step:
        h ^= ((h << 5) + (h >> 2) + data[length - 1]) & 0xFFFFFFFF
        length -= step
    return h


def ceil_log2(value: int) -> int:
    """lobject.c `luaO_ceillog2` for value >= 1."""
    return (value - 1).bit_length()


def erase_text(address: int) -> bytes:
    """What `eraseLFS` prints when luac.cross loads an image for `-a ADDR`:
    the physical range (ADDR - 0x40210000) and one dot per 4 KiB page."""
    phys = (address - IROM0_SEG) & 0xFFFFFFFF
    end = (phys + LFS_SIZE - 1) & 0xFFFFFFFF
    dots = "." * (LFS_SIZE // FLASH_PAGE_SIZE)
    return f"\nErasing LFS from flash addr 0x{phys:06x}{dots} to 0x{end:06x}\n".encode()


class FlashWriter:
    """`luaN_writeFlash` over a region starting at flash address `base`."""

    __slots__ = ("base", "buf")

    def __init__(self, base: int) -> None:
        self.base = base
        self.buf = bytearray()

    def pos(self) -> int:
        """`StoreGetPos`: the address the next record gets."""
        return self.base + len(self.buf)

    def offset(self, address: int) -> int:
        """`FHoffset`: an address as a word offset from the region start."""
        return (address - self.base) // 4

    def address(self, offset: int) -> int:
        """`FHaddr`: a word offset as an address (32-bit)."""
        return (self.base + 4 * offset) & 0xFFFFFFFF

    def write(self, data: bytes) -> int:
        """One record, zero-padded to a word boundary; returns its address."""
        where = self.pos()
        self.buf += data
        pad = -len(data) % 4
        if pad:
            self.buf += bytes(pad)
        return where

    def words(self, *values: int) -> int:
        """A record of 32-bit little-endian words."""
        return self.write(struct.pack(f"<{len(values)}I", *(v & 0xFFFFFFFF for v in values)))
