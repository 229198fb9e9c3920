"""luacross: a Python replacement for NodeMCU's luac.cross (Lua 5.1 and 5.3)."""

import lfs_format  # noqa: F401 - honours LUACROSS_PURE before any compiler module loads

__version__ = "0.1.0"
LUA_VERSIONS = ("5.1", "5.3")  # the NodeMCU Lua cores luacross compiles for


def version_text() -> str:
    """What `luacross --version` prints: the version, the targets and the build."""
    from lfs_format.native import is_compiled

    build = "compiled with mypyc" if is_compiled() else "pure Python"
    targets = ", ".join(f"Lua {v}" for v in LUA_VERSIONS)
    return f"luacross {__version__} (NodeMCU {targets}; {build})"
