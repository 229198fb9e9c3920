#!/usr/bin/env python3
"""Refresh the tests' ground truth in tests/golden from the project's shared folder.

The shared folder (`../shared` beside the repository unless --shared says otherwise)
holds the recorded luac.cross runs (golden/cases.json, golden/blobs/) and the Lua
corpus they compiled (corpus/). This copies into tests/golden what the tests read:
cases.json as it is, the blobs its cases name and the corpus's .lua files, and removes
files that no longer belong there (tests/golden/README.md stays). Where the shared
folder has golden-esp32/ (the ESP32 builds' runs), tests/golden-esp32 gets its
cases.json, README.md, the blobs its cases name and its -F input images.

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
TARGET_ESP32 = REPO / "tests" / "golden-esp32"  # the ESP32 builds' runs (golden-esp32/)


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


def wanted_files_esp32(shared: Path) -> dict[str, Path]:
    """tests/golden-esp32-relative path -> its shared file: cases.json, README.md,
    the blobs its cases name and the -F input images (its cases' corpus files are
    those of tests/golden and tests/golden53)."""
    folder = shared / "golden-esp32"
    cases = json.loads((folder / "cases.json").read_bytes())["cases"]
    files = {"cases.json": folder / "cases.json", "README.md": folder / "README.md"}
    for case in cases:
        for meta in case["expect"]["files"].values():
            files[f"blobs/{meta['sha256']}"] = folder / "blobs" / meta["sha256"]
    for path in sorted((folder / "inputs").glob("*")):
        files[f"inputs/{path.name}"] = path
    return files


def sync(target: Path, files: dict[str, Path], keep: set[str], check: bool) -> int | None:
    """Make `target` hold `files` (and the `keep` files): the number of changes,
    or None when a source is missing or a blob is damaged."""
    added, updated, removed = [], [], []
    for rel, source in files.items():
        if not source.is_file():
            print(f"refresh-test-data: {source} is missing", file=sys.stderr)
            return None
        data = source.read_bytes()
        if rel.startswith("blobs/") and hashlib.sha256(data).hexdigest() != rel[6:]:
            print(f"refresh-test-data: {source} does not match its sha256 name", file=sys.stderr)
            return None
        path = target / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        (updated if path.exists() else added).append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    existing = [p for p in target.rglob("*") if p.is_file()] if target.is_dir() else []
    for path in sorted(existing):
        rel = path.relative_to(target).as_posix()
        if rel not in files and rel not in keep:
            removed.append(rel)
            if not check:
                path.unlink()
    if not check:
        for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    for label, names in (("added", added), ("updated", updated), ("removed", removed)):
        for name in names:
            print(f"  {label}: {name}")
    return len(added) + len(updated) + len(removed)


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
    changes = sync(TARGET, files, KEEP, args.check)
    if changes is None:
        return 1
    size = sum(source.stat().st_size for source in files.values())
    blobs = sum(rel.startswith("blobs/") for rel in files)
    corpus = sum(rel.startswith("corpus/") for rel in files)
    state = ("out of date" if changes else "up to date") if args.check else f"{changes} changed"
    print(
        f"refresh-test-data: {TARGET.relative_to(REPO)} from {shared}: cases.json, {blobs} blobs,"
        f" {corpus} corpus files ({size / 1e6:.1f} MB); {state}"
    )
    total = changes
    if (shared / "golden-esp32" / "cases.json").is_file():
        files = wanted_files_esp32(shared)
        changes = sync(TARGET_ESP32, files, set(), args.check)
        if changes is None:
            return 1
        total += changes
        state = ("out of date" if changes else "up to date") if args.check else f"{changes} changed"
        print(
            f"refresh-test-data: {TARGET_ESP32.relative_to(REPO)} from {shared}: "
            f"{len(files)} files; {state}"
        )
    return 1 if args.check and total else 0


if __name__ == "__main__":
    sys.exit(main())
