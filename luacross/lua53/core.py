"""NodeMCU's Lua 5.3 core as `luacross.api` drives it (`Lua53Target.core`).

Every core module offers the same small set: `VERSION_TEXT`, `DEFAULT_OUTPUT`,
`LUAC_OPTIONS`, `DASH_OUTPUT_NAMES`, `check_options`, `load_inputs`, `combine`, `list_chunk`,
`dump_lc` and `build_image`; the API picks the module once, from the target.
This one follows app/lua53/host/luac.c (`pmain`, `combine`) and lauxlib.c's
`luaL_loadfilex` over the 5.3 compiler and format 10.
"""

from collections.abc import Sequence
from typing import NoReturn

from lfs_format.errors import LuacrossError
from lfs_format.lua53 import lc
from lfs_format.lua53.proto import Proto
from lfs_format.target import Lua53Target

VERSION_TEXT = "Lua 5.3.6  Copyright (C) 1994-2020 Lua.org, PUC-Rio"  # LUA_COPYRIGHT
DEFAULT_OUTPUT = "luac.cross.out"  # PROGNAME ".out"
LUAC_OPTIONS = frozenset({"-F"})  # luac.c options beyond those both cores share
DASH_OUTPUT_NAMES = False  # `-o -x` is a usage error ("'-o' needs argument")
UTF8_BOM = b"\xef\xbb\xbf"


class NotSupportedError(LuacrossError):
    """A luac.cross feature luacross does not offer for this core yet."""


IMAGES_NOT_SUPPORTED = "LFS images (-f, -a, -m) are not supported yet with --lua 5.3"


def check_options(*, absolute: bool, execute: bool) -> None:
    """Refuse what this core cannot do yet, before any input is read: `-a`
    (absolute images) and `-e`. `-f`/`-m` are refused by `build_image`, after
    the inputs are loaded (their errors come first, as in luac.cross)."""
    if absolute:
        raise NotSupportedError(IMAGES_NOT_SUPPORTED)
    if execute:
        raise NotSupportedError("-e (run a Lua file on the host) is not supported with --lua 5.3")


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

    return compile_source(stream, chunkname, target)


def load_inputs(paths: Sequence[str | None], target: Lua53Target) -> list[Proto]:
    """pmain's loop: every input in luac.c's order (`reorderfiles`); None is stdin."""
    from luacross.api import read_file
    from luacross.lua53.combine import STDIN_ARG, reorder_files

    args = [STDIN_ARG if path is None else path for path in paths]
    protos = []
    for path in reorder_files(args):
        data, chunkname = read_file(path)
        protos.append(load_chunk(loadfile_stream(data, named=path is not None), chunkname, target))
    return protos


def combine(protos: list[Proto], *, lookup: bool, timestamp: int, target: Lua53Target) -> Proto:
    """luac.c `combine` (see luacross.lua53.combine)."""
    from luacross.lua53.combine import combine as combine_mains

    return combine_mains(protos, lookup=lookup, timestamp=timestamp, target=target)


def list_chunk(main: Proto, *, full: bool, target: Lua53Target) -> bytes:
    """The `-l` (`full`: `-l -l`) listing of `main`."""
    from luacross.lua53.listing import list_chunk as listing

    return listing(main, full=full, target=target)


def dump_lc(main: Proto, target: Lua53Target, *, strip: bool = False) -> bytes:
    """The `.lc` (format 10) bytes of `main`; `strip` is `-s`."""
    return lc.dump_lc(main, target, strip=strip)


def build_image(main: Proto, target: Lua53Target, **options: object) -> NoReturn:
    """LFS images of the 5.3 core are not written yet."""
    raise NotSupportedError(IMAGES_NOT_SUPPORTED)
