"""Does rotoscope add time over a bare diffusers loop? Same clip, model, sampler, seed — one process.

    PYTHONPATH=src python bench/overhead.py [--frames 20] [--width 256] [--rounds 5] [--profile]

Sides (each timed with its model load). Every round runs each side once, in a rotated order;
a ratio is the median over rounds of the two sides' times in the same round, so the machine's
speed drifting (other work on a shared host) cancels out:

1. bare loop: the tiny pipeline loaded by rotoscope's own loader, "Euler a" set with
   ``make_scheduler``, then ``pipe(prompt=…, image=PIL, strength=0.3, steps=20, cfg=7,
   generator=manual_seed(seed), output_type="np")`` per frame, over frames already decoded
   in memory. It writes no file.
2. bare loop + GIF: the same, then the frames written with rotoscope's GifWriter — the
   same output as side 4, so the two do equal work.
3. rotoscope run → PNG frames: ``run_job`` on the same clip and settings in a fresh job dir,
   output ``frames/``: decode → source PNGs → stylise → frame PNGs (+infotext, log) → the
   frames copied to ``frames/``.
4. rotoscope run → GIF: the same with ``out.gif`` as the output (palette, LZW).

The job's frames/*.png are compared with the bare loop's uint8 frames.
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


def bare_gif(images: list[np.ndarray], frames_meta, path: Path) -> tuple[float, float, list[np.ndarray]]:
    """The bare loop, then its frames written to a GIF by rotoscope's GifWriter (timed together)."""
    from rotoscope.media.gif import GifWriter

    start = time.perf_counter()
    _, loaded, out = bare(images)
    with GifWriter(path) as writer:
        for meta, image in zip(frames_meta, out):
            writer.write(meta.with_image(image))
    return time.perf_counter() - start, loaded, out


def rotoscope(frames: int, width: int, tmp: Path, run: str, output: str) -> tuple[float, Path, StageTimes]:
    """run_job end to end (model load, decode, PNGs, the output) in a fresh job dir."""
    from rotoscope.jobs.runner import run_job
    from rotoscope.jobs.spec import JobSpec
    from rotoscope.media.options import OutputOptions
    from rotoscope.models import ModelOptions
    from rotoscope.stylize.options import StyleOptions

    job = tmp / f"job-{run}"
    spec = JobSpec(
        source=str(SAMPLE),
        media=media_options(frames, width),
        model=ModelOptions(model="tiny"),
        style=StyleOptions(prompt=PROMPT, seed=SEED, steps=STEPS, strength=STRENGTH, cfg_scale=CFG, sampler=SAMPLER),
        output=OutputOptions(outputs=[f"{tmp}/out-{run}{output}"]),
    )
    stages = StageTimes()
    start = time.perf_counter()
    result = run_job(spec, job_dir=job, progress=stages)
    seconds = time.perf_counter() - start
    assert result.frames_computed == frames, result
    return seconds, job, stages


def read_frames(job: Path) -> list[np.ndarray]:
    return read_frames_in(job / "frames")


def read_frames_in(folder: Path) -> list[np.ndarray]:
    from PIL import Image

    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all four sides; ratios are the median of the rounds'")
    parser.add_argument("--profile", action="store_true", help="cProfile one rotoscope GIF run and print the top entries")
    args = parser.parse_args()

    import os

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("ROTOSCOPE_CACHE", str(tmp / "cache"))
        from rotoscope.media.decode import iter_frames
        from rotoscope.models import ensure_tiny_folder

        ensure_tiny_folder()  # build (or find) the tiny model before any timing
        decoded = list(iter_frames(SAMPLE, media_options(args.frames, args.width)))
        images = [f.image for f in decoded]
        assert len(images) == args.frames, f"the sample gave {len(images)} frames"
        bare(images[:1])  # warm-up: first-call costs (allocator, kernels) are paid by no side

        sides = ["bare loop", "bare loop + GIF", "rotoscope run -> PNG frames", "rotoscope run -> GIF"]
        times: dict[str, list[float]] = {name: [] for name in sides}
        loads, stages, bare_frames, job = {}, {}, None, None
        for r in range(args.rounds):
            # Each round runs every side once, starting one further along each time, so no side
            # always runs first (or last) while the machine's speed drifts.
            for name in sides[r % 4:] + sides[: r % 4]:
                if name == "bare loop":
                    seconds, loads[r], bare_frames = bare(images)
                elif name == "bare loop + GIF":
                    seconds = bare_gif(images, decoded, tmp / f"bare{r}.gif")[0]
                elif name == "rotoscope run -> PNG frames":
                    seconds, job, _ = rotoscope(args.frames, args.width, tmp, f"png{r}", "/")
                else:
                    seconds, _, stage = rotoscope(args.frames, args.width, tmp, f"gif{r}", ".gif")
                    stages[r] = stage.seconds
                times[name].append(seconds)

        ours = read_frames(job)
        copied = read_frames_in(tmp / f"out-png{args.rounds - 1}")
        assert len(ours) == len(bare_frames) == len(copied)
        diffs = [int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) for a, b in zip(ours, bare_frames)]
        identical = all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(ours, bare_frames)) and all(
            np.array_equal(a, b) for a, b in zip(copied, bare_frames))

        best = {name: min(values) for name, values in times.items()}
        fastest = times["rotoscope run -> GIF"].index(best["rotoscope run -> GIF"])
        gif_stages = stages[fastest]

        def ratio(ours: str, theirs: str) -> float:
            """Median over rounds of ours / theirs, each pair timed in the same round."""
            return float(np.median([a / b for a, b in zip(times[ours], times[theirs])]))

        n = args.frames
        size = f"{images[0].shape[1]}x{images[0].shape[0]}"
        print(f"{n} frames of {SAMPLE.name} at {size}, 10 fps; {SAMPLER}, {STEPS} steps, strength {STRENGTH}, "
              f"CFG {CFG:g}, seed {SEED}; model load included; {args.rounds} rounds, each side once a round\n")
        print_table(["side", *[f"round {r + 1} s" for r in range(args.rounds)], "min s", "s/frame"],
                    [[name, *times[name], best[name], best[name] / n] for name in sides])
        print()
        print_table(["rotoscope run -> GIF, stage (its fastest round)", "seconds"],
                    [["decode -> source PNGs", gif_stages.get("decode", 0.0)],
                     ["stylize (+ frame PNGs, log)", gif_stages.get("stylize", 0.0)],
                     ["encode GIF", gif_stages.get("encode", 0.0)],
                     ["model load, spec, rest", best["rotoscope run -> GIF"] - sum(gif_stages.values())]])
        print()
        ratios = {
            "png_vs_bare": ratio("rotoscope run -> PNG frames", "bare loop"),
            "gif_vs_bare_gif": ratio("rotoscope run -> GIF", "bare loop + GIF"),
            "gif_vs_bare": ratio("rotoscope run -> GIF", "bare loop"),
            "stylize_vs_bare_loop": float(np.median([stages[r].get("stylize", 0.0) / (times["bare loop"][r] - loads[r])
                                                     for r in range(args.rounds)])),
        }
        print_table(
            ["comparison (median of the rounds' ratios)", "ratio", "≤ 1.05"],
            [["run -> PNG frames  vs  bare loop (writes nothing)", ratios["png_vs_bare"], ratios["png_vs_bare"] <= 1.05],
             ["run -> GIF  vs  bare loop + the same GIF writer", ratios["gif_vs_bare_gif"], ratios["gif_vs_bare_gif"] <= 1.05],
             ["run -> GIF  vs  bare loop (writes nothing)", ratios["gif_vs_bare"], ratios["gif_vs_bare"] <= 1.05],
             ["stylize stage  vs  bare loop (both without load)", ratios["stylize_vs_bare_loop"],
              ratios["stylize_vs_bare_loop"] <= 1.05]],
        )
        print(f"\nframes identical: {identical} (max abs diff {max(diffs)}; job frames and the PNG-frames output)")

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            rotoscope(args.frames, args.width, tmp, "profile", ".gif")
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
            print(text.getvalue())

        print_json({"bench": "overhead", "frames": n, "size": size, **{k: round(v, 3) for k, v in best.items()},
                    **{k: round(v, 3) for k, v in ratios.items()}, "identical": identical, "max_abs_diff": max(diffs),
                    "gif_encode_s": round(gif_stages.get("encode", 0.0), 3)})


if __name__ == "__main__":
    main()
