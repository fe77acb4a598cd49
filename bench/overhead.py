"""Does rotoscope add time over a bare diffusers loop? Same clip, model, sampler, seed — one process.

    PYTHONPATH=src python bench/overhead.py [--frames 20] [--width 256] [--profile]

1. bare: the tiny pipeline loaded by rotoscope's own loader, "Euler a" set with
   ``make_scheduler``, then ``pipe(prompt=…, image=PIL, strength=0.3, steps=20, cfg=7,
   generator=manual_seed(seed), output_type="np")`` per frame, frames already decoded in memory.
2. rotoscope: ``run_job(JobSpec(...))`` on the same clip and settings, fresh job dir, GIF output:
   decode → source PNGs → stylise → frame PNGs (+infotext, log) → GIF.

Both timings INCLUDE the model load (run_job loads it itself; the bare loop loads it the
same way). Each side runs twice, alternating, after one untimed warm-up call; the min counts.
Then the job's frames/*.png are compared with the bare loop's uint8 frames.

The bare loop writes no file; rotoscope writes source PNGs, frame PNGs and a GIF. The
table splits rotoscope's time by stage, and also compares it without the GIF encode and
its stylize stage alone against the bare loop alone (no load), so the cost of each part shows.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import SAMPLE, print_json, print_table

PROMPT = "a cup, ink drawing"
SEED = 3
STEPS = 20
STRENGTH = 0.3
CFG = 7.0
SAMPLER = "Euler a"


class StageTimes:
    """A rotoscope Progress that records how long each stage (decode, stylize, encode) took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage, self._t = None, 0.0

    def start(self, stage: str, total: int | None) -> None:
        self._stage, self._t = stage, time.perf_counter()

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + time.perf_counter() - self._t


def media_options(frames: int, width: int):
    from rotoscope.media.options import MediaOptions

    return MediaOptions(fps=10, width=width, max_frames=frames)


def decode(frames: int, width: int) -> list[np.ndarray]:
    from rotoscope.media.decode import iter_frames

    return [f.image for f in iter_frames(SAMPLE, media_options(frames, width))]


def bare(images: list[np.ndarray]) -> tuple[float, float, list[np.ndarray]]:
    """Model load + a plain diffusers loop over frames already in memory: (total s, load s, frames)."""
    import torch
    from PIL import Image

    from rotoscope.models import ModelOptions, load_pipeline, make_scheduler

    start = time.perf_counter()
    pipe = load_pipeline(ModelOptions(model="tiny")).pipe
    pipe.scheduler = make_scheduler(SAMPLER, pipe.scheduler.config)
    loaded = time.perf_counter() - start
    out = []
    for image in images:
        result = pipe(prompt=PROMPT, image=Image.fromarray(image), strength=STRENGTH, num_inference_steps=STEPS,
                      guidance_scale=CFG, generator=torch.Generator().manual_seed(SEED), output_type="np").images[0]
        out.append(np.clip(np.rint(result * 255), 0, 255).astype(np.uint8))
    return time.perf_counter() - start, loaded, out


def rotoscope(frames: int, width: int, tmp: Path, run: int) -> tuple[float, Path, StageTimes]:
    """run_job end to end (model load, decode, PNGs, GIF) in a fresh job dir."""
    from rotoscope.jobs.runner import run_job
    from rotoscope.jobs.spec import JobSpec
    from rotoscope.media.options import OutputOptions
    from rotoscope.models import ModelOptions
    from rotoscope.stylize.options import StyleOptions

    job = tmp / f"job{run}"
    spec = JobSpec(
        source=str(SAMPLE),
        media=media_options(frames, width),
        model=ModelOptions(model="tiny"),
        style=StyleOptions(prompt=PROMPT, seed=SEED, steps=STEPS, strength=STRENGTH, cfg_scale=CFG, sampler=SAMPLER),
        output=OutputOptions(outputs=[str(tmp / f"out{run}.gif")]),
    )
    stages = StageTimes()
    start = time.perf_counter()
    result = run_job(spec, job_dir=job, progress=stages)
    seconds = time.perf_counter() - start
    assert result.frames_computed == frames, result
    return seconds, job, stages


def read_frames(job: Path) -> list[np.ndarray]:
    from PIL import Image

    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted((job / "frames").glob("*.png"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--profile", action="store_true", help="cProfile one rotoscope run and print the top entries")
    args = parser.parse_args()

    import os

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("ROTOSCOPE_CACHE", str(tmp / "cache"))
        from rotoscope.models import ensure_tiny_folder

        ensure_tiny_folder()  # build (or find) the tiny model before any timing
        images = decode(args.frames, args.width)
        assert len(images) == args.frames, f"the sample gave {len(images)} frames"
        bare(images[:1])  # warm-up: first-call costs (allocator, kernels) are paid by neither side

        bare_times, bare_loads, roto_times, bare_frames, job, stages_by_run = [], [], [], None, None, []
        for run in range(2):
            seconds, load, bare_frames = bare(images)
            bare_times.append(seconds)
            bare_loads.append(load)
            seconds, job, stages = rotoscope(args.frames, args.width, tmp, run)
            roto_times.append(seconds)
            stages_by_run.append(stages)

        ours = read_frames(job)
        assert len(ours) == len(bare_frames)
        diffs = [int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) for a, b in zip(ours, bare_frames)]
        identical = all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(ours, bare_frames))

        bare_s, roto_s = min(bare_times), min(roto_times)
        best = stages_by_run[roto_times.index(roto_s)].seconds
        rest = roto_s - sum(best.values())
        # the same work as the bare loop: everything but writing the GIF (which the bare loop does not do)
        without_encode = roto_s - best.get("encode", 0.0)
        bare_loop = bare_s - bare_loads[bare_times.index(bare_s)]
        n = args.frames
        size = f"{images[0].shape[1]}x{images[0].shape[0]}"
        print(f"{n} frames of {SAMPLE.name} at {size}, 10 fps; {SAMPLER}, {STEPS} steps, strength {STRENGTH}, "
              f"CFG {CFG:g}, seed {SEED}; model load included in both; min of 2 runs each\n")
        print_table(
            ["side", "run 1 s", "run 2 s", "min s", "s/frame"],
            [["bare diffusers loop", bare_times[0], bare_times[1], bare_s, bare_s / n],
             ["rotoscope run_job", roto_times[0], roto_times[1], roto_s, roto_s / n]],
        )
        print()
        print_table(
            ["rotoscope stage (best run)", "seconds"],
            [["decode → source PNGs", best.get("decode", 0.0)], ["stylize (+ frame PNGs, log)", best.get("stylize", 0.0)],
             ["encode GIF", best.get("encode", 0.0)], ["model load, spec, rest", rest]],
        )
        print()
        print_table(
            ["comparison", "rotoscope s", "bare s", "ratio"],
            [["end to end (GIF written)", roto_s, bare_s, roto_s / bare_s],
             ["without the GIF encode", without_encode, bare_s, without_encode / bare_s],
             ["stylize stage vs bare loop (no load)", best.get("stylize", 0.0), bare_loop,
              best.get("stylize", 0.0) / bare_loop]],
        )
        print(f"\nframes identical: {identical} (max abs diff {max(diffs)})")

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            rotoscope(args.frames, args.width, tmp, 99)
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
            print(text.getvalue())

        print_json({"bench": "overhead", "frames": n, "bare_s": round(bare_s, 3), "rotoscope_s": round(roto_s, 3),
                    "overhead_ratio": round(roto_s / bare_s, 3), "identical": identical, "max_abs_diff": max(diffs),
                    "gif_encode_s": round(best.get("encode", 0.0), 3),
                    "ratio_without_encode": round(without_encode / bare_s, 3)})


if __name__ == "__main__":
    main()
