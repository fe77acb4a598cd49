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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import print_json, print_table  # noqa: E402


def _digests(job: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((job / "frames").glob("[0-9]*.png"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

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
