"""`--resource PATH`: files (HTML, CSS, JSON, images, ...) as one LFS module, `resource`.

The module has the shape of the firmware's `lua_modules/file_lfs/make_resource.lua`
(docs/lua-modules/file_lfs.md), so `node.LFS.resource(name)` and the firmware's
`file_lfs` module read it unchanged:

    local arg = ...
    if arg == "index.html" then return "<!DOCTYPE html>..." end
    if arg == nil then return {"index.html",} end

A file is found by its base name. The Lua source is written with escapes both
Lua 5.1 and 5.3 read alike (`\\"`, `\\\\`, `\\n`, three-digit decimal escapes
for every other byte outside printable ASCII), so any bytes come back exactly,
and it is compiled by the chosen core like any other input, as `resource.lua`
(chunk name `@resource.lua`): the image is the one luac.cross makes of that file.
"""

import os
import stat
from collections.abc import Callable, Sequence

from lfs_format.errors import LuacrossError

MODULE = "resource"  # the module name file_lfs looks for
CHUNKNAME = b"@resource.lua"  # as if compiled from make_resource.lua's resource.lua


class ResourceError(LuacrossError):
    """A --resource that cannot be read, or two resources of the same name."""


def _open_error(path: str, exc: OSError) -> ResourceError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return ResourceError(f"cannot open {path}: {reason}")


def collect(paths: Sequence[str], note: Callable[[str], None]) -> list[tuple[bytes, str]]:
    """The files `paths` name, as (resource name, path), in order.

    A file is itself; a directory gives the regular files directly inside it
    (symbolic links to files count), sorted by name. What a directory holds
    besides (subdirectories, other kinds of entries) is skipped, said in one
    `note` line per directory. Two resources with the same base name are an error.
    """
    found: list[tuple[bytes, str]] = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise _open_error(path, exc) from None
        if not stat.S_ISDIR(mode):
            found.append((os.fsencode(os.path.basename(path.rstrip("/")) or path), path))
            continue
        try:
            names = sorted(os.listdir(path), key=os.fsencode)
        except OSError as exc:
            raise _open_error(path, exc) from None
        skipped: list[str] = []
        files = 0
        for name in names:
            full = os.path.join(path, name)
            try:
                regular = stat.S_ISREG(os.stat(full).st_mode)
            except OSError:
                regular = False  # a dangling link: not a file
            if regular:
                found.append((os.fsencode(name), full))
                files += 1
            elif os.path.isdir(full):
                skipped.append(f"{name}/")
            else:
                skipped.append(f"{name} (not a regular file)")
        if skipped:
            note(
                f"note: --resource {path}: skipped {', '.join(skipped)} "
                f"(only the files directly in a directory are resources)"
            )
        elif not files:
            note(f"note: --resource {path}: no files in it")
    seen: dict[bytes, str] = {}
    for name, path in found:
        if name in seen:
            shown = name.decode("utf-8", "surrogateescape")
            if os.path.normpath(seen[name]) == os.path.normpath(path):
                raise ResourceError(f"--resource: {path} is given twice")
            raise ResourceError(
                f"--resource: {seen[name]} and {path} are both resource '{shown}' "
                f"(a resource is found by its base name)"
            )
        seen[name] = path
    return found


def _escape_table() -> list[bytes]:
    table = [b"\\%03d" % byte for byte in range(256)]
    for byte in range(0x20, 0x7F):
        table[byte] = bytes([byte])
    table[ord('"')] = b'\\"'
    table[ord("\\")] = b"\\\\"
    table[ord("\n")] = b"\\n"
    return table


_ESCAPES = _escape_table()


def quote(data: bytes) -> bytes:
    """`data` as a double-quoted Lua string literal that reads back as exactly `data`
    in Lua 5.1 and 5.3 (three-digit decimal escapes cannot swallow a following digit)."""
    escapes = _ESCAPES
    return b'"' + b"".join([escapes[byte] for byte in data]) + b'"'


def lua_source(resources: Sequence[tuple[bytes, bytes]]) -> bytes:
    """make_resource.lua's `resource.lua` for (name, contents) pairs."""
    parts = [b"local arg = ...\n"]
    for name, contents in resources:
        parts.append(b"if arg == %s then return %s end\n\n" % (quote(name), quote(contents)))
    names = b"".join(quote(name) + b"," for name, _ in resources)
    parts.append(b"if arg == nil then return {%s} end\n" % names)
    return b"".join(parts)


def read_resources(files: Sequence[tuple[bytes, str]]) -> list[tuple[bytes, bytes]]:
    """The contents of every (name, path) of `collect`."""
    contents = []
    for name, path in files:
        try:
            with open(path, "rb") as stream:
                contents.append((name, stream.read()))
        except OSError as exc:
            raise _open_error(path, exc) from None
    return contents


def check_inputs(inputs: Sequence[str | None], names: list[str], target: object) -> None:
    """No input may be module `resource` too: the image could hold only one of them.
    Its module name is `--name`'s, else the one the target's core gives its file."""
    from luacross import api
    from luacross.names import chosen_name

    core = api.core_of(target)  # type: ignore[arg-type]
    for path in inputs:
        if path is None:
            continue
        name = chosen_name(path, names)
        if name is None:
            name = os.fsdecode(core.module_name(b"@" + os.fsencode(path)))
        if name == MODULE:
            raise ResourceError(
                f"{path} is module '{MODULE}', which --resource makes; "
                f"drop one of them (or rename it: --name {path}=NAME)"
            )


def compile_files(files: Sequence[tuple[bytes, str]], target: object) -> object:
    """The `resource` module's main function for the (name, path) files of `collect`,
    compiled for `target` by its core like any other input."""
    from luacross import api

    source = lua_source(read_resources(files))
    core = api.core_of(target)  # type: ignore[arg-type]
    return core.load_chunk(source, CHUNKNAME, target)


def compile_resources(paths: Sequence[str], target: object, note: Callable[[str], None]) -> object:
    """`collect`, then `compile_files`."""
    return compile_files(collect(paths, note), target)
