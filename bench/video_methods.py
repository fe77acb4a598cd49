"""animatediff against gif2gif and the consistency techniques; memory and seams of its context windows.

    python bench/video_methods.py              # rows on 24 frames, then 16- vs 64-frame animatediff runs
    python bench/video_methods.py --quick      # 12 frames a row, 16 vs 48 frames (≈3 min)

Rows (the columns of bench/consistency.py): ``rotoscope run`` (run_job, the CLI's path) with the tiny
model (random UNet, trained VAE; animatediff adds the tiny random motion adapter) at strength 0.3,
20 steps, seed 7 on samples/cup.mp4 at 10 fps, scored by ``rotoscope.metrics.score_frames`` (DIS
warp error, SSIM to the source frame); ratios are to gif2gif with per-frame noise. s/frame is CPU
seconds of the run (1 torch thread) over frames.

Memory: peak RSS (wait4 rusage) of a child ``rotoscope run --method animatediff`` on 16 frames and
on 64 frames (context windows of 16 with 4 anchors); the issue asks for ≤ 150 MB between them.

Seams: the 64-frame run's output warp error on the pairs that straddle a window seam (frames
15|16, 27|28, 39|40, 51|52) against the mean of the pairs inside windows; the issue asks for
≤ 1.5×. The same ratio on the source itself shows how much is the clip's own motion.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT, SAMPLE, child_peak_rss_mb, print_json, print_table

from rotoscope.consistency import ConsistencyOptions
from rotoscope.jobs.runner import run_job
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.store import JobDir
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.stylize.video_options import VideoOptions
from rotoscope.metrics import score_frames
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.options import StyleOptions

# (label, method, noise, techniques)
ROWS = [
    ("gif2gif per-frame", "gif2gif", "per-frame", []),
    ("gif2gif shared-noise", "gif2gif", "shared", []),
    ("gif2gif flow-warp + color-match", "gif2gif", "shared", ["flow-warp", "color-match"]),
    ("gif2gif cross-frame-attention + flow-warp + color-match", "gif2gif", "shared",
     ["cross-frame-attention", "flow-warp", "color-match"]),
    ("animatediff (windows 16/4, shared noise)", "animatediff", "shared", []),
    ("animatediff (windows 16/4, per-frame noise)", "animatediff", "per-frame", []),
]
LENGTH, OVERLAP = 16, 4


def spec_for(method: str, noise: str, techniques: list[str], frames: int, width: int, out: Path) -> JobSpec:
    style = StyleOptions(prompt="a cup, ink drawing", seed=7, steps=20, strength=0.3, noise=noise)
    return JobSpec(source=str(SAMPLE), method=method, media=MediaOptions(fps=10, width=width, max_frames=frames),
                   model=ModelOptions(model="tiny"), style=style,
                   output=OutputOptions(outputs=[str(out / "frames") + "/"], overwrite=True),
                   consistency=ConsistencyOptions(techniques=list(techniques)),
                   video=VideoOptions(context_length=LENGTH, context_overlap=OVERLAP))


def score_job(job_dir: Path, count: int):
    job = JobDir(job_dir)
    pairs = ((job.output_image(i)[..., :3], job.source_image(i)) for i in range(count))
    return score_frames(pairs)


def run_row(spec: JobSpec, out: Path) -> dict:
    tick = time.process_time()
    result = run_job(spec, job_dir=out / "job", overwrite=True)
    per_frame = (time.process_time() - tick) / result.frames_total
    score = score_job(out / "job", result.frames_total)
    return {"warp_error": score.warp_error, "source_warp_error": score.source_warp_error, "ssim": score.ssim,
            "s_per_frame": per_frame, "frames": score.frames}


def seam_pairs(count: int) -> list[int]:
    """Pair t (frames t → t+1) crosses a seam when t + 1 is the first new frame of a later window."""
    starts, start = [], LENGTH
    while start < count:
        starts.append(start)
        start += LENGTH - OVERLAP
    return [s - 1 for s in starts]


def child_run(frames: int, width: int, job: Path) -> tuple[float, float, int]:
    args = [sys.executable, "-m", "rotoscope.cli", "run", str(SAMPLE), "--method", "animatediff", "--model", "tiny",
            "-p", "a cup, ink drawing", "--seed", "7", "--steps", "20", "--strength", "0.3", "--fps", "10",
            "--width", str(width), "--max-frames", str(frames), "--context-length", str(LENGTH),
            "--context-overlap", str(OVERLAP), "--job", str(job), "-o", str(job.parent / "out.gif")]
    return child_peak_rss_mb(args)


def main() -> None:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="12 frames a row; 16 vs 48 frames for memory and seams")
    parser.add_argument("--frames", type=int, default=None, help="frames per row (default 24, quick 12)")
    parser.add_argument("--long", type=int, default=None, help="frames of the long animatediff run (default 64, quick 48)")
    parser.add_argument("--width", type=int, default=128, help="processing width (default 128: 128x96)")
    parser.add_argument("--skip-rows", action="store_true", help="only memory and seams")
    args = parser.parse_args()
    frames = args.frames or (12 if args.quick else 24)
    long = args.long or (48 if args.quick else 64)
    os.environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_rows:
            found = {}
            for i, (label, method, noise, techniques) in enumerate(ROWS):
                out = tmp / f"row{i}"
                found[label] = run_row(spec_for(method, noise, techniques, frames, args.width, out), out)
            base = found["gif2gif per-frame"]
            table = []
            for label, r in found.items():
                r["warp_ratio"] = r["warp_error"] / base["warp_error"]
                r["ssim_drop"] = base["ssim"] - r["ssim"]
                r["time_ratio"] = r["s_per_frame"] / base["s_per_frame"]
                table.append(["cup", label, r["warp_error"], r["warp_ratio"], r["ssim"], r["ssim_drop"], r["s_per_frame"],
                              r["time_ratio"]])
            source = base["source_warp_error"]
            table.append(["cup", "(source itself)", source, source / base["warp_error"], 1.0, 0.0, 0.0, 0.0])
            print(f"tiny models, strength 0.3, 20 steps, seed 7, DIS flow, {frames} frames of samples/cup.mp4 at 10 fps, "
                  f"{args.width} px wide; ratios to gif2gif per-frame")
            print_table(["clip", "method", "warp err", "x per-frame", "SSIM src", "SSIM drop", "s/frame", "time x"], table)
            results["rows"] = {k: {kk: round(vv, 4) if isinstance(vv, float) else vv for kk, vv in v.items()}
                               for k, v in found.items()}
            results["source_warp_error"] = round(source, 4)

        memory = []
        for count in (16, long):
            job = tmp / f"rss{count}" / "job"
            rss, seconds, code = child_run(count, args.width, job)
            if code != 0:
                raise SystemExit(f"child run of {count} frames failed ({code})")
            memory.append([count, rss, seconds])
        growth = memory[1][1] - memory[0][1]
        print()
        print(f"animatediff peak RSS (child `rotoscope run`, windows {LENGTH}/{OVERLAP}, {args.width} px wide)")
        print_table(["frames", "peak RSS MB", "wall s"], memory)
        print(f"growth {memory[0][0]} -> {memory[1][0]} frames: {growth:+.1f} MB (target <= 150 MB)")

        score = score_job(tmp / f"rss{long}" / "job", long)
        seams = seam_pairs(long)
        inside = [t for t in range(len(score.pairs)) if t not in seams]
        seam_out, inside_out = np.mean([score.pairs[t] for t in seams]), np.mean([score.pairs[t] for t in inside])
        seam_src = np.mean([score.source_pairs[t] for t in seams])
        inside_src = np.mean([score.source_pairs[t] for t in inside])
        print()
        print(f"warp error at window seams (pairs {', '.join(f'{t}|{t + 1}' for t in seams)}) vs inside windows, {long} frames")
        print_table(["frames", "seam", "inside", "seam / inside"],
                     [["output", float(seam_out), float(inside_out), float(seam_out / inside_out)],
                      ["source", float(seam_src), float(inside_src), float(seam_src / inside_src)]])
        print(f"output seam / inside = {seam_out / inside_out:.3f} (target <= 1.5)")
        results.update({
            "memory": {str(c): {"peak_rss_mb": round(r, 1), "seconds": round(s, 2)} for c, r, s in memory},
            "rss_growth_mb": round(growth, 1), "rss_ok": growth <= 150,
            "seams": {"pairs": seams, "seam": round(float(seam_out), 4), "inside": round(float(inside_out), 4),
                      "ratio": round(float(seam_out / inside_out), 4), "source_ratio": round(float(seam_src / inside_src), 4),
                      "per_pair": [round(v, 4) for v in score.pairs]},
            "seams_ok": bool(seam_out / inside_out <= 1.5),
        })
    print_json({"bench": "video_methods", "frames": frames, "long": long, "width": args.width, "quick": args.quick,
                "results": results})


if __name__ == "__main__":
    main()
