"""The keyframe methods against gif2gif: warp error, SSIM to source, model calls, s per output frame.

    python bench/keyframe_methods.py              # sample clip, 30 frames, keys every 10
    python bench/keyframe_methods.py --frames 20  # shorter
    python bench/keyframe_methods.py --clip cuts --frames 20 --keys every:4   # the clip with cuts (10 fps, 160x96)

Same columns as bench/consistency.py. Runs ``run_job`` (the CLI's path) with the tiny model
(random UNet, trained VAE) at strength 0.3, 20 steps, seed 7 on samples/cup.mp4 (10 fps,
256×192), writing lossless PNG frames, scored with ``rotoscope.metrics.score_frames`` against the
job's source frames. Rows: gif2gif per-frame noise, gif2gif shared noise + flow-warp +
color-match (the best gif2gif combination of the consistency bench), keyframes (2×2 plates),
ebsynth (tiny canny ControlNet on the keys, guided propagation). Model calls are counted at
the UNet (forward passes, so steps × frames; ControlNet passes not counted) and as pipeline
calls. s/frame is CPU time per output frame with one torch thread (others sharing the
machine skew it less than wall time); ratios are to gif2gif per-frame, in this one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from _common import SAMPLE, print_json, print_table

from rotoscope.consistency import ConsistencyOptions
from rotoscope.jobs.runner import run_job
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.store import JobDir
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.methods.keys import KeyOptions
from rotoscope.metrics import score_frames
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.control import parse_control
from rotoscope.stylize.options import StyleOptions

# (label, method, noise, techniques, control)
ROWS = [
    ("gif2gif per-frame", "gif2gif", "per-frame", [], []),
    ("gif2gif shared-noise", "gif2gif", "shared", [], []),
    ("gif2gif shared + flow-warp + color-match", "gif2gif", "shared", ["flow-warp", "color-match"], []),
    ("keyframes (2x2 plates)", "keyframes", "shared", [], []),
    ("ebsynth (canny ControlNet)", "ebsynth", "shared", [], ["canny"]),
]


class UNetCounter:
    """Counts UNet forward passes and pipeline calls of every pipeline built in this process."""

    def __init__(self) -> None:
        self.unet = self.calls = 0
        import diffusers

        counter = self
        original = diffusers.UNet2DConditionModel.forward

        def forward(module, *args, **kwargs):
            counter.unet += 1
            return original(module, *args, **kwargs)

        diffusers.UNet2DConditionModel.forward = forward
        from rotoscope.stylize.img2img import DiffusersImg2Img

        stylize = DiffusersImg2Img.stylize

        def counted(stylizer, frames, **kwargs):
            counter.calls += 1
            return stylize(stylizer, frames, **kwargs)

        DiffusersImg2Img.stylize = counted


CLIPS = {"cup": (SAMPLE, 256), "cuts": (SAMPLE.parent / "cuts.mp4", None), "busy": (SAMPLE.parent / "busy-pan.mp4", None)}


def run_row(method, noise, techniques, control, keys, media, out: Path, counter: UNetCounter, source=SAMPLE) -> dict:
    style = StyleOptions(prompt="a cup, ink drawing", seed=7, steps=20, strength=0.3, noise=noise)
    spec = JobSpec(source=str(source), method=method, media=media, model=ModelOptions(model="tiny"), style=style,
                   output=OutputOptions(outputs=[str(out / "frames") + "/"], overwrite=True),
                   consistency=ConsistencyOptions(techniques=list(techniques)),
                   control=[parse_control(c) for c in control],
                   keys=keys if method in ("keyframes", "ebsynth") else KeyOptions())  # --keys belongs to them
    counter.unet = counter.calls = 0
    tick = time.process_time()
    result = run_job(spec, job_dir=out / "job", overwrite=True)
    per_frame = (time.process_time() - tick) / result.frames_total
    job = JobDir(out / "job")
    outputs = sorted((out / "frames").glob("*.png"))
    pairs = ((np.asarray(Image.open(p).convert("RGB")), job.source_image(i)) for i, p in enumerate(outputs))
    score = score_frames(pairs)  # pairs across a cut excluded (--shots auto)
    return {"warp_error": score.warp_error, "source_warp_error": score.source_warp_error, "ssim": score.ssim,
            "smoothed": score.smoothed, "cuts": len(score.cuts),
            "unet_passes": counter.unet, "model_calls": counter.calls, "s_per_frame": per_frame, "frames": score.frames}


def main() -> None:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--keys", default="every:10")
    parser.add_argument("--clip", default="cup", choices=sorted(CLIPS))
    args = parser.parse_args()
    counter = UNetCounter()
    source, width = CLIPS[args.clip]
    media = MediaOptions(fps=10, width=width, max_frames=args.frames)
    keys = KeyOptions(keys=args.keys)
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, method, noise, techniques, control) in enumerate(ROWS):
            found[label] = run_row(method, noise, techniques, control, keys, media, Path(tmp) / f"r{i}", counter, source)
    base = found[ROWS[0][0]]
    best = found[ROWS[2][0]]
    shared = found[ROWS[1][0]]
    table = []
    for label, r in found.items():
        r["warp_vs_per_frame"] = r["warp_error"] / base["warp_error"]
        r["warp_vs_best_gif2gif"] = r["warp_error"] / best["warp_error"]
        r["warp_vs_shared_noise"] = r["warp_error"] / shared["warp_error"]
        r["calls_ratio"] = r["model_calls"] / base["model_calls"]
        r["time_ratio"] = r["s_per_frame"] / base["s_per_frame"]
        table.append([label, r["warp_error"], r["warp_vs_per_frame"], r["warp_vs_shared_noise"], r["warp_vs_best_gif2gif"],
                      "smoothed" if r["smoothed"] else "", r["ssim"],
                      r["model_calls"], r["unet_passes"], r["calls_ratio"], r["s_per_frame"], r["time_ratio"]])
    table.append(["(source itself)", base["source_warp_error"], base["source_warp_error"] / base["warp_error"],
                  base["source_warp_error"] / shared["warp_error"], base["source_warp_error"] / best["warp_error"], "",
                  1.0, 0, 0, 0.0, 0.0, 0.0])
    print(f"tiny model, strength 0.3, 20 steps, seed 7, DIS flow, {source.name} {args.frames} frames at 10 fps, keys {args.keys}, "
          f"{base['cuts']} cuts excluded from warp error")
    print_table(["method", "warp err", "x per-frame", "x shared", "x best g2g", "flag", "SSIM src", "model calls", "UNet passes",
                 "calls x", "s/frame", "time x"], table)
    print_json({"bench": "keyframe_methods", "frames": args.frames, "keys": args.keys,
                "results": {k: {kk: round(vv, 4) if isinstance(vv, float) else vv for kk, vv in v.items()} for k, v in found.items()}})


if __name__ == "__main__":
    main()
