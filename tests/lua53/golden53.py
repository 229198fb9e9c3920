"""The recorded 5.3 luac.cross runs in tests/golden53 (copied from ../shared/golden53)."""

import json
from functools import cache
from pathlib import Path

GOLDEN53 = Path(__file__).resolve().parent.parent / "golden53"
CORPUS53 = GOLDEN53 / "corpus"


@cache
def load_cases() -> list[dict]:
    return json.loads((GOLDEN53 / "cases.json").read_text())["cases"]


def single_file_cases(*categories: str) -> list[dict]:
    """Cases of `categories` that compile one .lua file (lc, strip, error)."""
    picked = []
    for case in load_cases():
        category = case["id"].split("/")[1]
        sources = [a for a in case["args"] if a.endswith(".lua")]
        if category in categories and len(sources) == 1:
            picked.append(case)
    return picked


def source_of(case: dict) -> str:
    (name,) = [a for a in case["args"] if a.endswith(".lua")]
    return name


def blob(sha256: str) -> bytes:
    return (GOLDEN53 / "blobs" / sha256).read_bytes()
