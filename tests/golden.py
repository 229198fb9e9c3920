"""Access to the recorded luac.cross runs in tests/golden (ground truth, kept in the
repository; `scripts/refresh-test-data.py` copies it from the project's shared folder)."""

import hashlib
import io
import json
import re
import shutil
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
CORPUS = GOLDEN / "corpus"
BLOBS = GOLDEN / "blobs"

_ADDRESS = re.compile(r"0x[0-9a-f]{6,16}")
_PROGNAME = re.compile(r"^[\w.\-/]*luac?\.?cross[\w.\-]*: ", re.M)


@cache
def load_cases() -> dict:
    return json.loads((GOLDEN / "cases.json").read_text())


def cases(prefix: str = "") -> list[dict]:
    return [case for case in load_cases()["cases"] if case["id"].startswith(prefix)]


def paired_cases(category: str, other: str) -> list[tuple[dict, dict]]:
    """Successful `category` cases, each with the successful `other` case of the
    same variant and name (e.g. a listing and the `.lc` of the same file)."""
    by_id = {case["id"]: case for case in cases()}
    pairs = []
    for case in cases():
        variant, case_category, name = (case["id"].split("/", 2) + [""])[:3]
        if case_category != category or case["expect"]["exit"] != 0:
            continue
        partner = by_id.get(f"{variant}/{other}/{name}")
        if partner and partner["expect"]["exit"] == 0:
            pairs.append((case, partner))
    return pairs


def epoch() -> int:
    return load_cases()["epoch"]


def blob(sha256: str) -> bytes:
    return (BLOBS / sha256).read_bytes()


def output_blob(case: dict) -> bytes:
    """The single file a successful case wrote."""
    (meta,) = case["expect"]["files"].values()
    return blob(meta["sha256"])


def normalise_listing(text: str) -> str:
    return _ADDRESS.sub("0x?", text)


def normalise_stderr(text: str) -> str:
    return _PROGNAME.sub("PROG: ", text)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stage(case: dict, work: Path) -> None:
    """Copy the corpus files a case names into `work`, at the same relative paths."""
    for name in [*case["args"], case.get("stdin") or ""]:
        source = CORPUS / name
        if name and source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, work / name)


@dataclass
class Run:
    status: int
    stdout: bytes
    stderr: bytes


def run_cli(args: list[str], stdin: bytes = b"") -> Run:
    """Run `luacross.cli.main` in-process with byte-level stdio capture."""
    from luacross.cli import main

    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    streams = (
        io.TextIOWrapper(io.BytesIO(stdin)),
        io.TextIOWrapper(out, write_through=True),
        io.TextIOWrapper(err, write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        status = main(args)
        for stream in streams[1:]:
            stream.flush()
        result = Run(status, out.getvalue(), err.getvalue())
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        for stream in streams:
            stream.detach()
    return result
