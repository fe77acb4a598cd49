"""Does memory stay flat as clips get longer? Peak RSS and frames/s of `rotoscope convert`
on a generated 10 s and 60 s 720p clip (30 fps), each in its own process.

    python bench/memory.py [--seconds 10 60]

Two jobs per clip: to a 320 px / 10 fps GIF (the usual first step) and to a
full-size MP4. The ratio that matters is 60 s vs 10 s peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

from _common import child_peak_rss_mb, print_json, print_table


def make_clip(path: Path, seconds: int, fps: int = 30, size=(1280, 720)) -> int:
    """A 720p clip with moving shapes and noise (so every frame differs), encoded fast."""
    w, h = size
    frames = seconds * fps
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), np.full_like(xx, 128)], axis=2).astype(np.uint8)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        for i in range(frames):
            image = base.copy()
            x = (i * 7) % (w - 200)
            image[200:400, x : x + 200] = (255, 60, 60)
            image[::37, :] = rng.integers(0, 255, (len(range(0, h, 37)), w, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, nargs="+", default=[10, 60])
    args = parser.parse_args()
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for seconds in args.seconds:
            clip = tmp / f"clip{seconds}.mp4"
            make_clip(clip, seconds)
            for label, extra in (("gif 320px 10fps", ["--width", "320", "--fps", "10", "-o", str(tmp / f"o{seconds}.gif")]),
                                 ("mp4 720p", ["-o", str(tmp / f"o{seconds}.mp4")])):
                cmd = [sys.executable, "-m", "rotoscope.cli", "convert", str(clip), "--overwrite", *extra]
                rss, wall, code = child_peak_rss_mb(cmd)
                if code != 0:
                    raise SystemExit(f"convert failed for {seconds}s {label}")
                source_frames = seconds * 30
                rows.append([f"{seconds} s", label, round(rss, 1), round(source_frames / wall, 1)])
                results[f"{label}|{seconds}"] = rss
    print_table(["clip", "job", "peak RSS MB", "source fr/s"], rows)
    lo, hi = min(args.seconds), max(args.seconds)
    growth = {label: round(results[f"{label}|{hi}"] - results[f"{label}|{lo}"], 1) for label in ("gif 320px 10fps", "mp4 720p")}
    print_json({"bench": "memory", "rows": [dict(zip(["clip", "job", "peak_rss_mb", "source_fps"], r)) for r in rows],
                "rss_growth_mb": growth, "flat_within_50mb": all(abs(v) <= 50 for v in growth.values())})


if __name__ == "__main__":
    main()
