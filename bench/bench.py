"""`make bench`: luacross's speed and image size against C `luac5.1`.

Over every Lua file Debian installs under /usr/share/lua/5.1 that both
compilers accept, it times:
- one `luacross -o /dev/null FILE` process per file against one
  `luac5.1 -o /dev/null FILE` per file (the primary figure: what a build
  script sees, start-up included);
- one `luacross -o /dev/null FILES...` run against one `luac5.1` run over the
  same files (compile throughput, start-up amortised), and all files
  compiled in this process through the API (no start-up at all);
- `luacross -v` (start-up alone);
- a 40-module LFS image (`luacross -f`) against `luac5.1` compiling the same
  40 files in one run;
- the `--best` image size against the default one.

Targets: compile ratio <= 30x, `-v` <= 150 ms, `--best` <= 0.88x.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LUACROSS = str(REPO / ".venv" / "bin" / "luacross")
DEVNULL = os.devnull
DEBIAN_LUA = Path("/usr/share/lua/5.1")
IMAGE_MODULES = 40
IMAGE_MODULE_MAX_BYTES = 6000
LUAC_REPEATS = 3
VERSION_REPEATS = 7
TARGETS = {"compile": 30.0, "version_ms": 150.0, "best": 0.88}

sys.path.insert(0, str(REPO))
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(1)


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, **kwargs)


def timed(argv: list, env: dict | None = None) -> float:
    """Wall time of one successful run of `argv` (the bench stops on a failure)."""
    start = time.perf_counter()
    done = run(argv, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        command = " ".join(map(str, argv[:4])) + (" ..." if len(argv) > 4 else "")
        fail(f"`{command}` failed: {done.stderr.decode(errors='replace').strip()}")
    return seconds


def check_tools(luac: str | None) -> None:
    if luac is None:
        fail("luac5.1 not found; run `make system-deps`")
    if not os.path.exists(LUACROSS):
        fail(f"{LUACROSS} not found; run `make install` (the luacross CLI is not installed)")
    probe = run([LUACROSS, "-v"])
    if probe.returncode != 0:
        fail(f"`luacross -v` failed: {probe.stderr.decode(errors='replace').strip()}")
    try:
        from luacross.lua51.parser import compile_source  # noqa: F401
    except ImportError as exc:
        fail(f"the luacross compiler is not available yet ({exc})")


def compilable_files(luac: str) -> list[Path]:
    """Debian's Lua files that luac5.1 and luacross both compile."""
    from lfs_format.errors import LuacrossError
    from luacross import api

    files = sorted(DEBIAN_LUA.rglob("*.lua")) if DEBIAN_LUA.is_dir() else []
    if len(files) < 100:
        fail(f"only {len(files)} Lua files under {DEBIAN_LUA}; run `make system-deps`")
    chosen = []
    for path in files:
        if run([luac, "-p", str(path)]).returncode != 0:
            continue
        try:
            api.compile_files([str(path)], api.target_for(False))
        except LuacrossError:
            continue  # e.g. NodeMCU's 50-locals limit
        chosen.append(path)
    return chosen


def per_file_seconds(argv_prefix: list, files: list[Path]) -> float:
    return sum(timed([*argv_prefix, str(path)]) for path in files)


def in_process_seconds(files: list[Path]) -> float:
    """Compile and dump every file in this process (start-up and imports excluded)."""
    from luacross import api

    target = api.target_for(False)
    api.dump_lc(api.compile_files([str(files[0])], target)[0], target)  # warm imports
    start = time.perf_counter()
    for path in files:
        api.dump_lc(api.compile_files([str(path)], target)[0], target)
    return time.perf_counter() - start


def image_modules(files: list[Path]) -> list[str]:
    """IMAGE_MODULES files spread over the corpus, with distinct module names and
    small enough for the whole image to fit NodeMCU's 256 KiB flash limit."""
    seen, unique = set(), []
    for path in files:
        if path.stem not in seen and path.stat().st_size <= IMAGE_MODULE_MAX_BYTES:
            seen.add(path.stem)
            unique.append(path)
    step = max(1, len(unique) // IMAGE_MODULES)
    return [str(path) for path in unique[::step][:IMAGE_MODULES]]


def main() -> None:
    luac = shutil.which("luac5.1")
    check_tools(luac)
    files = compilable_files(luac)
    kbytes = sum(path.stat().st_size for path in files) / 1024

    luac_total = min(per_file_seconds([luac, "-o", DEVNULL], files) for _ in range(LUAC_REPEATS))
    cli_total = per_file_seconds([LUACROSS, "-o", DEVNULL], files)
    names = [str(path) for path in files]
    luac_one_run = min(timed([luac, "-o", DEVNULL, *names]) for _ in range(LUAC_REPEATS))
    cli_one_run = timed([LUACROSS, "-o", DEVNULL, *names])
    api_total = in_process_seconds(files)
    version_ms = 1000 * statistics.median(timed([LUACROSS, "-v"]) for _ in range(VERSION_REPEATS))

    modules = image_modules(files)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1704067200"}
    with tempfile.TemporaryDirectory() as tmp:
        image, best = os.path.join(tmp, "x.img"), os.path.join(tmp, "best.img")
        image_seconds = timed([LUACROSS, "-f", "-o", image, *modules], env)
        luac_image = min(timed([luac, "-o", DEVNULL, *modules]) for _ in range(LUAC_REPEATS))
        timed([LUACROSS, "-f", "--best", "-o", best, *modules], env)
        image_size, best_size = os.path.getsize(image), os.path.getsize(best)

    compile_ratio, best_ratio = cli_total / luac_total, best_size / image_size
    rows = [
        ("files compiled (Debian corpus)", f"{len(files)} files, {kbytes:.0f} KB", ""),
        ("luac5.1, one process per file", f"{luac_total:.2f} s", _speed(kbytes, luac_total)),
        ("luacross CLI, one process per file", f"{cli_total:.2f} s", _speed(kbytes, cli_total)),
        ("compile ratio CLI / luac5.1", f"{compile_ratio:.1f}x", _target("compile", compile_ratio)),
        ("luac5.1, one run over all files", f"{luac_one_run:.2f} s", _speed(kbytes, luac_one_run)),
        ("luacross CLI, one run over all files", f"{cli_one_run:.2f} s",
         _speed(kbytes, cli_one_run)),  # fmt: skip
        ("compile ratio, one run each", f"{cli_one_run / luac_one_run:.1f}x", ""),
        ("luacross API, in-process (no start-up)", f"{api_total:.2f} s", _speed(kbytes, api_total)),
        ("luacross -v median wall time", f"{version_ms:.0f} ms", _target("version_ms", version_ms)),
        (f"{len(modules)}-module image: luacross -f", f"{image_seconds:.2f} s", ""),
        (f"{len(modules)} modules: luac5.1 (one run)", f"{luac_image * 1000:.0f} ms", ""),
        ("image time ratio", f"{image_seconds / luac_image:.1f}x", ""),
        ("image size default / --best", f"{image_size} / {best_size} B", ""),
        ("--best size ratio", f"{best_ratio:.3f}x", _target("best", best_ratio)),
    ]
    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>20}  {note}")


def _speed(kbytes: float, seconds: float) -> str:
    return f"{kbytes / seconds:.0f} KB/s"


def _target(key: str, value: float) -> str:
    limit = TARGETS[key]
    return f"target <= {limit:g}: {'ok' if value <= limit else 'MISSED'}"


if __name__ == "__main__":
    main()
