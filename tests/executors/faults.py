"""What the fault tests share: kill a process once the store shows progress, act on the first write, wait on
state (never on a clock)."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def wait_for(condition: Callable[[], object], what: str, limit: float = 600, every: float = 0.01) -> None:
    """Poll ``condition`` (store or cluster state) until it holds; ``limit`` only stops a hung test."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(every)


def kill_when(proc: subprocess.Popen, condition: Callable[[], object], what: str) -> tuple[bool, str]:
    """SIGKILL ``proc`` as soon as ``condition`` holds; (whether it was still running then, its stderr)."""
    try:
        wait_for(lambda: condition() or proc.poll() is not None, what, every=0.005)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        stderr = proc.communicate()[1].decode()
    return alive, stderr


def frame_files(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Each frame file's (digest, inode, mtime): 'untouched' means all three unchanged."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.glob("[0-9]*.png")}


class OnFirstWrite:
    """A Progress whose per-worker hook runs ``action`` right after the first frame is written (each actor then
    holds units in flight), having recorded the frames finished by then."""

    def __init__(self, job: Path, action: Callable[[], None]) -> None:
        self.job, self.action, self.finished = job, action, None

    def start(self, stage, total):
        pass

    def advance(self, count=1):
        pass

    def finish(self):
        pass

    def workers(self, stats):
        if self.finished is None:
            self.finished = frame_files(self.job / "frames")
            self.action()
