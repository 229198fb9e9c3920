"""NodeMCU's Lua 5.1 core as `luacross.api` drives it (`Target.core`).

Every core module offers the same small set: `DEFAULT_OUTPUT`, `LUAC_OPTIONS`,
`DASH_OUTPUT_NAMES`, `check_options`, `load_inputs`, `combine`, `module_name`, `list_chunk`,
`dump_lc` and `build_image`; the API picks the module once, from the target.
This one follows app/lua/luac_cross/luac.c over the 5.1 compiler
(`luacross.parser`, `luacross.combine`, `luacross.listing`) and formats
(`lfs_format.lc`, `lfs_format.image`).
"""

from __future__ import annotations

from lfs_format.errors import LcFormatError, LuacrossError

# `luacross -v` needs only this module's constants: the formats and the compiler
# are imported where they are used (annotations are not evaluated)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lfs_format.lua51.proto import Proto
    from lfs_format.target import Target
    from luacross.api import ImageResult

DEFAULT_OUTPUT = "luac.out"
LUAC_OPTIONS: frozenset[str] = frozenset()  # luac.c options beyond those both cores share
DASH_OUTPUT_NAMES = True  # `-o -x` writes a file named "-x"
ADDRESS_ERROR = "'-e' absolute address must be valid flash address"


def address_ok(address: int, target: Target) -> bool:
    """Whether `-a ADDR` names a flash address the target's luac.c accepts:
    ADDR - start in [0, span] of its `address_window` (ESP8266: the irom0
    segment); any address when it has none (ESP32)."""
    if target.address_window is None:
        return True
    start, span = target.address_window
    return (address - start) & 0xFFFFFFFF <= span


def image_size_line(flash_size: int, max_size: int, target: Target) -> bytes | None:
    """What lflashimg.c prints once the image is laid out: `Image size: N`, or
    with the ESP32 build's report the size in kiB and as a share of `max_size`."""
    if not target.image_size_report:
        return f"Image size: {flash_size}\n".encode()
    return (
        f"Flash image size: {flash_size} bytes ({flash_size / 1024.0:.2f}kiB, "
        f"{flash_size / max_size * 100.0:.1f}% of available size of {max_size >> 10}kiB)\n"
    ).encode()


def default_max_size(*, absolute: bool) -> int | None:
    """The size gate without `-m`: luac.c's default LFS size."""
    return 0x40000


def check_options(
    *,
    absolute: bool,
    execute: bool,
    lfs_image: str | None = None,
    files: int = 0,
    to_stdout: bool = False,
) -> None:
    """Everything the shared options ask for is supported (`-a`, `-e`); 5.1 has no `-F`."""


def load_chunk(data: bytes, chunkname: bytes, target: Target) -> Proto:
    """Compile source, or read a precompiled chunk (lua_load's choice by first byte)."""
    if data.startswith(b"\x1b"):  # LUA_SIGNATURE[0]
        return read_precompiled(data, chunkname, target)
    from luacross.lua51.parser import compile_source  # the compiler is only loaded when needed

    try:
        return compile_source(data, chunkname, target)
    except LuacrossError:
        # luac.cross reports a lexer error for an image or gzip data given as a source;
        # luacross names what it got (README: differs on purpose)
        from lfs_format.sniff import refuse_non_source

        refuse_non_source(chunkname, data)
        raise


def read_precompiled(data: bytes, chunkname: bytes, target: Target) -> Proto:
    """Read a `.lc` input as the target's lundump does: its header is checked
    first, and an INT chunk loads into the float build (numbers converted)."""
    from lfs_format.lua51 import lc
    from luacross.api import ChunkError

    name = chunkname[1:] if chunkname[:1] in (b"@", b"=") else chunkname
    display = name.decode("utf-8", "surrogateescape")
    try:
        proto, _ = lc.read_chunk(data, target)
    except LcFormatError as exc:
        raise ChunkError(f"{display}: {exc.reason} in precompiled chunk") from None
    return proto


def load_inputs(
    paths: Sequence[str | None],
    target: Target,
    on_input: Callable[[str | None], None] | None = None,
) -> list[Proto]:
    """Load every input in command-line order (`None` is stdin); `on_input(path)`
    is called as each one starts."""
    from luacross.api import read_input

    protos = []
    for path in paths:
        if on_input is not None:
            on_input(path)
        protos.append(load_chunk(*read_input(path), target))
    return protos


def combine(protos: list[Proto], *, lookup: bool, timestamp: int, target: Target) -> Proto:
    """luac.c's `combine`: type 0, or type 1 (the lookup main, stamped `timestamp`)."""
    from luacross.lua51.combine import build_lookup_main, combine_mains

    if lookup:
        return build_lookup_main(protos, timestamp, target)
    return combine_mains(protos)


def module_name(chunkname: bytes) -> bytes:
    """The name a lookup main gives the module of `chunkname` (luac.c `corename`)."""
    from luacross.lua51.combine import corename

    return corename(chunkname)


def list_chunk(main: Proto, *, full: bool, target: Target) -> bytes:
    """The `-l` (or with `full`, `-l -l`) listing of `main`, as the bytes luac.cross prints."""
    import io

    from luacross.lua51.listing import print_listing

    text = io.StringIO()
    print_listing(main, text, full=full, target=target)
    return text.getvalue().encode("latin-1")  # the listing writes one character per byte


def dump_lc(main: Proto, target: Target, *, strip: bool = False) -> bytes:
    """The `.lc` bytes of `main` for `target`."""
    from lfs_format.lua51 import lc

    return lc.dump_chunk(main, target, strip=strip)


def build_image(
    main: Proto,
    target: Target,
    *,
    address: int | None = None,
    best: bool = False,
    strip_image: bool = False,
    seed: int | None = None,
    strip: bool = False,
) -> ImageResult:
    """Lay out `main` (a lookup main) as an LFS image; compress it unless absolute.
    5.1 images have no `seed`; `strip` (`-s`) strips the image's functions
    where the target's luac.cross does (ESP32), else it is ignored."""
    from lfs_format import compress
    from lfs_format.lua51 import image
    from luacross.api import ImageResult

    strip_saved = None
    if strip_image:
        strip_saved = image.strip_savings(main)
        main = image.strip_protos(main)
    elif strip and target.image_strip:
        main = image.strip_debug(main)
    flash = image.build_image(main, target, absolute_addr=address)
    result = ImageResult(b"", flash.flash_size, len(main.protos))
    result.strip_saved = strip_saved
    if address is not None:
        result.data = flash.absolute_image()
        return result
    payload = flash.relocatable_payload()
    if best:
        default, result.data = compress.compress_both(payload)
        result.default_compressed_size = len(default)
    else:
        result.data = compress.uzlib_compress(payload)
    return result
