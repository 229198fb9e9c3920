"""The recorded runs of NodeMCU's Lua 5.3 luac.cross, copied into tests/golden53/.

`cases.json` and `blobs/` are ../shared/golden53's; `corpus/` is
../shared/corpus53 (the cases' `corpus` field still names the shared copy).
"""

import hashlib
import json
import re
from functools import cache
from pathlib import Path

from lfs_format.target import LUA53, LUA53_64, Lua53Target

GOLDEN53 = Path(__file__).resolve().parent.parent / "golden53"
CORPUS53 = GOLDEN53 / "corpus"
CORPUS = CORPUS53
BLOBS = GOLDEN53 / "blobs"
TARGETS = {"lua53": LUA53, "lua53-64": LUA53_64}
VARIANT_FLAGS = {"lua53": ["--lua", "5.3"], "lua53-64": ["--lua", "5.3", "--numbers", "64"]}

_ADDRESS = re.compile(r"0x[0-9a-f]{6,16}")
_PROGNAME = re.compile(r"^[\w.\-/]*luac?\.?cross[\w.\-]*: ", re.M)


@cache
def _recording() -> dict:
    return json.loads((GOLDEN53 / "cases.json").read_text())


def load_cases() -> list[dict]:
    return _recording()["cases"]


def cases(category: str = "") -> list[dict]:
    """Every case, or those of one category (`lc`, `list`, ...)."""
    return [c for c in load_cases() if not category or c["id"].split("/")[1] == category]


def single_file_cases(*categories: str) -> list[dict]:
    """Cases of `categories` that compile one .lua file (lc, strip, error)."""
    picked = []
    for case in load_cases():
        category = case["id"].split("/")[1]
        sources = [a for a in case["args"] if a.endswith(".lua")]
        if category in categories and len(sources) == 1:
            picked.append(case)
    return picked


def case(case_id: str) -> dict:
    (found,) = [c for c in load_cases() if c["id"] == case_id]
    return found


def target(case: dict) -> Lua53Target:
    return TARGETS[case["variant"]]


def epoch() -> int:
    return _recording()["epoch"]


def blob(sha256: str) -> bytes:
    return (BLOBS / sha256).read_bytes()


def output_files(case: dict) -> dict[str, bytes | None]:
    """The files a case wrote; None for the few kept as hashes only."""
    files: dict[str, bytes | None] = {}
    for name, meta in case["expect"]["files"].items():
        path = BLOBS / meta["sha256"]
        files[name] = path.read_bytes() if path.exists() else None
    return files


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_of(case: dict) -> str:
    """The one corpus file a single-file case compiles."""
    (name,) = [a for a in case["args"] if a.endswith(".lua")]
    return name


def lc_of(variant: str, source: str) -> bytes | None:
    """The `.lc` the reference wrote for `source` (its `lc` case), if recorded."""
    for c in cases("lc"):
        if c["variant"] == variant and source_of(c) == source:
            (data,) = output_files(c).values()
            return data
    return None


def normalise_stdout(text: str) -> str:
    return _ADDRESS.sub("0x?", text)


def normalise_stderr(text: str) -> str:
    return _PROGNAME.sub("PROG: ", text)
