"""The test suite leaves the checkout as it found it: no tracked file is changed by a test.

At the start of a session the tracked files that already differ from HEAD (a developer's own edits) are noted
with a hash of their content; at the end, a tracked file that differs now and did not before, or whose content
changed during the run, fails the session with its name. Untracked and ignored files (test-artifacts/, jobs/,
out/) do not count. Outside a git checkout, or without git, nothing is checked; ROTOSCOPE_TRACKED_CHECK=0
turns it off for a run during which you edit files yourself.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def changed_tracked_files(root: Path = ROOT) -> dict[str, str] | None:
    """Tracked files differing from HEAD → a hash of their content now; None when this is no git checkout."""
    try:
        done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "-z"], cwd=root,
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    found = {}
    for entry in filter(None, done.stdout.split("\0")):
        if len(entry) < 4 or entry[2] != " ":
            continue  # the source name of a rename follows its entry
        path = entry[3:]
        file = root / path
        found[path] = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "missing"
    return found


def pytest_sessionstart(session) -> None:
    import os

    if os.environ.get("ROTOSCOPE_TRACKED_CHECK", "1") != "0":
        session.config.stash[_STASH] = changed_tracked_files(Path(session.config.rootpath))


def pytest_sessionfinish(session, exitstatus) -> None:
    before = session.config.stash.get(_STASH, None)
    if before is None or getattr(session.config, "workerinput", None) is not None:
        return
    after = changed_tracked_files(Path(session.config.rootpath)) or {}
    touched = sorted(path for path, digest in after.items() if before.get(path) != digest)
    if touched:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (f"the tests changed tracked files: {', '.join(touched)} — a test must write to tmp_path, "
                   "never into the checkout (git diff shows what changed)")
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True, bold=True)
        session.exitstatus = 1


def _stash_key():
    import pytest

    return pytest.StashKey[dict]()


_STASH = _stash_key()
