"""Build hook: compile the compiler's hot modules with mypyc, else stay pure Python.

Everything else about the package is in pyproject.toml. Like black, luacross
ships the same code either way: where mypyc or a C compiler is missing, where
compiling fails, or with LUACROSS_PURE=1, the install goes on with the plain
`.py` modules (`luacross --version` says which build runs).
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lfs_format.native import HOT_MODULES  # noqa: E402 - the package's own list

HOT_SOURCES = [name.replace(".", "/") + ".py" for name in HOT_MODULES]


def warn(message: str) -> None:
    print(f"luacross setup: {message}; installing pure Python", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that gives up cleanly: a failed compile never fails the install.

    The compiled modules share one library, so it is all or nothing: after any
    failure every extension already built is removed again.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure means "pure"
            self.remove_built()
            warn(f"compiling with mypyc failed ({exc})")

    def remove_built(self) -> None:
        inplace = self.inplace
        for self.inplace in (False, True):
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
        self.inplace = inplace


def ext_modules() -> list:
    if os.environ.get("LUACROSS_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify

        return mypycify(HOT_SOURCES, opt_level="3", debug_level="0")
    except BaseException as exc:  # noqa: BLE001 - mypy missing, or it rejects the code
        warn(f"mypyc is not available or failed ({exc!r})")
        return []


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
