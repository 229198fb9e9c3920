"""The recorded runs of the ESP32 firmware's luac.cross builds (dev-esp32), kept in
tests/golden-esp32 (`cases.json`, `blobs/`, `inputs/`; a copy of the shared
golden-esp32 set, see its README.md). Case arguments name `corpus/...` (the 5.1
corpus, tests/golden/corpus), `corpus53/...` (tests/golden53/corpus) and
`golden-esp32/inputs/...`."""

import json
import shutil
from functools import cache
from pathlib import Path

from golden import REPO

GOLDEN_ESP32 = REPO / "tests" / "golden-esp32"
BLOBS = GOLDEN_ESP32 / "blobs"
SOURCES = {  # the first component of a case's path -> where the tests keep it
    "corpus": REPO / "tests" / "golden" / "corpus",
    "corpus53": REPO / "tests" / "golden53" / "corpus",
    "golden-esp32": GOLDEN_ESP32,
}
VARIANT_FLAGS = {
    "esp32-51": ["--chip", "esp32"],
    "esp32-51-int": ["--chip", "esp32", "--int"],
    "esp32-53": ["--chip", "esp32", "--lua", "5.3"],
    "esp32-53-int64": ["--chip", "esp32", "--lua", "5.3", "--numbers", "int64"],
    "esp32-53-double": ["--chip", "esp32", "--lua", "5.3", "--numbers", "double"],
    "esp32-53-int64-double": ["--chip", "esp32", "--lua", "5.3", "--numbers", "64"],
}


@cache
def load() -> dict:
    return json.loads((GOLDEN_ESP32 / "cases.json").read_text())


def cases(prefix: str = "") -> list[dict]:
    return [case for case in load()["cases"] if case["id"].startswith(prefix)]


def epoch() -> int:
    return load()["epoch"]


def blob(sha256: str) -> bytes:
    return (BLOBS / sha256).read_bytes()


def source_of(name: str) -> Path | None:
    """The repository copy of a file a case names, or None (an output name)."""
    head, _, rest = name.partition("/")
    root = SOURCES.get(head)
    if root is None or not rest:
        return None
    path = root / rest
    return path if path.is_file() else None


def stage(case: dict, work: Path) -> None:
    """Copy the inputs a case names into `work`, at the paths it names them by."""
    for name in case["args"]:
        source = source_of(name)
        if source is not None:
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, work / name)


def arguments(case: dict) -> list[str]:
    """The luacross command line of a case: the variant's flags, `--seed`, its args."""
    seed = ["--seed", str(case["seed"])] if case.get("seed") is not None else []
    return [*VARIANT_FLAGS[case["variant"]], *seed, *case["args"]]
