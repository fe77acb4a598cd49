"""Fault injection with real components: real files, a real small filesystem (tmpfs in a private mount
namespace), a per-process file size limit (RLIMIT_FSIZE: writes past it fail with EFBIG), a read-only
folder (a read-only bind mount; chmod 0o555 when not root), and real SIGKILL / SIGTERM of real
``rotoscope`` processes at seeded random points. Nothing is mocked."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import clips

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
       "COLUMNS": "200"}
CLI = [sys.executable, "-m", "rotoscope.cli"]
#: one -o per output kind
KINDS = {"gif": "x.gif", "mp4": "x.mp4", "webp": "x.webp", "apng": "x.apng", "png-folder": "frames/"}
FRAMES = 8


def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


MOUNTS = can_mount()


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory) -> Path:
    """8 frames, 64×48, 10 fps."""
    return clips.moving_box_clip(tmp_path_factory.mktemp("faults") / "src.mp4", frames=FRAMES, size=(64, 48))


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory) -> Path:
    """40 frames, 160×120: long enough to be killed while it is encoded."""
    return clips.moving_box_clip(tmp_path_factory.mktemp("faults") / "long.mp4", frames=40, size=(160, 120))


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def digests(folder: Path) -> dict[str, str]:
    """The finished frames' digests: a writer's hidden temp (``.00019.part.png``, left by a SIGKILL mid-write)
    is not a frame; the rerun removes it."""
    return {p.name: digest(p) for p in sorted(Path(folder).glob("[0-9]*.png"))}


def temps(root: Path) -> list[str]:
    """Every temp a writer could leave anywhere under ``root``: ``.*part*``, ``*.spool``, ``*.tmp``."""
    found = [*Path(root).rglob(".*part*"), *Path(root).rglob("*.spool"), *Path(root).rglob("*.tmp")]
    return sorted({str(p.relative_to(root)) for p in found})


def _limit_file_size(limit: int):
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def rotoscope(*args, cwd: Path, file_limit: int | None = None, prefix: list[str] = (), timeout: int = 300):
    """Run the real CLI in a subprocess (optionally under a file size limit or a wrapper command)."""
    return subprocess.run([*prefix, *CLI, *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limit_file_size(file_limit) if file_limit else None)


def in_process(steps: list[dict], *, cwd: Path, prefix: list[str] = ()) -> list[dict]:
    """Several CLI commands in one fresh process (in_process.py): ``{"args": [...], "file_limit": N}`` each."""
    steps = [{**step, "args": [str(a) for a in step["args"]]} for step in steps]
    driver = Path(__file__).with_name("in_process.py")
    result = subprocess.run([*prefix, sys.executable, str(driver), json.dumps(steps)], cwd=cwd, env=ENV,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def read_only_prefix(folder: Path) -> list[str]:
    """A command prefix that runs the command with ``folder`` read-only (a read-only bind mount in a private
    mount namespace, so it holds for root too); without mounts, chmod 0o555 (which stops non-root only)."""
    if MOUNTS:
        script = f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" "{folder}" && exec "$@"'
        return ["unshare", "-m", "sh", "-c", script, "sh"]
    if os.geteuid() == 0:
        pytest.skip("root without mount namespaces: no way to make a folder read-only for this process")
    folder.chmod(0o555)
    return []


def on_small_disk(mount: Path, size: str, bigger: str, *args, cwd: Path) -> list[dict]:
    """Run the CLI on a tmpfs of ``size`` at ``mount``, then again once it has grown to ``bigger``."""
    if not MOUNTS:
        pytest.skip("needs root and mount namespaces (unshare -m) for a real small filesystem")
    mount.mkdir(parents=True, exist_ok=True)
    driver = Path(__file__).with_name("small_disk.py")
    result = subprocess.run(["unshare", "-m", sys.executable, str(driver), str(mount), size, bigger, "--", *CLI,
                             *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(stderr: str, *words: str) -> str:
    """Exit 2's output: exactly one ``error:`` line (the progress bar aside), no traceback; returns it."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def frame_count(path: Path) -> int:
    from rotoscope.media.decode import iter_frames

    path = Path(path)
    if path.is_dir():
        return len(list(path.glob("*.png")))
    return sum(1 for _ in iter_frames(path))


def kill_when(proc: subprocess.Popen, ready, delay: float, sig=signal.SIGKILL, deadline: float = 240) -> bool:
    """Send ``sig`` ``delay`` s after ``ready()`` first holds; True if the process was still running then."""
    end = time.time() + deadline
    while proc.poll() is None and not ready() and time.time() < end:
        time.sleep(0.002)
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        os.killpg(proc.pid, sig)
    proc.wait(timeout=120)
    return alive


def start(*args, cwd: Path, stderr_path: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *map(str, args)], cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=stderr_path.open("wb"), start_new_session=True)
