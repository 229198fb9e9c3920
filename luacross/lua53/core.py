"""NodeMCU's Lua 5.3 core as `luacross.api` drives it (`Lua53Target.core`).

Every core module offers the same small set: `DEFAULT_OUTPUT`, `LUAC_OPTIONS`,
`DASH_OUTPUT_NAMES`, `check_options`, `load_inputs`, `combine`, `module_name`, `list_chunk`,
`dump_lc` and `build_image`; the API picks the module once, from the target.
This one follows app/lua53/host/luac.c (`pmain`, `combine`) and lauxlib.c's
`luaL_loadfilex` over the 5.3 compiler and format 10.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lfs_format.errors import LuacrossError
from lfs_format.lua53 import lc
from lfs_format.lua53.proto import Proto
from lfs_format.target import Lua53Target

if TYPE_CHECKING:
    from luacross.api import ImageResult

DEFAULT_OUTPUT = "luac.cross.out"  # PROGNAME ".out"
LUAC_OPTIONS = frozenset({"-F"})  # luac.c options beyond those both cores share
DASH_OUTPUT_NAMES = False  # `-o -x` is a usage error ("'-o' needs argument")
UTF8_BOM = b"\xef\xbb\xbf"


class NotSupportedError(LuacrossError):
    """A luac.cross feature luacross does not offer for this core."""


ADDRESS_ERROR = '"-a" absolute address must be valid flash address'


def address_ok(address: int, target: Lua53Target) -> bool:
    """Whether `-a ADDR` names a flash address the target's luac.c accepts:
    ADDR - start in (0, span] of its `address_window`; any address when it
    has none (the ESP32 build, whose check is compiled out)."""
    if target.address_window is None:
        return True
    start, span = target.address_window
    offset = (address - start) & 0xFFFFFFFF
    return 0 < offset <= span


def image_size_line(flash_size: int, max_size: int, target: Lua53Target) -> None:
    """luac.c prints nothing for -f (5.1's prints "Image size: N")."""
    return None


def default_max_size(*, absolute: bool) -> int | None:
    """The size gate without `-m`: none for `-f` (luac.c 5.3 has none at all); an
    absolute image must fit the 256 KiB LFS region luac.cross loads it into (the C
    tool writes past that buffer). `-m` raises or lowers both."""
    from lfs_format.lua53.flash_image import LFS_SIZE

    return LFS_SIZE if absolute else None


def check_options(
    *,
    absolute: bool,
    execute: bool,
    lfs_image: str | None = None,
    files: int = 0,
    to_stdout: bool = False,
) -> None:
    """luac.c `doargs`' rule for `-a`: it needs `-o` (not stdout) and no `-e`;
    with `-F IMAGE` no source files (luacross also takes sources instead of -F,
    building the image itself). `-e` is not supported."""
    if execute:
        raise NotSupportedError("-e (run a Lua file on the host) is not supported with --lua 5.3")
    if absolute and (to_stdout or (lfs_image is not None) == (files > 0)):
        from luacross.cli import UsageError

        raise UsageError("'-a' also requires '-o' and '-f' options without lua source files")


def _skip_comment(data: bytes) -> tuple[bytes, bool, bytes]:
    """lauxlib.c `skipcomment`: (what the parser still gets of a partial BOM,
    whether a '#' first line was skipped, the stream from the first valid byte)."""
    matched = 0
    while matched < 3 and data[matched : matched + 1] == UTF8_BOM[matched : matched + 1]:
        matched += 1
    kept = b"" if matched == 3 else data[:matched]
    rest = data[matched:]
    if rest[:1] == b"#":
        newline = rest.find(b"\n")
        return kept, True, rest[newline + 1 :] if newline >= 0 else b""
    return kept, False, rest


def loadfile_stream(data: bytes, *, named: bool) -> bytes:
    """The bytes `luaL_loadfilex` hands to lua_load for a file's contents.

    A UTF-8 BOM is dropped and a '#' first line becomes a bare newline. When
    the first valid byte is ESC and the input is a named file (not stdin),
    the file is reopened in binary mode and read again from the BOM check,
    this time without the newline.
    """
    kept, comment, rest = _skip_comment(data)
    if named and rest[:1] == lc.LUA_SIGNATURE[:1]:
        return kept + rest
    return kept + (b"\n" if comment else b"") + rest


def load_chunk(stream: bytes, chunkname: bytes, target: Lua53Target) -> Proto:
    """lua_load: a precompiled chunk when the stream starts with ESC, else source."""
    if stream[:1] == lc.LUA_SIGNATURE[:1]:
        return lc.read_lc(stream, chunkname, target)
    from luacross.lua53.parser import compile_source  # loaded only when there is source

    try:
        return compile_source(stream, chunkname, target)
    except LuacrossError:
        # luac.cross reports a lexer error for an image or gzip data given as a source;
        # luacross names what it got (README: differs on purpose)
        from lfs_format.sniff import refuse_non_source

        refuse_non_source(chunkname, stream)
        raise


def load_inputs(
    paths: Sequence[str | None],
    target: Lua53Target,
    on_input: "Callable[[str | None], None] | None" = None,
) -> list[Proto]:
    """pmain's loop: every input in luac.c's order (`reorderfiles`); None is stdin.
    `on_input(path)` is called as each one starts."""
    from luacross.api import read_file
    from luacross.lua53.combine import STDIN_ARG, reorder_files

    args = [STDIN_ARG if path is None else path for path in paths]
    protos = []
    for path in reorder_files(args):
        if on_input is not None:
            on_input(path)
        data, chunkname = read_file(path)
        protos.append(load_chunk(loadfile_stream(data, named=path is not None), chunkname, target))
    return protos


def combine(protos: list[Proto], *, lookup: bool, timestamp: int, target: Lua53Target) -> Proto:
    """luac.c `combine` (see luacross.lua53.combine)."""
    from luacross.lua53.combine import combine as combine_mains

    return combine_mains(protos, lookup=lookup, timestamp=timestamp, target=target)


def module_name(chunkname: bytes) -> bytes:
    """The name a lookup main gives the module of `chunkname` (luac.c `corename`)."""
    from luacross.lua53.combine import corename

    return corename(chunkname)[0]


def list_chunk(main: Proto, *, full: bool, target: Lua53Target) -> bytes:
    """The `-l` (`full`: `-l -l`) listing of `main`."""
    from luacross.lua53.listing import list_chunk as listing

    return listing(main, full=full, target=target)


def dump_lc(main: Proto, target: Lua53Target, *, strip: bool = False) -> bytes:
    """The `.lc` (format 10) bytes of `main`; `strip` is `-s`."""
    return lc.dump_lc(main, target, strip=strip)


def build_image(
    main: Proto,
    target: Lua53Target,
    *,
    address: int | None = None,
    best: bool = False,
    strip_image: bool = False,
    seed: int | None = None,
    strip: bool = False,
) -> "ImageResult":
    """`luaU_DumpAllProtos`: the format-11 image of `main` (a lookup main),
    or with `address` the absolute image the firmware holds once it has
    loaded that image at `address`. `strip` is `-s`; `seed` the hash seed
    (None: derived from the image itself, see `derive_seed`).

    `flash_size` is what the image occupies in flash once loaded (the size
    `-m` checks). `best` and `strip_image` are 5.1 options without effect here.
    """
    from lfs_format.lua53 import image
    from lfs_format.lua53.loader import load_image
    from luacross.api import ImageResult

    if seed is None:
        seed = derive_seed(image.dump_image(main, target, seed=0, strip=strip))
    data = image.dump_image(main, target, seed=seed, strip=strip)
    base = DEFAULT_LOAD_ADDRESS if address is None else address
    loaded = load_image(data, target, address=base)
    result = ImageResult(data, len(loaded.flash), len(main.protos))
    if address is not None:
        result.data = loaded.flash
    return result


DEFAULT_LOAD_ADDRESS = 0x40210000  # where the flash size of a relocatable image is measured


def derive_seed(unseeded_image: bytes) -> int:
    """A seed fixed by the build inputs: the first 32 bits of the SHA-256 of the
    image written with seed 0 (the C tool uses the clock and memory addresses)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(unseeded_image).digest()[:4], "big")


def absolute_image(path: str, address: int, target: Lua53Target) -> "ImageResult":
    """`-F IMAGE -a ADDR`: what luac.cross prints while `luaN_init` erases the
    LFS region, and the flash image it writes once the image has loaded.

    A missing image is "cannot open NAME" (nothing printed); a bad one raises
    the loader's message, after the erase has been printed (as the tool does).
    """
    from lfs_format.lua53.loader import ImageLoadError, erase_text, load_image
    from luacross.api import ImageResult, write_stdout

    try:
        with open(path, "rb") as source:
            data = source.read()
    except OSError:
        raise LuacrossError(f"cannot open {path}") from None
    if target.erase_report:
        write_stdout(erase_text(address))
    try:
        loaded = load_image(data, target, address=address)
    except ImageLoadError as exc:
        raise LuacrossError(str(exc)) from None
    return ImageResult(loaded.flash, len(loaded.flash), len(loaded.names))
