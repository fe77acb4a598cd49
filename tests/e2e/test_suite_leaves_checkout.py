"""The session-end check of tests/tracked.py: a run that rewrites a tracked file fails, naming it; one that
writes only to tmp_path (or changes a file that was already edited before, and leaves it so) passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _checkout(tmp_path: Path, test_body: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "conftest.py").write_text("from tests.tracked import pytest_sessionfinish, pytest_sessionstart  # noqa\n")
    (repo / "data.txt").write_text("tracked\n")
    (repo / "edited.txt").write_text("tracked\n")
    (repo / "test_it.py").write_text(f"from pathlib import Path\n\n\ndef test_it(tmp_path):\n    {test_body}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    (repo / "edited.txt").write_text("a developer's own edit, before the run\n")
    return repo


def _pytest(repo: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(repo), str(repo)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("body, fails", [
    ("Path(__file__).with_name('data.txt').write_text('rewritten by a test')", True),
    ("Path(__file__).with_name('edited.txt').write_text('changed during the run')", True),
    ("(tmp_path / 'data.txt').write_text('fine'); Path(__file__).with_name('new.txt').write_text('untracked')", False),
])
def test_a_run_that_changes_a_tracked_file_fails(tmp_path, body, fails):
    done = _pytest(_checkout(tmp_path, body))
    output = done.stdout + done.stderr
    if fails:
        assert done.returncode == 1 and "the tests changed tracked files:" in output, output
    else:
        assert done.returncode == 0 and "changed tracked files" not in output, output
