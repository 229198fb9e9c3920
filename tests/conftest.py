"""Session-wide test settings."""

import sys

# Deeply nested Lua (up to the 200 syntax levels Lua allows) recurses deeply in the
# parser; set the limit once, before hypothesis records it, rather than per test.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


def pytest_report_header(config):
    from luacross import version_text

    return version_text()


def pytest_sessionstart(session):
    """Refuse to test a compiled module older than its source (run `make install`)."""
    from importlib.util import find_spec
    from pathlib import Path

    import pytest

    from lfs_format.native import HOT_MODULES

    # a module's extension is a shim, rebuilt only with the library they share
    repo = Path(__file__).resolve().parent.parent
    libraries = [p.stat().st_mtime for p in repo.glob("*__mypyc.*")]
    for name in HOT_MODULES:
        origin = find_spec(name).origin
        if origin and not origin.endswith(".py"):
            source = Path(origin).with_name(name.rpartition(".")[2] + ".py")
            if source.stat().st_mtime > max([Path(origin).stat().st_mtime, *libraries]):
                pytest.exit(f"{origin} is older than {source.name}: run `make install`", 1)
