"""Build targets: which flavour of Lua 5.1 a chunk or image is for.

Mirrors NodeMCU's `DumpTargetInfo` (app/lua/lundump.h): the float build stores
numbers as IEEE doubles, the integer build (`LUA_NUMBER_INTEGRAL`) as int32.
`HOST` is stock Lua 5.1 on a 64-bit host (lupa, luac5.1): 8-byte size_t,
one int of line info per instruction, local and upvalue names kept.
"""

from collections import namedtuple

# Models on the compile path are namedtuples or plain slotted classes, not
# dataclasses: importing `dataclasses` (and `inspect` with it) costs more than
# a third of a small file's compile time, and luacross runs once per file.


LUA51_RELEASE = "Lua 5.1.4  Copyright (C) 1994-2011 Lua.org, PUC-Rio"  # LUA_RELEASE, LUA_COPYRIGHT
LUA53_RELEASE = "Lua 5.3.6  Copyright (C) 1994-2020 Lua.org, PUC-Rio"  # app/lua53 LUA_COPYRIGHT
LUA535_RELEASE = "Lua 5.3.5  Copyright (C) 1994-2018 Lua.org, PUC-Rio"  # dev-esp32 lua-5.3

ESP8266_IROM0 = 0x40210000  # the flash address of physical offset 0 on the ESP8266


class Target(
    namedtuple(
        "Target",
        "name integral number_size sizet_size packed_lineinfo chip version "
        "image_strip rostrt_margin image_size_report address_window execute_passes_name "
        "max_size_error",
        defaults=(
            "esp8266",
            LUA51_RELEASE,
            False,
            False,
            False,
            (ESP8266_IROM0, 0x00100000),
            False,
            "'-e' maximum size must be a multiple of 4,096",
        ),
    )
):
    """name; integral: lua_Number is an integer type; number_size: sizeof(lua_Number)
    in a dump; sizet_size: sizeof(size_t) in a dump header (NodeMCU: 4);
    packed_lineinfo: NodeMCU packed line info, else an int per pc.

    The firmware build's image writer (`lflashimg.c`, `luac.c`): chip (the
    firmware it is for); version (what `-v` prints); image_strip: `-s` strips
    the debug information of image functions; rostrt_margin: the read-only
    string table has `2 << log2(1.3 * n)` buckets, else `2 << log2(n)`;
    image_size_report: `Flash image size: N bytes (...)`, else `Image size: N`;
    address_window: (start, span) that `-a ADDR - start` must fall in, or None;
    execute_passes_name: `-e FILE` calls the script with FILE as its argument;
    max_size_error: luac.c's usage message for a `-m` that is not a page multiple."""

    __slots__ = ()

    core = "luacross.lua51.core"  # the module that compiles, lists and dumps for it


FLOAT = Target("float", integral=False, number_size=8, sizet_size=4, packed_lineinfo=True)
INT = Target("int", integral=True, number_size=4, sizet_size=4, packed_lineinfo=True)
HOST = Target("host", integral=False, number_size=8, sizet_size=8, packed_lineinfo=False)
# dev-esp32 components/lua/lua-5.1 (XLUA_OPT_STR in luaconf.h)
_ESP32_51 = dict(
    sizet_size=4, packed_lineinfo=True, chip="esp32", image_strip=True,
    rostrt_margin=True, image_size_report=True, address_window=None, execute_passes_name=True,
)  # fmt: skip
ESP32_FLOAT = Target(
    "esp32-float", integral=False, number_size=8, version=LUA51_RELEASE + " [5.1-doublefp]",
    **_ESP32_51,
)  # fmt: skip
ESP32_INT = Target(
    "esp32-int", integral=True, number_size=4, version=LUA51_RELEASE + " [5.1-integral]",
    **_ESP32_51,
)  # fmt: skip


class Lua53Target:
    """A build of NodeMCU's Lua 5.3 core (app/lua53 `luaconf.h`): `int_size` is
    sizeof(lua_Integer), `float_size` sizeof(lua_Number), 4 or 8 each. The
    default build has 32-bit integers and C floats; `LUA_NUMBER_64BITS` has
    `long long` and doubles.

    The firmware's loader and luac.c: chip; version (`-v`); flash_sig_bits
    (FLASH_SIG_B1|B2 of the ESP32 builds: +1 int64, +2 double); erase_report:
    `-F -a` prints the erase dots (the ESP8266 build); address_window:
    (start, span) that `-a ADDR - start` must fall in (excluding 0), or None;
    max_size_error: luac.c's usage message for a `-m` that is not a page multiple."""

    __slots__ = (
        "name", "int_size", "float_size", "chip", "version", "flash_sig_bits",
        "erase_report", "address_window", "max_size_error",
    )  # fmt: skip

    core = "luacross.lua53.core"  # the module that compiles, lists and dumps for it

    def __init__(
        self,
        name: str,
        int_size: int,
        float_size: int,
        *,
        chip: str = "esp8266",
        version: str = LUA53_RELEASE,
        flash_sig_bits: int = 0,
        erase_report: bool = True,
        address_window: tuple[int, int] | None = (0x40200000, 0x00100000),
        max_size_error: str = '"-e" maximum size must be a multiple of 4,096',
    ) -> None:
        self.name = name
        self.int_size = int_size
        self.float_size = float_size
        self.chip = chip
        self.version = version
        self.flash_sig_bits = flash_sig_bits
        self.erase_report = erase_report
        self.address_window = address_window
        self.max_size_error = max_size_error

    def __repr__(self) -> str:
        return f"Lua53Target({self.name!r})"


LUA53 = Lua53Target("lua53", int_size=4, float_size=4)
LUA53_64 = Lua53Target("lua53-64", int_size=8, float_size=8)


def _esp32_53(name: str, int_size: int, float_size: int) -> Lua53Target:
    """A dev-esp32 lua-5.3 build (Kconfig LUA_NUMBER_INT64 / LUA_NUMBER_DOUBLE)."""
    tag = f"5.3-int{8 * int_size}-{'double' if float_size == 8 else 'single'}fp"
    return Lua53Target(
        name, int_size, float_size, chip="esp32", version=f"{LUA535_RELEASE} [{tag}]",
        flash_sig_bits=(int_size == 8) | (float_size == 8) << 1, erase_report=False,
        address_window=None, max_size_error='"-m" maximum size must be a multiple of 4,096',
    )  # fmt: skip


ESP32_53 = _esp32_53("esp32-53", 4, 4)
ESP32_53_INT64 = _esp32_53("esp32-53-int64", 8, 4)
ESP32_53_DOUBLE = _esp32_53("esp32-53-double", 4, 8)
ESP32_53_64 = _esp32_53("esp32-53-64", 8, 8)

CHIPS = ("esp8266", "esp32")
# every build luacross compiles for: (chip, Lua version, number build) -> target;
# the number build is None for the default, "int" for 5.1's integer build
TARGETS: dict[tuple[str, str, str | None], "Target | Lua53Target"] = {
    ("esp8266", "5.1", None): FLOAT,
    ("esp8266", "5.1", "int"): INT,
    ("esp8266", "5.3", None): LUA53,
    ("esp8266", "5.3", "64"): LUA53_64,
    ("esp32", "5.1", None): ESP32_FLOAT,
    ("esp32", "5.1", "int"): ESP32_INT,
    ("esp32", "5.3", None): ESP32_53,
    ("esp32", "5.3", "int64"): ESP32_53_INT64,
    ("esp32", "5.3", "double"): ESP32_53_DOUBLE,
    ("esp32", "5.3", "64"): ESP32_53_64,
}
