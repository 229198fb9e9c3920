"""Load a Lua 5.3 LFS image (format 11) as the firmware does: app/lua53
`lundump.c` `luaU_undumpLFS` over `lnodemcu.c`'s flash writer.

`load_image(data, target, address=...)` reads the image in the loader's order
with its checks and messages, and returns both what the device ends up with in
flash (`LoadedImage.flash`, the bytes `luac.cross -F IMAGE -a ADDR` writes) and
the functions as `Proto`s (for checking and running an image).

The loader's messages are lundump's `"%s: %s precompiled chunk"` with the image
name, which `luaN_init` never sets: "(null): truncated precompiled chunk".
Where the firmware does not check (a string index beyond the list, a module
name that is not a string), luacross stops with a message of its own instead of
reading stray memory.

Some bytes the loader writes are never initialised by it: the padding of an
upvalue descriptor (stack memory), the padding after a Proto's maxstacksize
(heap memory), the value of a nil constant and the upper half of a boolean's
in the 64-bit build (and of a 32-bit integer or a single float in the ESP32's
mixed int32/double and int64/float builds: there the first such constant of a
function can keep stale host stack bytes, which luacross does not reproduce).
luacross writes zeros there (nil, boolean and these narrow numbers: what the
previous constant left, as luac.cross usually does); `LoadedImage.undefined`
lists these byte ranges, which the firmware never reads.

Two firmware quirks are kept: the fixed strings are added with only "nil" and
"function" de-duplicated (`addTSnodup`), so "userdata" is in flash twice and
a reference to the dumper's "thread" or "proto" loads the string after it
("userdata", "thread"); and a constant's unused value bytes (nil, a boolean's
upper half in the 64-bit build) keep what the previous constant left there.
"""

import struct

from ..errors import LcFormatError, LoaderError
from ..target import Lua53Target
from . import flash_image as fl, image, lc
from .proto import Constant, LocVar, Proto, Upvaldesc

IMAGE_NAME = "(null)"  # S->name: luaN_init never gives the loader a name
PROTO_MARKED = fl.LFSBIT | 1  # a Proto in LFS: LFS bit plus the GC white at load time (white 0)


# A short-string count whose ROstrt vector no device could allocate: more
# strings than a 1 MiB LFS region holds (a TString is 16 bytes). A smaller
# count beyond the data (a truncated image) is allocated, as the firmware
# does, and the reading stops at "truncated".
MAX_SHORT_STRINGS = 1 << 16


class ImageLoadError(LoaderError):
    """The firmware's loader rejects the image; `str()` is its message."""


# addTSnodup: only these two duplicates are skipped
_NODUP = (b"nil", b"function")


def loader_fixed_strings() -> list[tuple[bytes, int]]:
    """The fixed strings in the order `LoadAllStrings` adds them, with their
    `extra` (reserved words: index + 1)."""
    found: set[bytes] = set()
    out: list[tuple[bytes, int]] = []

    def add(value: bytes, extra: int) -> None:
        if value in _NODUP:
            if value in found:
                return
            found.add(value)
        out.append((value, extra))

    for i, token in enumerate(image.LUAX_TOKENS):
        add(token, i + 1 if i < image.NUM_RESERVED else 0)
    add(image.MEMERRMSG, 0)
    add(image.LUA_ENV, 0)
    for name in (*image.LUAT_EVENTS, *image.LUAT_TYPENAMES):
        add(name, 0)
    return out


class LoadedImage:
    """What the loader made of an image."""

    __slots__ = ("seed", "timestamp", "names", "protos", "flash", "strings", "undefined")

    def __init__(self) -> None:
        self.seed = 0  # as the 32-bit header word holds it
        self.timestamp = 0
        self.names: list[bytes] = []  # module names, in image order
        self.protos: list[Proto] = []  # the module functions, same order
        self.flash = b""  # the LFS region as loaded (flash_size bytes)
        self.strings: list[bytes] = []  # the string list the image wrote
        self.undefined: list[tuple[int, int]] = []  # (offset, length) the loader leaves as found


class _Loader:
    """LoadState in LFS mode (useStrRefs), writing the region as it goes."""

    def __init__(self, data: bytes, target: Lua53Target, base: int) -> None:
        self.r = lc._Reader(data, target)
        self.target = target
        self.wide = target.int_size == 8 or target.float_size == 8  # FMT_TVALUE "www"
        self.flash = fl.FlashWriter(base)
        self.ts_addr: list[int] = []  # S->TS: flash addresses
        self.ts_value: list[bytes] = []
        self.seed = 0
        self.short_head = 0  # FlashHeader offsets (words)
        self.long_head = 0
        self.proto_head = 0
        self.list: list[int] = []
        self.ro_use = 0  # FlashHeader nROuse: the image's short string count
        self.prev_value = b"\0" * 8  # the stack TValue's value bytes between constants
        self.undefined: list[tuple[int, int]] = []

    # -- strings ----------------------------------------------------------

    def add_ts(self, value: bytes, extra: int) -> None:
        """`addTS`: the TString and its bytes; short ones go into the ROstrt list."""
        flash = self.flash
        length = len(value)
        marked = fl.STRING_MARKED
        hash_ = fl.luaS_hash(value, self.seed)
        if length <= lc.LUAI_MAXSHORTLEN:
            slot = hash_ & (len(self.list) - 1)
            tag = fl.LUA_TSHRSTR | marked << 8 | (extra & 0xFF) << 16 | length << 24
            where = flash.words(flash.address(self.short_head), tag, hash_, self.list[slot])
            self.list[slot] = where
            self.short_head = flash.offset(where)
        else:
            tag = fl.LUA_TLNGSTR | marked << 8 | 1 << 16  # extra 1: has its hash
            where = flash.words(flash.address(self.long_head), tag, hash_, length)
            self.long_head = flash.offset(where)
        flash.write(value + b"\0")
        self.ts_addr.append(where)
        self.ts_value.append(value)

    def load_strings(self) -> list[bytes]:
        """`LoadAllStrings`."""
        r = self.r
        r.count()  # maxlen: sizes the loader's buffer only
        n_short = r.count()
        self.ro_use = n_short
        r.count()  # long count
        n_strings = r.count()
        if not 0 <= n_short <= MAX_SHORT_STRINGS:
            raise lc._OutOfMemory("not enough memory", r.pos)  # the ROstrt vector
        self.list = [0] * (1 << fl.ceil_log2(max(n_short, 1)))
        written = []
        for _ in range(n_strings):
            tt = r.byte()
            length = r.integer(tt) - 1
            value = r.block(length)
            written.append(value)
            self.add_ts(value, 0)
        for value, extra in loader_fixed_strings():
            self.add_ts(value, extra)
        return written

    def string(self, tt: int | None = None) -> tuple[int, bytes | None]:
        """`LoadString_` by reference: (flash address or 0, the string or None)."""
        r = self.r
        if tt is None:
            tt = r.byte()
        n = r.integer(tt) - 1
        if n < 0:
            return 0, None
        if n >= len(self.ts_addr):
            raise r.fail(f"string index {n + 1} beyond the {len(self.ts_addr)} strings in")
        return self.ts_addr[n], self.ts_value[n]

    # -- functions --------------------------------------------------------

    def value_words(self, value: bytes, tt: int) -> tuple[int, ...]:
        """A TValue as its repack format writes it ("AW", or "www" with 64-bit numbers)."""
        self.prev_value = value
        low, high = struct.unpack("<II", value)
        return (low, high, tt) if self.wide else (low, tt)

    def constant(self) -> tuple[tuple[int, ...], Constant]:
        r = self.r
        tt = r.byte()
        kind = tt & lc.LUAU_TMASK
        prev = self.prev_value
        if kind == lc.LUAU_TNIL:
            return self.value_words(prev, fl.LUA_TNIL), None
        if kind == lc.LUAU_TBOOLEAN:
            flag = tt != lc.LUAU_TBOOLEAN
            return self.value_words(struct.pack("<I", flag) + prev[4:], fl.LUA_TBOOLEAN), flag
        if kind == lc.LUAU_TNUMFLT:
            number = r.number()
            if self.target.float_size == 4:
                raw = struct.pack("<f", number) + prev[4:]
            else:
                raw = struct.pack("<d", number)
            return self.value_words(raw, fl.LUA_TNUMFLT), number
        if kind in (lc.LUAU_TNUMPINT, lc.LUAU_TNUMNINT):
            value = r.integer(tt)
            if self.target.int_size == 4:
                raw = struct.pack("<i", value) + prev[4:]
            else:
                raw = struct.pack("<q", value)
            return self.value_words(raw, fl.LUA_TNUMINT), value
        if kind in (lc.LUAU_TSSTRING, lc.LUAU_TLSTRING):
            where, text = self.string(tt)
            tag = fl.LUA_TSHRSTR if kind == lc.LUAU_TSSTRING else fl.LUA_TLNGSTR
            return self.value_words(struct.pack("<Q", where), tag | fl.CTB), text
        # type 7: lundump's lua_assert(0) is compiled out; the stack TValue is stored as it was
        return self.value_words(prev, 0), None

    def function(self, psource: tuple[int, bytes | None]) -> tuple[int, Proto]:
        """`LoadFunction` in LFS mode: (the Proto's flash address, the Proto)."""
        r = self.r
        flash = self.flash
        f = Proto()
        source = self.string()
        if source[1] is None:
            source = psource
        f.source = source[1]
        f.linedefined = r.count()
        f.lastlinedefined = r.count()
        f.numparams = r.byte()
        f.is_vararg = r.byte()
        f.maxstacksize = r.byte()
        # LoadProtos
        children = [self.function(source) for _ in range(r.vector_count())]
        f.protos = [child for _, child in children]
        p_addr = flash.pos() if not children else flash.words(*(a for a, _ in children))
        # LoadCode
        n = r.vector_count()
        code = r.block(4 * n)
        f.code = list(struct.unpack(f"<{n}I", code))
        code_addr = flash.write(code)
        # LoadConstants
        n_k = r.vector_count()
        k_addr = flash.pos()
        for _ in range(n_k):
            words, value = self.constant()
            where = flash.words(*words)
            f.constants.append(value)
            if value is None:
                self.undefined.append((where - flash.base, 8 if self.wide else 4))
            elif self.wide and (
                isinstance(value, bool)
                or (isinstance(value, int) and self.target.int_size == 4)
                or (isinstance(value, float) and self.target.float_size == 4)
            ):  # a 4-byte value in an 8-byte slot (ESP32 int64/float, int32/double)
                self.undefined.append((where - flash.base + 4, 4))
        # LoadUpvalues
        names = r.byte()
        n_up = r.vector_count()
        up_addr = flash.pos() if n_up else 0
        for _ in range(n_up):
            where, name = self.string() if names else (0, None)
            instack = r.byte()
            idx = r.byte()
            at = flash.words(where, instack | idx << 8)
            self.undefined.append((at - flash.base + 6, 2))
            f.upvalues.append(Upvaldesc(name, instack, idx))
        # LoadDebug
        n_li = r.vector_count()
        f.lineinfo = r.block(n_li)
        li_addr = flash.write(f.lineinfo) if n_li else 0
        n_lv = r.vector_count()
        lv_addr = flash.pos()
        for _ in range(n_lv):
            where, varname = self.string()
            startpc = r.count()
            endpc = r.count()
            flash.words(where, startpc, endpc)
            f.locvars.append(LocVar(varname or b"", startpc, endpc))
        marked = 0
        next_addr = 0
        if source[0]:
            marked = PROTO_MARKED
            next_addr = flash.address(self.proto_head)
        where = flash.words(
            next_addr,
            fl.LUA_TPROTO | marked << 8 | (f.numparams << 16) | (f.is_vararg << 24),
            f.maxstacksize,
            n_up, n_k, n, n_li, len(children), n_lv,
            f.linedefined, f.lastlinedefined,
            k_addr, code_addr, p_addr, li_addr, lv_addr, up_addr, source[0],
            0,  # gclist
        )  # fmt: skip
        if source[0]:
            self.proto_head = flash.offset(where)
        self.undefined.append((where - flash.base + 9, 3))
        return where, f

    # -- the image --------------------------------------------------------

    def load(self) -> LoadedImage:
        """`undumpLFS`."""
        r = self.r
        flash = self.flash
        out = LoadedImage()
        flash.write(bytes(4 * fl.HEADER_WORDS))  # luaN_setFlash(F, sizeof(LFSHeader))
        if r.byte() != lc.LUA_SIGNATURE[0]:
            raise r.fail("invalid header in")
        self._check_header()
        self.seed = r.integer(r.byte()) & 0xFFFFFFFF
        if r.block(len(image.LUA_STRING_SIG)) != image.LUA_STRING_SIG:
            raise r.fail("no string vector")
        out.strings = self.load_strings()
        ro_hash = flash.offset(flash.words(*self.list)) if self.list else 0
        if r.block(len(image.LUA_PROTO_SIG)) != image.LUA_PROTO_SIG:
            raise r.fail("no Proto vector")
        n = r.vector_count()
        modules = [self.function((0, None)) for _ in range(n)]
        n_k = r.count()
        entries = flash.pos()
        for i in range(n_k - 1):
            tt = r.byte()
            where, name = self.string(tt)
            if name is None or i >= n:
                raise r.fail("bad module name in")
            key = where + 16  # getstr(Tname): the bytes after the 16-byte TString
            proto_addr = modules[i][0]
            if self.wide:
                flash.words(key, proto_addr, 0, fl.LUA_TLIGHTUSERDATA)
            else:
                flash.words(key, proto_addr, fl.LUA_TLIGHTUSERDATA)
            out.names.append(name)
        flash.words(*([0] * (4 if self.wide else 3)))  # the end-of-list entry
        rotable = flash.words(1, fl.LUA_TTBLROF | 0xFF << 16 | (n & 0xFF) << 24, 0, entries)
        out.timestamp = r.integer(r.byte())
        flash_size = len(flash.buf)
        header = struct.pack(
            "<12I",
            fl.FLASH_SIG | self.target.flash_sig_bits, flash_size, self.seed,
            out.timestamp & 0xFFFFFFFF,
            self.ro_use, len(self.list), ro_hash, flash.offset(rotable),
            self.proto_head, self.short_head, self.long_head, 0,
        )  # fmt: skip
        flash.buf[: len(header)] = header
        out.seed = self.seed
        out.protos = [proto for _, proto in modules]
        out.flash = bytes(flash.buf)
        out.undefined = self.undefined
        return out

    def _check_header(self) -> None:
        r = self.r
        if r.block(3) != lc.LUA_SIGNATURE[1:]:
            raise r.fail("not a")
        if r.byte() != lc.LUAC_VERSION:
            raise r.fail("version mismatch in")
        if r.byte() != image.LUAC_LFS_IMAGE_FORMAT:
            raise r.fail("format mismatch in")
        if r.block(len(lc.LUAC_DATA)) != lc.LUAC_DATA:
            raise r.fail("corrupted")
        for size, what in (
            (lc.SIZEOF_INT, "int"),
            (lc.SIZEOF_INSTRUCTION, "Instruction"),
            (self.target.int_size, "lua_Integer"),
            (self.target.float_size, "lua_Number"),
        ):
            if r.byte() != size:
                raise r.fail(f"{what} size mismatch in")
        r.byte()
        if r.number() != lc.LUAC_NUM:
            raise r.fail("float format mismatch in")


def load_image(data: bytes, target: Lua53Target, *, address: int) -> LoadedImage:
    """`luaU_undumpLFS` of `data` into an LFS region at flash address `address`.

    Raises ImageLoadError with the loader's message, e.g.
    "(null): lua_Integer size mismatch in precompiled chunk".
    """
    loader = _Loader(data, target, address)
    try:
        return loader.load()
    except RecursionError:  # functions nested deeper than any compiler makes them
        raise ImageLoadError("not enough memory") from None
    except LcFormatError as exc:
        if exc.reason == "not enough memory":
            raise ImageLoadError(exc.reason) from None
        raise ImageLoadError(f"{IMAGE_NAME}: {exc.reason} precompiled chunk") from None


erase_text = fl.erase_text
