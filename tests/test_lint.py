"""The code passes the project's ruff rules (pyproject.toml [tool.ruff])."""

import shutil
import subprocess

from golden import REPO


def test_ruff_check_is_clean():
    ruff = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency: make install"
    done = subprocess.run(
        [ruff, "check", "--output-format", "concise", "luacross", "lfs_format", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
