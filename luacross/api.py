"""What the `luacross` command does, as functions a script can call.

`luacross.cli` only parses arguments, calls these and reports; everything here
raises `LuacrossError` subclasses and writes nothing to the terminal.
The flow mirrors `luac.c`'s `pmain`: load every input (source or `.lc`),
combine the mains, then list and/or write a `.lc` file or an LFS image.
"""

import os
import sys
import time
from collections.abc import Sequence

from lfs_format.errors import LcFormatError, LuacrossError
from lfs_format.lua51 import lc
from lfs_format.lua51.proto import Proto
from lfs_format.target import FLOAT, INT, Target
from luacross.output import OutputError, write_output, write_stdout  # noqa: F401 (API)

LUA_SIGNATURE = b"\x1bLua"
STDIN = None  # the input name luac.cross gives to `-`


class InputError(LuacrossError):
    """An input file that cannot be opened or read (luaL_loadfile's errfile)."""


class ChunkError(LuacrossError):
    """A precompiled input rejected as lundump rejects it."""


def target_for(integral: bool) -> Target:
    return INT if integral else FLOAT


def read_input(path: str | None) -> tuple[bytes, bytes]:
    """Read one input as luaL_loadfile does; return (chunk bytes, chunk name).

    A first line starting with `#` is replaced by an empty line (line numbers
    still count it). Only a named file is checked for a binary chunk after it.
    """
    if path is STDIN:
        data, chunkname = sys.stdin.buffer.read(), b"=stdin"
    else:
        try:
            with open(path, "rb") as source:
                data = source.read()
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            # fopen() succeeds on a directory; luaL_loadfile's first read then fails
            what = "read" if isinstance(exc, IsADirectoryError) else "open"
            raise InputError(f"cannot {what} {path}: {reason}") from None
        chunkname = b"@" + os.fsencode(path)
    if data.startswith(b"#"):
        newline = data.find(b"\n")
        rest = b"\n" if newline < 0 else data[newline:]
        if path is not STDIN and rest[1:2] == LUA_SIGNATURE[:1]:
            # luaL_loadfile reopens a binary file and skips to its first ESC
            return data[data.find(LUA_SIGNATURE[:1]) :], chunkname
        data = rest
    return data, chunkname


def load_chunk(data: bytes, chunkname: bytes, target: Target) -> Proto:
    """Compile source, or read a precompiled chunk (lua_load's choice by first byte)."""
    if data.startswith(LUA_SIGNATURE[:1]):
        return read_precompiled(data, chunkname, target)
    from luacross.lua51.parser import compile_source  # the compiler is only loaded when needed

    return compile_source(data, chunkname, target)


def read_precompiled(data: bytes, chunkname: bytes, target: Target) -> Proto:
    """Read a `.lc` input as the target's lundump does: its header is checked
    first, and an INT chunk loads into the float build (numbers converted)."""
    name = chunkname[1:] if chunkname[:1] in (b"@", b"=") else chunkname
    display = name.decode("utf-8", "surrogateescape")
    try:
        proto, _ = lc.read_chunk(data, target)
    except LcFormatError as exc:
        raise ChunkError(f"{display}: {exc.reason} in precompiled chunk") from None
    return proto


def compile_files(paths: Sequence[str | None], target: Target) -> list[Proto]:
    """Load every input in command-line order (`None` is stdin)."""
    return [load_chunk(*read_input(path), target) for path in paths]


def image_timestamp() -> int:
    """The lookup main's timestamp: SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            return int(epoch)
        except ValueError:
            raise LuacrossError(f"SOURCE_DATE_EPOCH is not an integer: {epoch!r}") from None
    return int(time.time())


def combine(protos: list[Proto], *, lookup: bool, target: Target) -> Proto:
    """The main function to dump: luac.c's `combine` (type 0, or type 1 lookup)."""
    from luacross.lua51.combine import build_lookup_main, combine_mains

    if lookup:
        return build_lookup_main(protos, image_timestamp(), target)
    return combine_mains(protos)


def list_chunk(main: Proto, *, full: bool, target: Target) -> bytes:
    """The `-l` (or with `full`, `-l -l`) listing of `main`, as the bytes luac.cross prints."""
    import io

    from luacross.lua51.listing import print_listing

    text = io.StringIO()
    print_listing(main, text, full=full, target=target)
    return text.getvalue().encode("latin-1")  # the listing writes one character per byte


def dump_lc(main: Proto, target: Target, *, strip: bool = False) -> bytes:
    """The `.lc` bytes of `main` for `target`."""
    return lc.dump_chunk(main, target, strip=strip)


class ImageResult:
    """A built LFS image: what to write, and the figures worth reporting."""

    __slots__ = ("data", "flash_size", "modules", "default_compressed_size", "strip_saved")

    def __init__(self, data: bytes, flash_size: int, modules: int) -> None:
        self.data = data  # the bytes to write: gzip (relocatable) or raw (absolute)
        self.flash_size = flash_size  # bytes of flash the image occupies ("Image size: N")
        self.modules = modules
        self.default_compressed_size: int | None = None  # uzlib's size, when --best ran
        self.strip_saved: int | None = None  # flash bytes --strip-image saved


def build_image(
    main: Proto,
    target: Target,
    *,
    address: int | None = None,
    best: bool = False,
    strip_image: bool = False,
) -> ImageResult:
    """Lay out `main` (a lookup main) as an LFS image; compress it unless absolute."""
    from lfs_format import compress
    from lfs_format.lua51 import image

    strip_saved = None
    if strip_image:
        strip_saved = image.strip_savings(main)
        main = image.strip_protos(main)
    flash = image.build_image(main, target, absolute_addr=address)
    result = ImageResult(b"", flash.flash_size, len(main.protos))
    result.strip_saved = strip_saved
    if address is not None:
        result.data = flash.absolute_image()
        return result
    payload = flash.relocatable_payload()
    result.data = compress.uzlib_compress(payload)
    if best:
        result.default_compressed_size = len(result.data)
        result.data = compress.best_compress(payload)
    return result
