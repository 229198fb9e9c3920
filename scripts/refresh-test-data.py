#!/usr/bin/env python3
"""Refresh the tests' ground truth in tests/golden from the project's shared folder.

The shared folder (`../shared` beside the repository unless --shared says otherwise)
holds the recorded luac.cross runs (golden/cases.json, golden/blobs/) and the Lua
corpus they compiled (corpus/). This copies into tests/golden what the tests read:
cases.json as it is, the blobs its cases name and the corpus's .lua files, and removes
files that no longer belong there (tests/golden/README.md stays).

  scripts/refresh-test-data.py            # copy what changed
  scripts/refresh-test-data.py --check    # only report; exit 1 if out of date

Without the shared folder nothing changes: the copy in the repository is what the
tests use.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "tests" / "golden"
KEEP = {"README.md"}  # written by hand, not copied


def wanted_files(shared: Path) -> dict[str, Path]:
    """tests/golden-relative path -> the shared file it is a copy of."""
    cases_file = shared / "golden" / "cases.json"
    cases = json.loads(cases_file.read_bytes())["cases"]
    files = {"cases.json": cases_file}
    for case in cases:
        for meta in case["expect"]["files"].values():
            files[f"blobs/{meta['sha256']}"] = shared / "golden" / "blobs" / meta["sha256"]
    corpus = shared / "corpus"
    for path in sorted(corpus.rglob("*.lua")):
        files[f"corpus/{path.relative_to(corpus).as_posix()}"] = path
    for case in cases:  # every corpus file a case runs on (see golden.stage)
        for name in [*case["args"], case.get("stdin") or ""]:
            if name and (corpus / name).is_file():
                files[f"corpus/{name}"] = corpus / name
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO.parent / "shared",
        help="the shared folder (default: ../shared beside the repository)",
    )
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args()
    shared = args.shared.resolve()
    if not (shared / "golden" / "cases.json").is_file() or not (shared / "corpus").is_dir():
        print(
            f"refresh-test-data: no shared folder with golden/cases.json and corpus/ at {shared};"
            f" {TARGET.relative_to(REPO)} is left as it is",
            file=sys.stderr,
        )
        return 1

    files = wanted_files(shared)
    added, updated, removed = [], [], []
    for rel, source in files.items():
        if not source.is_file():
            print(f"refresh-test-data: {source} is missing", file=sys.stderr)
            return 1
        data = source.read_bytes()
        if rel.startswith("blobs/") and hashlib.sha256(data).hexdigest() != rel[6:]:
            print(f"refresh-test-data: {source} does not match its sha256 name", file=sys.stderr)
            return 1
        target = TARGET / rel
        if target.is_file() and target.read_bytes() == data:
            continue
        (updated if target.exists() else added).append(rel)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    existing = [p for p in TARGET.rglob("*") if p.is_file()] if TARGET.is_dir() else []
    for path in sorted(existing):
        rel = path.relative_to(TARGET).as_posix()
        if rel not in files and rel not in KEEP:
            removed.append(rel)
            if not args.check:
                path.unlink()
    if not args.check:
        for folder in sorted((p for p in TARGET.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()

    for label, names in (("added", added), ("updated", updated), ("removed", removed)):
        for name in names:
            print(f"  {label}: {name}")
    size = sum(source.stat().st_size for source in files.values())
    blobs = sum(rel.startswith("blobs/") for rel in files)
    corpus = sum(rel.startswith("corpus/") for rel in files)
    changes = len(added) + len(updated) + len(removed)
    state = ("out of date" if changes else "up to date") if args.check else f"{changes} changed"
    print(
        f"refresh-test-data: {TARGET.relative_to(REPO)} from {shared}: cases.json, {blobs} blobs,"
        f" {corpus} corpus files ({size / 1e6:.1f} MB); {state}"
    )
    return 1 if args.check and changes else 0


if __name__ == "__main__":
    sys.exit(main())
