"""The tests need nothing beside the repository: their ground truth is in tests/golden
(complete, consistent), and no test module refers to a path outside the repository."""

import ast
import hashlib
import re
import subprocess
import sys
from pathlib import Path

from golden import BLOBS, CORPUS, GOLDEN, REPO, cases

TESTS = Path(__file__).resolve().parent
# this machine's and the workspace's folders, and ways up out of the repository
OUTSIDE = re.compile(
    r"(?<![\w.])/(work|tmp|home|root|mnt|Users)(/|$)|(?<!\.)\.\.[/\\]|(?<![\w.])shared[/\\]"
)
MARKER = "# outside-path: not read"  # on a line whose path a test names but never opens


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def outside_references(path: Path) -> list[str]:
    """`file:line: what` for each reference to a path outside the repository."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        problem = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            if id(node) not in docstrings and OUTSIDE.search(text):
                problem = f"names {text[:60]!r}"
        elif isinstance(node, ast.BinOp | ast.Call) and _names_parent_folder(node):
            problem = "joins '..' to a path"
        elif isinstance(node, ast.Attribute):
            if node.attr in ("home", "expanduser"):
                problem = f"uses .{node.attr}"
            elif node.attr in ("parent", "parents") and getattr(node.value, "id", "") == "REPO":
                problem = f"climbs out of the repository (REPO.{node.attr})"
            elif node.attr == "parent" and _parent_depth(node) >= 3:
                problem = "climbs three or more folders up"
        elif isinstance(node, ast.Subscript) and getattr(node.value, "attr", "") == "parents":
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, int) and index.value > 1:
                problem = f"climbs out of the repository (.parents[{index.value}])"
        if problem and MARKER not in lines[node.lineno - 1]:
            found.append(f"{path.name}:{node.lineno}: {problem}")
    return found


def _names_parent_folder(node: ast.BinOp | ast.Call) -> bool:
    """Path("..") or path / ".." (a lone ".." elsewhere is Lua's concatenation)."""
    operands = [node.left, node.right] if isinstance(node, ast.BinOp) else node.args
    return any(isinstance(arg, ast.Constant) and arg.value == ".." for arg in operands)


def _parent_depth(node: ast.AST) -> int:
    depth = 0
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            depth += 1
        node = node.func if isinstance(node, ast.Call) else node.value
    return depth


def test_no_test_module_reads_outside_the_repository():
    # all but this one, which names outside paths to test the check and the refresh script
    modules = sorted(path for path in TESTS.rglob("*.py") if path != Path(__file__).resolve())
    assert len(modules) > 10
    found = [problem for path in modules for problem in outside_references(path)]
    assert not found, "tests must read only the repository (data: tests/golden):\n" + "\n".join(
        found
    )


def test_the_check_sees_outside_paths(tmp_path):
    module = tmp_path / "test_bad.py"
    module.write_text(
        "from pathlib import Path\n"
        'A = Path("/work/shared/golden")\n'
        'B = REPO.parent / "shared"\n'
        'C = Path(__file__).resolve().parent.parent.parent / "x"\n'
        'D = Path.home() / "data"\n'
        'E = ["../shared/corpus", f"/tmp/ref/{A}", Path("..") / "x"]\n'
        'F = "/tmp/x"  # outside-path: not read\n'
        'G = Path("fixtures"), "/dev/null", "/usr/share/lua/5.1", b"#!/usr/bin/lua", "a..b"\n'
    )
    found = outside_references(module)
    lines = sorted(line.split(":")[1] for line in found)
    assert lines == ["2", "3", "4", "5", "6", "6", "6"], found


def test_golden_data_is_inside_the_repository():
    for folder in (GOLDEN, CORPUS, BLOBS):
        assert folder.is_dir() and folder.resolve().is_relative_to(REPO), folder
    links = [path for path in GOLDEN.rglob("*") if path.is_symlink()]
    assert not links, f"tests/golden must hold copies, not links: {links}"


def test_golden_data_is_complete():
    """Every output a successful case wrote is a blob with that sha256, and every
    corpus file a case names (but the missing-file cases) is there."""
    checked = 0
    for case in cases():
        if case["expect"]["exit"] == 0:
            for meta in case["expect"]["files"].values():
                data = (BLOBS / meta["sha256"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == meta["sha256"], case["id"]
                assert len(data) == meta["size"], case["id"]
                checked += 1
        if case["id"].split("/")[1] != "missing-file":
            for name in [*case["args"], case.get("stdin") or ""]:
                if name.endswith(".lua"):
                    assert (CORPUS / name).is_file(), f"{case['id']}: {name}"
    assert checked > 200
    assert len(list(CORPUS.glob("*/*.lua"))) > 100


def _refresh(*args: str) -> subprocess.CompletedProcess:
    script = REPO / "scripts" / "refresh-test-data.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120
    )


def test_refresh_without_shared_folder_says_so(tmp_path):
    run = _refresh("--shared", str(tmp_path / "shared"))
    assert run.returncode == 1
    assert "no shared folder" in run.stderr and "left as it is" in run.stderr


def test_refresh_from_its_own_copy_changes_nothing(tmp_path):
    """tests/golden is exactly what the script makes of a shared folder holding it."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "golden").symlink_to(GOLDEN)
    (shared / "corpus").symlink_to(CORPUS)
    run = _refresh("--shared", str(shared), "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "up to date" in run.stdout
