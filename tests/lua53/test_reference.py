"""The 5.3 compiler against NodeMCU's luac.cross on snippets and generated programs
(tests/lua53/data/reference.json: recorded `.lc` bytes or error messages of the
reference, default and LUA_NUMBER_64BITS builds).

The snippets cover what the corpus does not: numerals at the float/integer and
float32 rounding edges, folding in the target's types, the line info rewind,
constant-cache sharing between functions, goto scoping, and every limit.
"""

import hashlib
import json
from pathlib import Path

import pytest

from lfs_format.lua53.lc import dump_lc
from lfs_format.target import LUA53, LUA53_64
from luacross.lua53.core import loadfile_stream
from luacross.lua53.lexer import LuaSyntaxError
from luacross.lua53.parser import compile_source

DATA = Path(__file__).resolve().parent / "data" / "reference.json"
CASES = json.loads(DATA.read_text())["cases"]
TARGETS = {"lua53": LUA53, "lua53-64": LUA53_64}
PARAMS = [(case, variant) for case in CASES for variant in TARGETS]


@pytest.mark.parametrize(
    ("case", "variant"), PARAMS, ids=[f"{variant}/{c['name']}" for c, variant in PARAMS]
)
def test_matches_reference(case: dict, variant: str) -> None:
    source = loadfile_stream(case["source"].encode("latin-1"), named=True)
    chunkname = b"@" + case["name"].split("/")[-1].encode() + b".lua"
    expect = case["expect"][variant]
    target = TARGETS[variant]
    if "error" in expect:
        with pytest.raises(LuaSyntaxError) as info:
            compile_source(source, chunkname, target)
        assert str(info.value) == expect["error"]
        return
    data = dump_lc(compile_source(source, chunkname, target), target, strip=False)
    if "lc" in expect:
        assert data.hex() == expect["lc"]
    else:
        assert hashlib.sha256(data).hexdigest() == expect["sha256"]
