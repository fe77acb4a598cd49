"""Does `rotoscope run` keep memory flat as jobs get longer? Peak RSS for 30 vs 300 frames.

    PYTHONPATH=src python bench/run_memory.py [--steps 4 --strength 0.5]

Each job runs `rotoscope run` with the tiny model in its own process (peak RSS from wait4):
the sample clip (8.1 s, 217 frames) resampled to 40 fps at 128 px wide and cut with
--max-frames to exactly 30 and 300 frames, stylised (4 steps × strength 0.5 = 2 denoising
steps, so it takes minutes, not hours) and written as a GIF. Frames stream through the job
store, so the 300-frame job should peak within ~100 MB of the 30-frame one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from _common import ROOT, SAMPLE, child_peak_rss_mb, print_json, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, nargs=2, default=[30, 300])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--width", type=int, default=128)
    args = parser.parse_args()
    # the child imports rotoscope from this checkout, and shares one tiny-model cache
    os.environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    rows, peaks = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("ROTOSCOPE_CACHE", str(tmp / "cache"))
        sys.path.insert(0, str(ROOT / "src"))
        from rotoscope.models import ensure_tiny_folder

        ensure_tiny_folder()  # built here once, so neither child pays for (or measures) the build
        for count in args.frames:
            job = tmp / f"job{count}"
            cmd = [sys.executable, "-m", "rotoscope.cli", "run", str(SAMPLE), "-p", "a cup", "--model", "tiny",
                   "--seed", "3", "--steps", str(args.steps), "--strength", str(args.strength),
                   "--fps", "40", "--max-frames", str(count), "--width", str(args.width),
                   "--job", str(job), "-o", str(tmp / f"out{count}.gif")]
            rss, wall, code = child_peak_rss_mb(cmd)
            if code != 0:
                raise SystemExit(f"rotoscope run failed for {count} frames (exit {code})")
            done = len(list((job / "frames").glob("*.png")))
            if done != count:
                raise SystemExit(f"expected {count} frames, the job has {done}")
            peaks[count] = rss
            rows.append([count, f"{args.width}px", round(rss, 1), round(wall, 1), round(count / wall, 2)])
    print(f"rotoscope run, tiny model, {args.steps} steps × strength {args.strength}, sample at 40 fps, "
          f"GIF output; each job in its own process\n")
    print_table(["frames", "width", "peak RSS MB", "wall s", "fr/s (incl. start-up)"], rows)
    lo, hi = args.frames
    growth = round(peaks[hi] - peaks[lo], 1)
    print_json({"bench": "run_memory", f"peak_rss_mb_{lo}": round(peaks[lo], 1), f"peak_rss_mb_{hi}": round(peaks[hi], 1),
                "growth_mb": growth, "within_100mb": growth <= 100})


if __name__ == "__main__":
    main()
