"""Which build runs: the mypyc-compiled hot modules or pure Python.

`make install` (setup.py) compiles `HOT_MODULES` with mypyc where it can;
each compiled module is an extension next to its `.py` source, which Python
imports in preference to it. `LUACROSS_PURE=1` in the environment makes
luacross import the `.py` sources instead (`force_pure`, installed by both
packages' `__init__`), so one install can run, and be tested, both ways.
"""

import sys
from collections.abc import Sequence
from importlib.machinery import (
    BYTECODE_SUFFIXES,
    SOURCE_SUFFIXES,
    FileFinder,
    ModuleSpec,
    SourceFileLoader,
    SourcelessFileLoader,
)
from types import ModuleType

# The compile path: both cores' lexer, parser and code generator, their line
# info packers, and the image compressor. Only these are compiled: each adds
# seconds to the first `make install`, and the rest is start-up or I/O bound.
HOT_MODULES = (
    "luacross.lua51.lexer",
    "luacross.lua51.parser",
    "luacross.lua51.codegen",
    "lfs_format.lua51.lineinfo",
    "luacross.lua53.lexer",
    "luacross.lua53.parser",
    "luacross.lua53.codegen",
    "lfs_format.lua53.lineinfo",
    "lfs_format.compress",
)

_LOADERS = ((SourceFileLoader, SOURCE_SUFFIXES), (SourcelessFileLoader, BYTECODE_SUFFIXES))


class PureFinder:
    """A meta path finder that imports the hot modules from their sources."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name not in HOT_MODULES or not path:
            return None
        for entry in path:
            spec = FileFinder(entry, *_LOADERS).find_spec(name)
            if spec is not None:
                return spec
        return None


_PURE_FINDER = PureFinder()


def force_pure() -> None:
    """Import the hot modules from their `.py` sources from now on."""
    if _PURE_FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _PURE_FINDER)


def is_compiled() -> bool:
    """Whether the compiler modules that run are the mypyc-compiled ones."""
    from importlib.util import find_spec

    spec = find_spec(HOT_MODULES[0])
    origin = spec.origin if spec is not None else None
    return origin is not None and not origin.endswith(".py")
