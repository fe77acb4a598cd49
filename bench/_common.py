"""Shared bits for the bench scripts: run from the repo root, print a table and one JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "cup.mp4"
sys.path.insert(0, str(ROOT / "src"))


def child_peak_rss_mb(args: list[str]) -> tuple[float, float, int]:
    """Run ``args`` as a child; (peak RSS in MB, wall seconds, exit code) from wait4's rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(proc.stderr.read().decode(errors="replace") if proc.stderr else "")
    return usage.ru_maxrss / 1024, seconds, code


def print_table(headers: list[str], rows: list[list]) -> None:
    widths = [max(len(str(h)), *(len(_fmt(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(_fmt(v).ljust(w) for v, w in zip(row, widths)))


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_json(data: dict) -> None:
    print(json.dumps(data))
