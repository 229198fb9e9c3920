"""Module names of an LFS image or lookup main: `--name FILE=NAME`, and a warning
for two modules with the same name.

The lookup main (5.1 `build_lookup_main`, 5.3 `combine`) holds one name constant
per module, in module order, derived from each file's name (its base name up to
the first dot). `node.flashindex(name)` returns the first module of that name,
so a second module with the same name can never be reached; luac.cross 5.1 says
nothing about it (5.3 refuses names up to 40 bytes long).
"""

import os

from lfs_format.errors import LuacrossError


def _chunk_path(source: bytes | None) -> str | None:
    if source is None or source[:1] not in (b"@", b"="):
        return None
    return os.fsdecode(source[1:])


def same_file(given: str, path: str) -> bool:
    """Whether `--name`'s FILE is the input `path` (as typed, or the same path)."""
    return given == path or os.path.normpath(given) == os.path.normpath(path)


def chosen_name(path: str, names: list[str]) -> str | None:
    """The NAME the last `--name FILE=NAME` for input `path` chooses (None: none does)."""
    chosen = None
    for item in names:
        file, sep, name = item.partition("=")
        if sep and same_file(file, path):
            chosen = name
    return chosen


def apply_names(main, names: list[str], target, *, generated: int = 0) -> None:
    """Rename modules of the lookup `main` as `names` (FILE=NAME) ask, then warn
    (one line on stderr each) about names that occur twice. The last `generated`
    modules are luacross's own (`--resource`): no FILE names them."""
    from luacross.cli import CommandUsageError, notice

    modules = main.protos
    count = len(modules)
    paths = [_chunk_path(f.source) for f in modules[: count - generated]]
    paths += [None] * generated
    for item in names:
        path, sep, name = item.partition("=")
        if not sep or not path or not name:
            raise CommandUsageError(f"--name needs FILE=NAME, not '{item}'")
        matches = [
            i for i, known in enumerate(paths) if known is not None and same_file(path, known)
        ]
        if not matches:
            raise LuacrossError(f"--name {item}: {path} is not one of the input files")
        for i in matches:
            main.constants[i] = os.fsencode(name)
    if getattr(target, "integral", None) is None:
        return  # Lua 5.3: luac.cross refuses duplicate names itself
    seen: dict[bytes, int] = {}
    for i in range(count):
        name = main.constants[i]
        if not isinstance(name, bytes):
            continue
        if name in seen:
            first = paths[seen[name]] or "?"
            notice(
                f"warning: {paths[i] or '?'} and {first} both make module "
                f"'{name.decode('utf-8', 'surrogateescape')}'; only {first} can be "
                f"reached (--name FILE=NAME names a module)"
            )
        else:
            seen[name] = i
