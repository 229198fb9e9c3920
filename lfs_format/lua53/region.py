"""Read a Lua 5.3 LFS region back (what `luac.cross -F IMAGE -a ADDR` writes,
or what a device's LFS partition holds once an image is loaded).

The 5.3 firmware boots a region as it finds it (`lnodemcu.c` `luaN_init`):
a `FlashHeader` whose signature is `FLASH_SIG` is used as it is ("LFS image
loaded"); any other signature but an erased one (0 or all ones) is "LFS image
corrupted." and the region is erased. Everything else in the region is
pointers the firmware follows blindly; `read_region` follows them with bounds
checks, so a region that would crash the device is refused with one line.

The region holds absolute addresses but not its own: the first string
`addTS` wrote (right after the header) links to `FHaddr(0)`, the region's
start. The build shows in the module table: a 32-bit-build entry is
(key, value, tag), a 64-bit one (key, value, 0, tag).
"""

import struct

from ..errors import LoaderError
from . import flash_image as fl
from .proto import LocVar, Proto, Upvaldesc

HEADER = struct.Struct("<12I")
PROTO = struct.Struct("<19I")
LOADED = "LFS image loaded"
CORRUPTED = "LFS image corrupted."


class RegionError(LoaderError):
    """The region would not boot, or holds a pointer outside itself."""


class Region:
    """A region read back: `base` (the address it was built for), `wide`
    (64-bit build), `names`, `protos`, `seed`, `timestamp`, `flash`."""

    __slots__ = (
        "base", "wide", "sig_bits", "names", "protos", "seed", "timestamp", "flash", "strings",
    )  # fmt: skip

    def __init__(self) -> None:
        self.base = 0
        self.wide = False
        self.sig_bits = 0  # the ESP32's number build: 1 64-bit integers, 2 doubles
        self.names: list[bytes] = []
        self.protos: list[Proto] = []
        self.seed = 0
        self.timestamp = 0
        self.flash = b""
        self.strings: list[bytes] = []


def is_region(data: bytes) -> bool:
    """A FlashHeader signature, maybe damaged (`read_region` says "corrupted")."""
    return len(data) >= 4 and int.from_bytes(data[:4], "little") >> 12 == fl.FLASH_SIG >> 12


class _Reader:
    def __init__(self, data: bytes, base: int, wide: bool, sig_bits: int = 0) -> None:
        self.data, self.base, self.wide = data, base, wide
        # a wide TValue holds 64-bit integers and doubles, but on the ESP32 the
        # signature says which of the two are 64-bit (the other stays 32-bit)
        self.int64 = wide if not sig_bits else bool(sig_bits & 1)
        self.double = wide if not sig_bits else bool(sig_bits & 2)
        self.strings: dict[int, bytes] = {}
        self.protos: dict[int, Proto] = {}

    def offset(self, address: int, size: int, what: str) -> int:
        off = address - self.base
        if not 0 <= off <= len(self.data) - size:
            raise RegionError(f"damaged LFS region: {what} at 0x{address:08x} is outside it")
        return off

    def words(self, address: int, count: int, what: str) -> tuple[int, ...]:
        off = self.offset(address, 4 * count, what)
        return struct.unpack_from(f"<{count}I", self.data, off)

    def string(self, address: int) -> bytes | None:
        if address == 0:
            return None
        found = self.strings.get(address)
        if found is None:
            _, tag, _, fourth = self.words(address, 4, "a string")
            if tag & 0xFF == fl.LUA_TSHRSTR:
                length = tag >> 24
            elif tag & 0xFF == fl.LUA_TLNGSTR:
                length = fourth
            else:
                raise RegionError(f"damaged LFS region: no string at 0x{address:08x}")
            off = self.offset(address + 16, length, "a string's bytes")
            found = self.strings[address] = self.data[off : off + length]
        return found

    def constant(self, words: tuple[int, ...]):
        low, high, tt = (words[0], words[1], words[2]) if self.wide else (words[0], 0, words[1])
        if tt == fl.LUA_TBOOLEAN:
            return bool(low)
        if tt == fl.LUA_TNUMINT:
            value = low | high << 32 if self.int64 else low
            bits = 64 if self.int64 else 32
            return value - (1 << bits) if value >> (bits - 1) else value
        if tt == fl.LUA_TNUMFLT:
            if self.double:
                return struct.unpack("<d", struct.pack("<II", low, high))[0]
            return struct.unpack("<f", struct.pack("<I", low))[0]
        if tt in (fl.LUA_TSHRSTR | fl.CTB, fl.LUA_TLNGSTR | fl.CTB):
            return self.string(low)
        return None

    def proto(self, address: int, depth: int = 0) -> Proto:
        found = self.protos.get(address)
        if found is not None:
            return found
        if depth > 200:
            raise RegionError("damaged LFS region: functions nested too deeply")
        (_, tag, maxstack, n_up, n_k, n_code, n_li, n_p, n_lv, linedefined, lastline,
         k_addr, code_addr, p_addr, li_addr, lv_addr, up_addr, source, _gclist,
         ) = self.words(address, 19, "a function")  # fmt: skip
        if tag & 0xFF != fl.LUA_TPROTO:
            raise RegionError(f"damaged LFS region: no function at 0x{address:08x}")
        f = Proto()
        f.numparams, f.is_vararg = (tag >> 16) & 0xFF, tag >> 24
        f.maxstacksize, f.linedefined, f.lastlinedefined = maxstack & 0xFF, linedefined, lastline
        f.source = self.string(source)
        f.code = list(self.words(code_addr, n_code, "code")) if n_code else []
        width = 3 if self.wide else 2
        values = self.words(k_addr, width * n_k, "constants") if n_k else ()
        f.constants = [self.constant(values[i : i + width]) for i in range(0, len(values), width)]
        ups = self.words(up_addr, 2 * n_up, "upvalues") if n_up else ()
        f.upvalues = [
            Upvaldesc(self.string(ups[i]), ups[i + 1] & 0xFF, (ups[i + 1] >> 8) & 0xFF)
            for i in range(0, len(ups), 2)
        ]
        if n_li:
            off = self.offset(li_addr, n_li, "line info")
            f.lineinfo = self.data[off : off + n_li]
        lvs = self.words(lv_addr, 3 * n_lv, "local variables") if n_lv else ()
        f.locvars = [
            LocVar(self.string(lvs[i]) or b"", lvs[i + 1], lvs[i + 2])
            for i in range(0, len(lvs), 3)
        ]
        children = self.words(p_addr, n_p, "sub-functions") if n_p else ()
        f.protos = [self.proto(child, depth + 1) for child in children]
        self.protos[address] = f
        return f


def read_region(data: bytes) -> Region:
    """Boot-check a 5.3 LFS region and read its modules back (RegionError if it
    would not boot, or points outside itself)."""
    if len(data) < HEADER.size + 16:
        raise RegionError("damaged LFS region: shorter than its header")
    header = HEADER.unpack_from(data)
    sig_bits = header[0] ^ fl.FLASH_SIG
    if sig_bits & ~3:  # the ESP32's firmware adds its number build in bits 0 and 1
        if header[0] in (0, 0xFFFFFFFF):
            raise RegionError("no LFS image in the region (it is erased)")
        raise RegionError(CORRUPTED)
    flash_size = header[1]
    if not HEADER.size < flash_size <= len(data):
        raise RegionError(
            f"damaged LFS region: its header says {flash_size} bytes, the file has {len(data)}"
        )
    data = data[:flash_size]
    base = int.from_bytes(data[HEADER.size : HEADER.size + 4], "little")  # FHaddr(0)
    out = Region()
    out.base, out.seed, out.timestamp, out.flash = base, header[2], header[3], data
    rotable = 4 * header[7]
    if not 0 <= rotable <= flash_size - 16:
        raise RegionError("damaged LFS region: its module table is outside it")
    entries = struct.unpack_from("<4I", data, rotable)[3]
    probe = _Reader(data, base, False)
    first = probe.words(entries, 3, "the module table")
    wide = first[2] != fl.LUA_TLIGHTUSERDATA and first != (0, 0, 0)
    reader = _Reader(data, base, wide, sig_bits)
    width = 4 if wide else 3
    address = entries
    while True:
        entry = reader.words(address, width, "the module table")
        if entry[0] == 0:
            break
        name = reader.string(entry[0] - 16)
        out.names.append(name or b"")
        out.protos.append(reader.proto(entry[1]))
        address += 4 * width
    out.wide, out.sig_bits = wide, sig_bits
    out.strings = sorted(set(reader.strings.values()))
    return out
