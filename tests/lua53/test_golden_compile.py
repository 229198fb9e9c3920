"""The 5.3 compiler against the recorded luac.cross runs: `.lc` bytes (plain and
`-s`) and compile error messages, both builds (tests/golden53)."""

import hashlib

import pytest

from lfs_format.lua53.lc import dump_lc
from lfs_format.target import LUA53, LUA53_64
from lua53.golden53 import CORPUS53, single_file_cases, source_of
from luacross.lua53.core import loadfile_stream
from luacross.lua53.lexer import LuaSyntaxError
from luacross.lua53.parser import compile_source

TARGETS = {"lua53": LUA53, "lua53-64": LUA53_64}


def _compile(case: dict):
    name = source_of(case)
    source = loadfile_stream((CORPUS53 / name).read_bytes(), named=True)
    return compile_source(source, b"@" + name.encode(), TARGETS[case["variant"]])


@pytest.mark.parametrize("case", single_file_cases("lc", "strip"), ids=lambda c: c["id"])
def test_lc_bytes(case: dict) -> None:
    proto = _compile(case)
    data = dump_lc(proto, TARGETS[case["variant"]], strip="-s" in case["args"])
    (meta,) = case["expect"]["files"].values()
    assert hashlib.sha256(data).hexdigest() == meta["sha256"]


@pytest.mark.parametrize("case", single_file_cases("error"), ids=lambda c: c["id"])
def test_error_message(case: dict) -> None:
    with pytest.raises(LuaSyntaxError) as info:
        _compile(case)
    assert f"PROG: {info.value}\n" == case["expect"]["stderr"]
