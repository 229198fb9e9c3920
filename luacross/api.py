"""What the `luacross` command does, as functions a script can call.

`luacross.cli` only parses arguments, calls these and reports; everything here
raises `LuacrossError` subclasses and writes nothing to the terminal.
The flow mirrors `luac.c`'s `pmain`: load every input (source or `.lc`),
combine the mains, then list and/or write a `.lc` file or an LFS image.
"""

from __future__ import annotations

import os
import sys
import time
from importlib import import_module

from lfs_format.errors import LuacrossError
from lfs_format.target import CHIPS, TARGETS, Lua53Target, Target
from luacross.output import OutputError, write_output, write_stdout  # noqa: F401 (API)

TYPE_CHECKING = False  # typing is not imported for `luacross -v`
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType
    from typing import Any

LUA_SIGNATURE = b"\x1bLua"
STDIN = None  # the input name luac.cross gives to `-`


class InputError(LuacrossError):
    """An input file that cannot be opened or read (luaL_loadfile's errfile)."""


class ChunkError(LuacrossError):
    """A precompiled input rejected as lundump rejects it."""


LUA_VERSIONS = {"5.1": "5.1", "51": "5.1", "5.3": "5.3", "53": "5.3"}  # `--lua` spellings


def select_target(
    lua: str = "5.1", numbers: str | None = None, integral: bool = False, chip: str = "esp8266"
) -> Target | Lua53Target:
    """The build a command compiles for, from `--lua`, `--numbers`, `--int` and `--chip`.

    Lua 5.1: the float build, or with `integral` the integer build.
    Lua 5.3: 32-bit integers and floats, or with `numbers="64"` the
    LUA_NUMBER_64BITS build (64-bit integers, doubles); the ESP32 firmware
    also has `numbers="int64"` and `"double"` (one of the two 64-bit).
    Every build is one entry of `lfs_format.target.TARGETS`.
    """
    if chip not in CHIPS:
        raise LuacrossError(f"unknown chip '{chip}' (use --chip esp8266 or --chip esp32)")
    version = LUA_VERSIONS.get(lua)
    if version is None:
        raise LuacrossError(f"unknown Lua version '{lua}' (use --lua 5.1 or --lua 5.3)")
    if version == "5.1":
        if numbers is not None:
            raise LuacrossError("--numbers selects a Lua 5.3 build; use it with --lua 5.3")
        return TARGETS[chip, version, "int" if integral else None]
    if integral:
        raise LuacrossError("--int is the Lua 5.1 integer build; it cannot be used with --lua 5.3")
    build = None if numbers == "32" else numbers
    target = TARGETS.get((chip, version, build))
    if target is None:
        builds = sorted(key[2] for key in TARGETS if key[:2] == (chip, version) and key[2])
        names = ", ".join(f"--numbers {name}" for name in ["32", *builds])
        names = " or ".join(names.rsplit(", ", 1))
        raise LuacrossError(f"unknown number format '{numbers}' (use {names})")
    return target


def core_of(target: Target | Lua53Target) -> ModuleType:
    """The core module that serves `target` (`target.core`), imported on first use.

    Every core offers the same functions (`load_inputs`, `combine`, `module_name`,
    `list_chunk`, `dump_lc`, `build_image`, `check_options`) and constants
    (`DEFAULT_OUTPUT`, `LUAC_OPTIONS`, `DASH_OUTPUT_NAMES`); the `-v` text is
    the target's (`Target.version`).
    """
    return import_module(target.core)


def read_file(path: str | None) -> tuple[bytes, bytes]:
    """Read one input as luaL_loadfile opens it; return (its bytes, its chunk name).

    `None` is stdin (chunk name "=stdin"), a file is "@path". Failures are
    luaL_loadfile's "cannot open/read NAME: reason".
    """
    if path is STDIN:
        return sys.stdin.buffer.read(), b"=stdin"
    try:
        with open(path, "rb") as source:
            data = source.read()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        # fopen() succeeds on a directory; luaL_loadfile's first read then fails
        what = "read" if isinstance(exc, IsADirectoryError) else "open"
        raise InputError(f"cannot {what} {path}: {reason}") from None
    return data, b"@" + os.fsencode(path)


def read_input(path: str | None) -> tuple[bytes, bytes]:
    """Read one input as Lua 5.1's luaL_loadfile does; return (chunk bytes, chunk name).

    A first line starting with `#` is replaced by an empty line (line numbers
    still count it). Only a named file is checked for a binary chunk after it.
    """
    data, chunkname = read_file(path)
    if data.startswith(b"#"):
        newline = data.find(b"\n")
        rest = b"\n" if newline < 0 else data[newline:]
        if path is not STDIN and rest[1:2] == LUA_SIGNATURE[:1]:
            # luaL_loadfile reopens a binary file and skips to its first ESC
            return data[data.find(LUA_SIGNATURE[:1]) :], chunkname
        data = rest
    return data, chunkname


def compile_files(
    paths: Sequence[str | None],
    target: Target | Lua53Target,
    on_input: Callable[[str | None], None] | None = None,
) -> list[Any]:
    """Load every input (source or precompiled) in the order luac.cross loads them;
    `None` is stdin. `on_input(path)` is called as each input starts (progress)."""
    return core_of(target).load_inputs(paths, target, on_input)  # type: ignore[no-any-return]


def compile_resources(
    paths: Sequence[str],
    target: Target | Lua53Target,
    note: Callable[[str], None] | None = None,
) -> Any:
    """`--resource`: the module `resource` holding the files `paths` name (a directory:
    the files directly inside it), in the shape of the firmware's make_resource.lua
    (luacross.resources). `note(line)` hears what a directory held besides files."""
    from luacross.resources import compile_resources as compile_them

    return compile_them(paths, target, note or (lambda line: None))


MAX_TIMESTAMP = 0x7FFFFFFF  # a 32-bit time_t (the integer build and Lua 5.3 keep 32 bits)


def image_timestamp() -> int:
    """The lookup main's timestamp: SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            value = int(epoch)
        except ValueError:
            raise LuacrossError(f"SOURCE_DATE_EPOCH is not an integer: {epoch!r}") from None
        if not 0 <= value <= MAX_TIMESTAMP:
            raise LuacrossError(
                f"SOURCE_DATE_EPOCH {value} is outside the 32-bit range of an image's "
                f"timestamp (0 to {MAX_TIMESTAMP})"
            )
        return value
    return int(time.time())


def combine(protos: list[Any], *, lookup: bool, target: Target | Lua53Target) -> Any:
    """The main function to dump: luac.c's `combine` (type 0, or type 1 lookup)."""
    timestamp = image_timestamp() if lookup else 0
    return core_of(target).combine(protos, lookup=lookup, timestamp=timestamp, target=target)


def list_chunk(main: Any, *, full: bool, target: Target | Lua53Target) -> bytes:
    """The `-l` (or with `full`, `-l -l`) listing of `main`, as the bytes luac.cross prints."""
    return core_of(target).list_chunk(main, full=full, target=target)  # type: ignore[no-any-return]


def dump_lc(main: Any, target: Target | Lua53Target, *, strip: bool = False) -> bytes:
    """The `.lc` bytes of `main` for `target`."""
    return core_of(target).dump_lc(main, target, strip=strip)  # type: ignore[no-any-return]


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
    main: Any,
    target: Target | Lua53Target,
    *,
    address: int | None = None,
    best: bool = False,
    strip_image: bool = False,
    seed: int | None = None,
    strip: bool = False,
) -> ImageResult:
    """Lay out `main` (a lookup main) as an LFS image (compressed unless absolute
    for 5.1); `seed` is the 5.3 hash seed (None: derived from the inputs), `strip` `-s`."""
    return core_of(target).build_image(  # type: ignore[no-any-return]
        main, target, address=address, best=best, strip_image=strip_image, seed=seed, strip=strip
    )
