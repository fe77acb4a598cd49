"""Does spreading frames over Ray actors pay on this machine, and what does Ray add per frame?

    PYTHONPATH=src python bench/scale.py [--frames 24] [--width 64] [--steps 4] [--rounds 2]

One process, one local Ray cluster (rotoscope's own: 127.0.0.1, token, no dashboard; 2 CPUs). The same
gif2gif job (tiny model, 1 torch thread per worker, shared noise) is run, each time in a fresh job dir,
by three sides: the local executor (this process, 1 thread), 1 Ray worker, 2 Ray workers. Each side runs
the whole job (decode, stylise, the driver's writes, GIF encode) in a fresh job dir; the local side loads
its model in the run (as every local run does), the actors hold theirs from when their pool starts
(before the clock: a batch or a long job pays it once). Every round runs
the sides in a rotated order; a figure is the median over rounds.

- fps: frames per second of the stylise stage of a whole run (wall time of run_job).
- ratio: fps / the local executor's fps in the same round.
- overhead ms/frame: (1 worker's time - local time) / frames: what Ray adds to a frame (PNG encode in
  the actor and decode in the driver, the object store, scheduling) with nothing gained from parallelism.

The Ray sides' frames are checked byte-identical to the local side's.

``--split``: what splitting costs in temporal consistency. Sequential techniques and AnimateDiff split only
where a chain starts anyway (a shot cut, a stored frame), so a clip of one shot runs on one actor; to spread
it, mark where it may restart (``--shots 12``: the chain restarts there, as at a cut). Each job below runs
unsplit (local, ``--shots none``) and split in two (2 Ray workers, ``--shots N/2``), on the sample clip, and
both are scored (rotoscope.metrics.score_frames, DIS flow, every pair counted, the seam too):

- warp error: mean over the clip; seam: the warp error of the pair across the restart; Δ: split − unsplit.
- keyframes / ebsynth split into keys then spans without restarting anything: their Δ is 0 (frames byte-identical).

``--driver``: where the driver's writes become the limit. The driver alone writes the job store: per frame it
writes the PNG an actor made (infotext included) with the store's atomic write (fsync, rename, log line).
Timed here on frames of the sample clip at 512x512 and 1024x576, against the baseline of the driver as it
was (decode the actor's PNG, encode it again with the infotext, write), then a model of N GPUs: per-GPU frame rates published for a real model (StreamDiffusion's SD-Turbo
1-step img2img ~94 fps on an RTX 4090; LCM-LoRA 4-step ~37 fps; SD 1.5 img2img at 20 steps x strength 0.3,
6 steps, ~4 fps) with the measured Ray cost per frame added, capped by the driver's write rate: frames/s and
clips per hour (a 3 s clip at 10 fps, 30 frames) for 1-64 GPUs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import print_json, print_table  # noqa: E402


def _digests(job: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((job / "frames").glob("[0-9]*.png"))]


#: the split jobs of --split: name → options (each runs unsplit and split in two)
SPLIT_JOBS = {
    "loopback": dict(consistency="loopback"),
    "flow-warp": dict(consistency="flow-warp"),
    "color-match": dict(consistency="color-match"),
    "loopback+flow-warp+color-match": dict(consistency="loopback,flow-warp,color-match"),
    "animatediff (windows 8, overlap 2)": dict(method="animatediff", context_length=8, context_overlap=2),
    "keyframes (every:6)": dict(method="keyframes", keys="every:6"),
    "ebsynth (every:6)": dict(method="ebsynth", keys="every:6"),
}


def _scored(job: Path, seam: int) -> tuple[float, float]:
    from rotoscope.jobs.store import JobDir
    from rotoscope.metrics import score_frames

    store = JobDir(job)
    count = len(store.timeline())
    score = score_frames(((store.output_image(i), store.source_image(i)) for i in range(count)), shots="none")
    return score.warp_error, score.pairs[seam - 1]


def split_quality(args, root: Path) -> None:
    from rotoscope.executors.cluster import start_local
    from rotoscope.executors.ray_executor import RayExecutor
    from rotoscope.jobs.build import build_spec
    from rotoscope.jobs.runner import run_job

    sample = str(Path(__file__).resolve().parents[1] / "samples" / "cup.mp4")
    look = dict(model="tiny", prompt="ink drawing", seed=3, steps=args.steps, strength=0.5, width=args.width,
                threads=1, max_frames=args.frames)
    seam = args.frames // 2
    rows, data = [], {"bench": "scale-split", "frames": args.frames, "width": args.width, "steps": args.steps, "seam": seam}
    with start_local(2, gpus=0) as cluster:
        executor = RayExecutor(cluster, workers=2, threads=1)
        for n, (name, options) in enumerate(SPLIT_JOBS.items()):
            restart = options.get("method") not in ("keyframes", "ebsynth")  # they split without restarting
            jobs = {}
            for side, shots, runner in (("unsplit", "none", None), ("split", str(seam) if restart else "none", executor)):
                job = root / f"split{n}-{side}"
                run_job(build_spec(sample, {**look, **options, "shots": shots, "output": [str(job / "out.gif")]}),
                        job_dir=job, executor=runner)
                jobs[side] = job
            (whole, seam_u), (split, seam_s) = _scored(jobs["unsplit"], seam), _scored(jobs["split"], seam)
            same = _digests(jobs["unsplit"]) == _digests(jobs["split"])
            units = executor.last_units
            rows.append([name, whole, split, split - whole, seam_u, seam_s, units, "yes" if same else "no"])
            data[name] = {"warp_error_unsplit": round(whole, 4), "warp_error_split": round(split, 4),
                          "delta": round(split - whole, 4), "seam_unsplit": round(seam_u, 4),
                          "seam_split": round(seam_s, 4), "units": units, "identical": same}
        executor.close()
    print_table(["job", "warp err unsplit", "split", "Δ", "seam unsplit", "seam split", "units", "identical"], rows)
    print_json(data)


#: per-GPU frame rates published for real models (see the module docstring), frames/s
GPU_RATES = {"SD-Turbo 1 step (StreamDiffusion, RTX 4090)": 94.0, "LCM-LoRA 4 steps (RTX 4090)": 37.0,
             "SD 1.5 img2img 6 steps (RTX 4090)": 4.0}
CLIP_FRAMES = 30  # a 3 s clip at 10 fps


def driver_limit(args, root: Path) -> None:
    """Time the driver's per-frame write, then model frames/s and clips/hour against the number of GPUs."""
    from PIL import Image

    from rotoscope.executors.worker import _decode
    from rotoscope.jobs.store import JobDir
    from rotoscope.media.decode import iter_frames
    from rotoscope.media.encode import png_bytes
    from rotoscope.media.options import MediaOptions

    sample = Path(__file__).resolve().parents[1] / "samples" / "cup.mp4"
    source = [f.image for f in iter_frames(sample, MediaOptions(fps=10, max_frames=8))]
    data: dict = {"bench": "scale-driver", "frames": args.frames}
    rows = []
    per_frame = {}
    for size in ((512, 512), (1024, 576)):
        frames = [np.asarray(Image.fromarray(f).resize(size)) for f in source]
        sent = [png_bytes(f) for f in frames]  # what actors send
        job = JobDir(root / f"driver-{size[0]}")
        again, write = [], []
        for i in range(args.frames):  # alternate the two, so load hits both alike
            t = time.perf_counter()  # the baseline: the driver as it was, decoding and encoding the frame again
            job.save_output(i, _decode(sent[i % len(sent)]), "infotext", 0.0)
            again.append(time.perf_counter() - t)
            t = time.perf_counter()  # the driver now: the actor's PNG written as it is
            job.save_output_png(args.frames + i, sent[i % len(sent)], 0.0)
            write.append(time.perf_counter() - t)
        b, w = statistics.median(again), statistics.median(write)
        per_frame[size] = w
        rows.append([f"{size[0]}x{size[1]}", b * 1000, w * 1000, b / w, 1 / b, 1 / w])
        data[f"write_ms_{size[0]}x{size[1]}"] = round(w * 1000, 2)
        data[f"reencode_ms_{size[0]}x{size[1]}"] = round(b * 1000, 2)
    print_table(["frame", "decode + encode + write ms (before)", "write the PNG ms (now)", "speedup",
                 "max frames/s before", "max frames/s now"], rows)
    limit = 1 / per_frame[(512, 512)]
    overhead = args.ray_overhead_ms / 1000
    model_rows, model = [], {}
    for name, rate in GPU_RATES.items():
        per_gpu = 1 / (1 / rate + overhead)  # a unit's Ray cost adds to each GPU's frame time
        for gpus in (1, 2, 4, 8, 16, 32, 64):
            fps = min(gpus * per_gpu, limit)
            model_rows.append([name, gpus, fps, fps * 3600 / CLIP_FRAMES, "driver" if gpus * per_gpu > limit else "GPUs"])
            model[f"{name} x{gpus}"] = round(fps, 1)
    print(f"\nN GPUs at published rates, + {args.ray_overhead_ms:.1f} ms Ray cost a frame, capped by the driver's "
          f"512x512 writes ({limit:.0f} frames/s); clips of {CLIP_FRAMES} frames")
    print_table(["model", "GPUs", "frames/s", "clips/hour", "limit"], model_rows)
    data["driver_limit_fps_512"] = round(limit, 1)
    data["model_fps"] = model
    print_json(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--split", action="store_true", help="measure what splitting changes (warp error), not throughput")
    parser.add_argument("--driver", action="store_true", help="time the driver's writes and model N GPUs")
    parser.add_argument("--ray-overhead-ms", type=float, default=5.0,
                        help="Ray's cost a frame for --driver's model (this bench's throughput run measures it)")
    args = parser.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if args.driver:
        driver_limit(args, Path(tempfile.mkdtemp(prefix="bench-driver-")))
        return
    if args.split:
        split_quality(args, Path(tempfile.mkdtemp(prefix="bench-split-")))
        return

    from rotoscope.executors.cluster import start_local
    from rotoscope.executors.ray_executor import RayExecutor
    from rotoscope.jobs.build import build_spec
    from rotoscope.jobs.runner import run_job
    from tests.clips import moving_box_clip

    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    clip = moving_box_clip(root / "clip.mp4", frames=args.frames, size=(args.width, args.width * 3 // 4))
    look = dict(model="tiny", prompt="ink drawing", seed=3, steps=args.steps, strength=0.5, width=args.width, threads=1)
    spec = build_spec(str(clip), {**look, "output": [str(root / "warm.gif")]})
    run_job(spec, job_dir=root / "warm")  # imports and the tiny model's files warm before any clock
    counter = iter(range(10**6))

    def timed(executor) -> tuple[float, list[str]]:
        job = root / f"job{next(counter)}"
        start = time.perf_counter()
        run_job(build_spec(str(clip), {**look, "output": [str(job / "out.gif")]}), job_dir=job, executor=executor)
        return time.perf_counter() - start, _digests(job)

    times: dict[str, list[float]] = {"local": [], "ray 1 worker": [], "ray 2 workers": []}
    with start_local(2, gpus=0) as cluster:
        pools = {name: RayExecutor(cluster, workers=n, threads=1) for name, n in (("ray 1 worker", 1), ("ray 2 workers", 2))}
        sides = ["local", *pools]
        for r in range(args.rounds):
            order = sides[r % 3:] + sides[:r % 3]
            found = {}
            for name in order:
                executor = pools.get(name)
                if executor is not None:
                    for other in pools.values():  # two actors on two CPUs: one pool at a time
                        if other is not executor:
                            other.close()
                    executor.pool(spec)
                seconds, frames = timed(executor)
                times[name].append(seconds)
                found[name] = frames
            assert found["ray 1 worker"] == found["local"] == found["ray 2 workers"], "Ray frames differ from local"
        for executor in pools.values():
            executor.close()

    local = statistics.median(times["local"])
    rows, data = [], {"bench": "scale", "frames": args.frames, "width": args.width, "steps": args.steps,
                      "rounds": args.rounds, "cpus": os.cpu_count()}
    for name, values in times.items():
        seconds = statistics.median(values)
        ratio = statistics.median(t_local / t for t_local, t in zip(times["local"], values))
        rows.append([name, seconds, args.frames / seconds, ratio])
        key = name.replace(" ", "_")
        data[f"{key}_fps"] = round(args.frames / seconds, 3)
        data[f"{key}_ratio"] = round(ratio, 3)
    overhead = statistics.median((t1 - t0) / args.frames for t0, t1 in zip(times["local"], times["ray 1 worker"]))
    data["ray_overhead_ms_per_frame"] = round(overhead * 1000, 2)
    print_table(["side", "seconds", "fps", "ratio to local"], rows)
    print(f"Ray overhead per frame (1 worker - local): {overhead * 1000:.1f} ms; frames byte-identical: yes")
    print_json(data)


if __name__ == "__main__":
    main()
