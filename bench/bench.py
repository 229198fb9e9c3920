"""`make bench`: luacross's speed against the C compilers, compiled and pure Python.

One run measures both builds of luacross (the mypyc-compiled hot modules that
`make install` builds, and the same modules as pure Python, `LUACROSS_PURE=1`)
on the same inputs, against C `luac5.1`, and against NodeMCU's C `luac.cross`
when `LUAC_CROSS=path` names one. Over every Lua file Debian installs under
/usr/share/lua/5.1 that the compilers accept, it times:
- one `luacross -o /dev/null FILES...` process over the whole corpus (the
  compile, start-up amortised) against one `luac5.1` (and `luac.cross`) run;
- the same corpus for Lua 5.3 (`--lua 5.3`) against NodeMCU's 5.3
  `luac.cross` given as `LUAC53=path`, else Debian's `luac5.3`;
- a 40-module LFS image (`-f`) against `luac.cross -f` (or `luac5.1`
  compiling the same 40 files), and `--best` against the default image;
- `luacross -v` (start-up alone), and each build's peak RSS.

Targets (issue 11): compiled compile <= 8x luac5.1, compiled image <= 10x,
`--best` <= 1.5x the default image's time, `-v` <= 25 ms in both builds.
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
REPEATS = 3  # the C tools and -v: best or median of a few runs
VERSION_REPEATS = 7
TARGETS = {"compile": 8.0, "image": 10.0, "best_time": 1.5, "version_ms": 25.0}

sys.path.insert(0, str(REPO))
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(1)


class Timing:
    """Wall time and peak RSS of one child process."""

    __slots__ = ("seconds", "max_rss_kb")

    def __init__(self, seconds: float, max_rss_kb: int) -> None:
        self.seconds = seconds
        self.max_rss_kb = max_rss_kb


def timed(argv: list, env: dict | None = None) -> Timing:
    """One successful run of `argv` (the bench stops on a failure)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    stderr = child.stderr.read() if child.stderr else b""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        command = " ".join(map(str, argv[:4])) + (" ..." if len(argv) > 4 else "")
        fail(f"`{command}` failed: {stderr.decode(errors='replace').strip()}")
    return Timing(seconds, usage.ru_maxrss)


def best_of(argv: list, env: dict | None = None, repeats: int = REPEATS) -> Timing:
    runs = [timed(argv, env) for _ in range(repeats)]
    return min(runs, key=lambda t: t.seconds)


def accepts(tool: str, path: Path) -> bool:
    return subprocess.run([tool, "-p", str(path)], capture_output=True).returncode == 0


def compilable_files(luac: str, target_name: str) -> list[Path]:
    """Debian's Lua files that `luac` and luacross (for `target_name`) both compile."""
    from lfs_format.errors import LuacrossError
    from luacross import api

    target = api.select_target(target_name)
    files = sorted(DEBIAN_LUA.rglob("*.lua")) if DEBIAN_LUA.is_dir() else []
    if len(files) < 100:
        fail(f"only {len(files)} Lua files under {DEBIAN_LUA}; run `make system-deps`")
    chosen = []
    for path in files:
        if not accepts(luac, path):
            continue
        try:
            api.compile_files([str(path)], target)
        except (LuacrossError, RecursionError):
            continue  # e.g. NodeMCU's 50-locals limit
        chosen.append(path)
    return chosen


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


def build_env(pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "LUACROSS_PURE"}
    env["SOURCE_DATE_EPOCH"] = "1704067200"
    if pure:
        env["LUACROSS_PURE"] = "1"
    return env


def build_name(env: dict) -> str:
    done = subprocess.run([LUACROSS, "--version"], env=env, capture_output=True, text=True)
    return "compiled" if "compiled" in done.stdout else "pure"


def measure_build(env: dict, names: list[str], names53: list[str], modules: list[str]) -> dict:
    """The figures of one build of luacross."""
    figures: dict = {}
    compile51 = best_of([LUACROSS, "-o", DEVNULL, *names], env, 2)
    figures["compile"] = compile51.seconds
    compile53 = best_of([LUACROSS, "--lua", "5.3", "-o", DEVNULL, *names53], env, 2)
    figures["compile53"] = compile53.seconds
    with tempfile.TemporaryDirectory() as tmp:
        image, best = os.path.join(tmp, "x.img"), os.path.join(tmp, "best.img")
        image_run = best_of([LUACROSS, "-f", "-o", image, *modules], env, 2)
        best_run = best_of([LUACROSS, "-f", "--best", "-o", best, *modules], env, 2)
        figures["image_size"], figures["best_size"] = os.path.getsize(image), os.path.getsize(best)
    figures["image"], figures["best"] = image_run.seconds, best_run.seconds
    versions = [timed([LUACROSS, "-v"], env).seconds for _ in range(VERSION_REPEATS)]
    figures["version_ms"] = 1000 * statistics.median(versions)
    figures["rss_mb"] = max(compile51.max_rss_kb, image_run.max_rss_kb, best_run.max_rss_kb) / 1024
    return figures


def main() -> None:
    luac51 = shutil.which("luac5.1")
    if luac51 is None:
        fail("luac5.1 not found; run `make system-deps`")
    luac_cross = os.environ.get("LUAC_CROSS")
    luac53 = os.environ.get("LUAC53") or shutil.which("luac5.3")
    if luac53 is None:
        fail("luac5.3 not found; run `make system-deps` (or give LUAC53=path)")
    if not os.path.exists(LUACROSS):
        fail(f"{LUACROSS} not found; run `make install`")
    ref53 = "luac.cross 5.3" if os.environ.get("LUAC53") else "luac5.3"

    files = compilable_files(luac51, "5.1")
    if luac_cross:
        files = [path for path in files if accepts(luac_cross, path)]
    files53 = [p for p in compilable_files(luac53, "5.3") if p in set(files)]
    names, names53 = [str(p) for p in files], [str(p) for p in files53]
    kbytes = sum(path.stat().st_size for path in files) / 1024
    kbytes53 = sum(path.stat().st_size for path in files53) / 1024
    modules = image_modules(files)

    c = {"luac5.1": best_of([luac51, "-o", DEVNULL, *names]).seconds}
    c["luac5.1 image"] = best_of([luac51, "-o", DEVNULL, *modules]).seconds
    if luac_cross:
        c["luac.cross"] = best_of([luac_cross, "-o", DEVNULL, *names]).seconds
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "x.img")
            c["luac.cross image"] = best_of([luac_cross, "-f", "-o", image, *modules]).seconds
    c[ref53] = best_of([luac53, "-o", DEVNULL, *names53]).seconds

    builds = {}
    for pure in (False, True):
        env = build_env(pure)
        name = build_name(env)
        if name in builds:
            continue  # no compiled build here: only the pure one
        builds[name] = measure_build(env, names, names53, modules)

    print(f"corpus: {len(files)} files, {kbytes:.0f} KB (Lua 5.3: {len(files53)} files, "
          f"{kbytes53:.0f} KB); image: {len(modules)} modules")  # fmt: skip
    rows = [("C tools", "", "")]
    for tool, seconds in c.items():
        rows.append((f"  {tool}, one run", f"{seconds * 1000:.0f} ms", ""))
    image_ref = "luac.cross image" if luac_cross else "luac5.1 image"
    for name, f in builds.items():
        compiled = name == "compiled"
        rows.append((f"luacross, {name}", "", ""))
        rows.append(("  compile, one run", f"{f['compile']:.2f} s", _speed(kbytes, f["compile"])))
        ratio = f["compile"] / c["luac5.1"]
        note = _target("compile", ratio) if compiled else ""
        rows.append(("    / luac5.1", f"{ratio:.1f}x", note))
        if luac_cross:
            rows.append(("    / luac.cross", f"{f['compile'] / c['luac.cross']:.1f}x", ""))
        compile53 = f["compile53"]
        rows.append(("  Lua 5.3 compile", f"{compile53:.2f} s", _speed(kbytes53, compile53)))
        rows.append((f"    / {ref53}", f"{compile53 / c[ref53]:.1f}x", ""))
        rows.append(("  40-module image (-f)", f"{f['image']:.2f} s", ""))
        ratio = f["image"] / c[image_ref]
        rows.append((f"    / {image_ref.replace(' image', '')}", f"{ratio:.1f}x",
                     _target("image", ratio) if compiled else ""))  # fmt: skip
        ratio = f["best"] / f["image"]
        rows.append(("  --best image", f"{f['best']:.2f} s", ""))
        rows.append(("    / default image time", f"{ratio:.2f}x", _target("best_time", ratio)))
        rows.append(("    size / default", f"{f['best_size']} / {f['image_size']} B",
                     f"{f['best_size'] / f['image_size']:.3f}x"))  # fmt: skip
        ms = f["version_ms"]
        rows.append(("  -v median", f"{ms:.0f} ms", _target("version_ms", ms)))
        rows.append(("  peak RSS", f"{f['rss_mb']:.0f} MB", ""))
    width = max(len(row[0]) for row in rows)
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>16}  {note}")


def _speed(kbytes: float, seconds: float) -> str:
    return f"{kbytes / seconds:.0f} KB/s"


def _target(key: str, value: float) -> str:
    limit = TARGETS[key]
    return f"target <= {limit:g}: {'ok' if value <= limit else 'MISSED'}"


if __name__ == "__main__":
    main()
