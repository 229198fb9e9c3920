"""Valid programs whose compilation breaks a `lua_assert` compile as luac.cross does.

luac.cross is a release build: `lua_assert` is compiled out, and it writes code
from whatever state it has. A generic `for` with more than three expressions
leaves the extra registers reserved (`adjust_assign(ls, 3, nexps, &e)`), so the
loop body's first statement starts above the active locals. Expected `.lc`
bytes and `-l -l` listings are the reference tools' outputs
(tests/data/release_build/README.md).
"""

import shutil
from pathlib import Path

import pytest

from golden import normalise_listing, run_cli

DATA = Path(__file__).resolve().parent / "data" / "release_build"
CASES = sorted(path.stem for path in DATA.glob("*.lua"))
BUILDS = {"float": ([], ""), "int": (["--int"], ".int")}


@pytest.fixture
def staged(tmp_path, monkeypatch):
    """Run in a folder holding the case, so the chunk name is the reference's."""
    monkeypatch.chdir(tmp_path)

    def stage(name: str) -> str:
        shutil.copyfile(DATA / f"{name}.lua", tmp_path / f"{name}.lua")
        return f"{name}.lua"

    return stage


def test_cases_are_present():
    assert len(CASES) >= 9


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("name", CASES)
def test_lc_bytes_match_reference(staged, name, build):
    flags, suffix = BUILDS[build]
    source = staged(name)
    run = run_cli([*flags, "-o", "out.lc", source])
    assert (run.status, run.stderr) == (0, b"")
    assert Path("out.lc").read_bytes() == (DATA / f"{name}{suffix}.lc").read_bytes()


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("name", CASES)
def test_listing_matches_reference(staged, name, build):
    flags, suffix = BUILDS[build]
    run = run_cli([*flags, "-l", "-l", "-p", staged(name)])
    assert (run.status, run.stderr) == (0, b"")
    expected = (DATA / f"{name}{suffix}.lst").read_text("latin-1")
    assert normalise_listing(run.stdout.decode("latin-1")) == expected
