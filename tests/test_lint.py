"""The code passes the project's ruff rules and format (pyproject.toml [tool.ruff])."""

import shutil
import subprocess

from golden import REPO

SOURCES = ["luacross", "lfs_format", "tests", "bench", "scripts", "setup.py"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency: make install"
    return subprocess.run([ruff, *args, *SOURCES], cwd=REPO, capture_output=True, text=True)


def test_ruff_check_is_clean():
    done = _ruff("check", "--output-format", "concise")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean():
    done = _ruff("format", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
