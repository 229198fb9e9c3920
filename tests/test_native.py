"""The compiled build and the pure-Python one: same outputs, and each says which it is.

`make install` compiles the hot modules with mypyc where it can
(lfs_format/native.py); LUACROSS_PURE=1 runs their `.py` sources instead.
`make test` runs the whole suite both ways; this checks one process of each
against the other on the same inputs.
"""

import os
import subprocess
import sys

import pytest

from golden import REPO

LUACROSS = [sys.executable, "-m", "luacross"]
FIXTURES = sorted(str(p) for p in (REPO / "fixtures").glob("*.lua"))
LUA53_SOURCE = REPO / "tests" / "lua53"


def _run(args: list[str], pure: bool, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1704067200")
    env.pop("LUACROSS_PURE", None)
    if pure:
        env["LUACROSS_PURE"] = "1"
    return subprocess.run(LUACROSS + args, cwd=cwd, env=env, capture_output=True, check=True)


def test_pure_switch_is_reported(tmp_path):
    assert _run(["--version"], True, tmp_path).stdout.decode().endswith("; pure Python)\n")
    text = _run(["--version"], False, tmp_path).stdout.decode()
    assert text.startswith("luacross ") and "Lua 5.1, Lua 5.3" in text


@pytest.mark.parametrize(
    "args",
    [
        ["-l", "-o", "out"],
        ["-f", "-o", "out"],
        ["-f", "--best", "-o", "out"],
        ["--lua", "5.3", "-l", "-o", "out"],
        ["--lua", "5.3", "--numbers", "64", "-o", "out"],
    ],
    ids=["lc-listing", "image", "best", "lua53", "lua53-64"],
)
def test_compiled_and_pure_outputs_are_identical(args, tmp_path):
    outputs = []
    for pure in (False, True):
        work = tmp_path / ("pure" if pure else "compiled")
        work.mkdir()
        done = _run(args + FIXTURES, pure, work)
        outputs.append((done.stdout, done.stderr, (work / "out").read_bytes()))
    assert outputs[0] == outputs[1]
