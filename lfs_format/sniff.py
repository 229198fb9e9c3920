"""What a file is, from its bytes: `sniff(data)` -> `Sniffed`.

Kinds (`Sniffed.kind`), from the first bytes the tools write:

- `source`: text (no NUL byte, decodes as UTF-8 or is mostly printable): Lua source;
- `lc`: a NodeMCU `.lc` chunk: Lua 5.1 (`ESC Lua 0x51 0x00`, 4-byte size_t; float
  build: 8-byte lua_Number, integer build: 4-byte integral) or Lua 5.3 (`0x53`,
  format 10, the sizes of lua_Integer and lua_Number);
- `luac`: a precompiled chunk of another Lua (stock 5.1 with an 8-byte size_t, stock
  5.2/5.3/5.4, LuaJIT);
- `image`: an LFS image. Lua 5.1: a FlashHeader whose signature is 0xFAFAA1xx
  (bit 0 absolute, bit 1 integer build, bit 2 float build), relocatable images
  gzipped (`-f`), absolute ones raw (`-a`). Lua 5.3: relocatable images are the
  format-11 stream (`ESC Lua 0x53 0x0B`); absolute images (`-F IMAGE -a ADDR`) are
  the flash region, whose FlashHeader signature is 0xFAFAA250;
- `gzip`: gzip of something else (`inner` says what);
- `unknown`. An empty file is Lua source (it compiles).

Facts from app/lua/lundump.h, app/lua/lflash.h, app/lua53/lundump.h, lnodemcu.h.
"""

import struct
import zlib

LUA_SIGNATURE = b"\x1bLua"
GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATE = 16 * 1024 * 1024  # enough for any LFS payload (flash_size <= 256 KiB + bitmap)

# Both cores' FlashHeader signature (lflash.h, lnodemcu.h): FLASH_SIG_BASE, the
# format version in bits 8-11, build flags in bits 0-3
FLASH_SIG_BASE = 0xFAFAA050
FLASH_SIG_FIXED = 0xFFFFF0F0
LUA51_FLASH_FORMAT = 0x100  # flags: 0x01 absolute, 0x02 integer build, 0x04 float build
LUA53_FLASH_FORMAT = 0x200  # flags: none (ESP8266), or the ESP32's number build (below)
FLASH51_ABSOLUTE = 0x01
FLASH51_INTEGER = 0x02
FLASH51_FLOAT = 0x04  # packed TValues
FLASH53_INT64 = 0x01  # the ESP32's LUA_NUMBER_INTEGRAL64 build
FLASH53_DOUBLE = 0x02  # the ESP32's double build
LUA53_SIZES_AT = 14  # a 5.3 chunk header's sizeof(lua_Integer), then sizeof(lua_Number)
LFS53_FORMAT = 11
LC53_FORMAT = 10
LUAC53_DATA = b"\x19\x93\r\n\x1a\n"
STOCK_VERSIONS = {0x50: "5.0", 0x51: "5.1", 0x52: "5.2", 0x53: "5.3", 0x54: "5.4"}


def flash_signature(data: bytes) -> tuple[int, int] | None:
    """(format version, flag bits) of the FlashHeader signature `data` starts
    with; None when its first word is no flash signature."""
    if len(data) < 4:
        return None
    sig = int.from_bytes(data[:4], "little")
    if sig & FLASH_SIG_FIXED != FLASH_SIG_BASE:
        return None
    return sig & 0xF00, sig & 0x0F


def lua51_image_integral(data: bytes) -> bool:
    """Whether a Lua 5.1 image (gzipped, or absolute) is the integer build's, from
    its signature; False (the float build) when that cannot be read, so that the
    float build's loader says what is wrong."""
    head = inflate_gzip(data, 4)[0] if data.startswith(GZIP_MAGIC) else data
    signature = flash_signature(head)
    return signature is not None and bool(signature[1] & FLASH51_INTEGER)


def lua53_number_sizes(data: bytes) -> tuple[int, int] | None:
    """(sizeof lua_Integer, sizeof lua_Number) from a Lua 5.3 chunk header
    (`.lc` or `-f` image); None when it is too short to say."""
    if len(data) < LUA53_SIZES_AT + 2:
        return None
    return data[LUA53_SIZES_AT], data[LUA53_SIZES_AT + 1]


class Sniffed:
    """What `sniff` found. `kind` (see the module), `lua` ("5.1", "5.3" or None),
    `build` (the target name: "float", "int", "lua53", "lua53-64", or None),
    `absolute` (images), `inner` (gzip: what was inside), `description`."""

    __slots__ = ("kind", "lua", "build", "absolute", "inner", "description")

    def __init__(
        self,
        kind: str,
        description: str,
        *,
        lua: str | None = None,
        build: str | None = None,
        absolute: bool = False,
        inner: "Sniffed | None" = None,
    ) -> None:
        self.kind = kind
        self.description = description
        self.lua = lua
        self.build = build
        self.absolute = absolute
        self.inner = inner

    def __repr__(self) -> str:
        return f"Sniffed({self.kind!r}, {self.description!r})"

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


# Lua 5.3 builds by (sizeof lua_Integer, sizeof lua_Number): the ESP8266 has the first
# two; the ESP32's Kconfig also offers 64-bit integers with floats and 32-bit with doubles
BUILDS53 = {(4, 4): "lua53", (8, 8): "lua53-64", (8, 4): "lua53-int64", (4, 8): "lua53-double"}
SIZES53 = {name: sizes for sizes, name in BUILDS53.items()}


def _build53(int_size: int, float_size: int) -> tuple[str | None, str]:
    sizes = f"{int_size * 8}-bit integers, {float_size * 8}-bit floats"
    return BUILDS53.get((int_size, float_size)), sizes


def _sniff_chunk(data: bytes) -> Sniffed:
    """A file starting with ESC "Lua"."""
    version = data[4] if len(data) > 4 else None
    fmt = data[5] if len(data) > 5 else None
    if version == 0x51 and fmt == 0 and len(data) >= 12:
        sizet, number, integral = data[8], data[10], data[11]
        if data[7] == 4 and sizet == 4 and data[9] == 4:
            if (number, integral) == (8, 0):
                return Sniffed(
                    "lc", "NodeMCU Lua 5.1 bytecode (float build)", lua="5.1", build="float"
                )
            if (number, integral) == (4, 1):
                return Sniffed(
                    "lc", "NodeMCU Lua 5.1 bytecode (integer build)", lua="5.1", build="int"
                )
        if sizet == 8 and (number, integral) == (8, 0):
            return Sniffed(
                "luac",
                "stock Lua 5.1 bytecode (64-bit host), not NodeMCU's",
                lua="5.1",
                build="host",
            )
        return Sniffed(
            "luac",
            f"Lua 5.1 bytecode of another build (size_t {sizet}, "
            f"lua_Number {number} bytes{', integral' if integral else ''})",
            lua="5.1",
        )
    if version == 0x53 and fmt in (LC53_FORMAT, LFS53_FORMAT) and len(data) >= 16:
        if data[6:12] == LUAC53_DATA:
            build, sizes = _build53(data[LUA53_SIZES_AT], data[LUA53_SIZES_AT + 1])
            if fmt == LC53_FORMAT:
                return Sniffed("lc", f"NodeMCU Lua 5.3 bytecode ({sizes})", lua="5.3", build=build)
            return Sniffed(
                "image", f"NodeMCU Lua 5.3 LFS image, relocatable ({sizes})", lua="5.3", build=build
            )
    if version == 0x53 and fmt == 0 and len(data) >= 17 and data[6:12] == LUAC53_DATA:
        return Sniffed("luac", "stock Lua 5.3 bytecode, not NodeMCU's", lua=None)
    if version in STOCK_VERSIONS:
        return Sniffed("luac", f"Lua {STOCK_VERSIONS[version]} bytecode, not NodeMCU's")
    return Sniffed("luac", "Lua bytecode of an unknown version")


def _sniff_flash51(data: bytes, *, compressed: bool) -> Sniffed | None:
    signature = flash_signature(data)
    if len(data) < 32 or signature is None or signature[0] != LUA51_FLASH_FORMAT:
        return None
    flags = signature[1]
    absolute = bool(flags & FLASH51_ABSOLUTE)
    build: str | None
    if flags & 0x06 == FLASH51_FLOAT:
        build, what = "float", "float build"
    elif flags & 0x06 == FLASH51_INTEGER:
        build, what = "int", "integer build"
    else:
        build, what = None, "unknown build"
    if flags & 0x08:  # FLASH_SIG_IN_PROGRESS: only a device sets it, while writing
        what += ", marked as being written"
    if absolute:
        mapped = int.from_bytes(data[12:16], "little") - 32  # pROhash is word 8
        form = f"absolute at 0x{mapped & 0xFFFFFFFF:08x}"
    else:
        form = "relocatable" if compressed else "relocatable, not compressed"
    return Sniffed(
        "image",
        f"NodeMCU Lua 5.1 LFS image, {form} ({what})",
        lua="5.1",
        build=build,
        absolute=absolute,
    )


def wide53_region(data: bytes) -> bool | None:
    """Whether a Lua 5.3 flash region holds 12-byte TValues (the 64-bit build), None
    when it cannot tell: the module ROTable's entries (name, light userdata) come just
    before the ROTable and end with an all-zero entry, 3 words long, or 4 with 64-bit
    numbers; the entry before it ends with the light userdata tag (2)."""
    if len(data) < 48:
        return None
    rotable = int.from_bytes(data[28:32], "little") * 4  # pROTable, a word offset
    if not 20 <= rotable <= len(data) - 16:
        return None
    words = struct.unpack_from("<5I", data, rotable - 20)
    if words[2:] == (0, 0, 0) and words[1] == 2:
        return False
    if words[1:] == (0, 0, 0, 0) and words[0] == 2:
        return True
    return None


def _sniff_flash53(data: bytes) -> Sniffed | None:
    """A Lua 5.3 flash region: the ESP32's firmware adds its number build to the
    signature (bit 0: 64-bit integers, bit 1: doubles); the ESP8266's does not, and
    its 64-bit build is told by the size of the module table's entries."""
    signature = flash_signature(data)
    if len(data) < 48 or signature is None or signature[0] != LUA53_FLASH_FORMAT:
        return None
    flags = signature[1]
    if flags & ~(FLASH53_INT64 | FLASH53_DOUBLE):
        return None
    build: str | None
    if flags & 3:
        build = BUILDS53[(8 if flags & FLASH53_INT64 else 4, 8 if flags & FLASH53_DOUBLE else 4)]
    else:
        wide = wide53_region(data)
        build = None if wide is None else ("lua53-64" if wide else "lua53")
    sizes = ""
    if build is not None:
        sizes = " (" + _build53(*SIZES53[build])[1] + ")"
    return Sniffed(
        "image",
        f"NodeMCU Lua 5.3 LFS image, absolute (flash region){sizes}",
        lua="5.3",
        build=build,
        absolute=True,
    )


def _looks_like_text(data: bytes) -> bool:
    """Text: few control bytes, at most 2 or one in 20 (Lua source may hold a NUL or
    other control bytes in a string; random data has one control byte in eight)."""
    head = data[:65536]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 11, 12, 13) or b == 127)
    return controls <= 2 or controls * 20 <= len(head)


def inflate_gzip(data: bytes, limit: int = MAX_INFLATE) -> tuple[bytes, bool]:
    """(what the gzip member inflates to, at most `limit` bytes; whether it inflated
    without error). A damaged stream still gives what came before the damage."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    for at in range(0, len(data), 4096):
        try:
            out += d.decompress(data[at : at + 4096], limit - len(out))
        except zlib.error:
            return bytes(out), False
        if len(out) >= limit or d.eof:
            break
    return bytes(out), d.eof


def sniff(data: bytes) -> Sniffed:
    """What `data` (a whole file) is."""
    if not data:
        return Sniffed("source", "Lua source (an empty file)")
    if data.startswith(LUA_SIGNATURE):
        return _sniff_chunk(data)
    if data.startswith(GZIP_MAGIC):
        payload, whole = inflate_gzip(data)
        image = _sniff_flash51(payload, compressed=True)
        if image is not None:
            return image
        if not whole:
            return Sniffed("gzip", "gzip data that does not inflate (damaged or truncated)")
        inner = sniff(payload)
        if inner.kind == "image" and inner.lua == "5.3":
            inner.description += ", gzipped"
            return inner
        return Sniffed("gzip", f"gzip of {inner.description}", inner=inner)
    found = _sniff_flash51(data, compressed=False) or _sniff_flash53(data)
    if found is not None:
        return found
    if data[:4] == b"\x1bLJ\x01" or data[:4] == b"\x1bLJ\x02":
        return Sniffed("luac", "LuaJIT bytecode, not NodeMCU's")
    if _looks_like_text(data):
        return Sniffed("source", "Lua source (text)")
    return Sniffed("unknown", f"not a Lua file or LFS image ({len(data)} bytes of unknown data)")


def what(found: Sniffed) -> str:
    """`found` as a noun phrase: "a NodeMCU Lua 5.1 bytecode file (float build)"."""
    text = found.description.replace(", not NodeMCU's", "")
    if found.kind in ("lc", "luac"):
        text = text.replace("bytecode", "bytecode file", 1)
        return ("an " if text[0] in "aeiouAEIOU" else "a ") + text
    if found.kind == "source":
        return "an empty file" if "empty" in text else "a Lua source file"
    if found.kind == "image":
        return "a " + text
    if found.kind == "gzip":
        return "a " + text.replace("gzip of ", "gzip file of ", 1).replace("gzip data", "gzip file")
    return text


def refuse_non_image(name: str, data: bytes) -> None:
    """Raise LuacrossError "NAME is a Lua source file, not an LFS image" for a file
    that is plainly something else: Lua source, a NodeMCU Lua 5.1 `.lc`, or gzip of
    either. Anything that could be a damaged image (a Lua 5.3 chunk header, unknown
    data) is left to the device's loader, whose messages are the firmware's."""
    from .errors import LuacrossError

    found = sniff(data)
    inner = found.inner if found.kind == "gzip" else found
    if inner is None:
        return
    if inner.kind == "source" or (inner.kind == "lc" and inner.lua == "5.1"):
        raise LuacrossError(f"{name} is {what(found)}, not an LFS image")


def refuse_non_source(chunkname: bytes, data: bytes) -> None:
    """For a source the compiler rejected: raise LuacrossError "NAME is an LFS image
    ..., not Lua source" when `data` is an image or gzip data (the lexer would say
    "unexpected symbol near 'char(31)'"); otherwise return (the lexer's message stands)."""
    from .errors import LuacrossError

    found = sniff(data)
    if found.kind in ("image", "gzip"):
        name = chunkname[1:] if chunkname[:1] in (b"@", b"=") else chunkname
        shown = name.decode("utf-8", "surrogateescape")
        raise LuacrossError(f"{shown} is {what(found)}, not Lua source") from None


def describe(data: bytes) -> str:
    """One line: what `data` is."""
    return sniff(data).description
