"""How fast does rotoscope start, and how does `convert` compare with ffmpeg's best GIF?

    python bench/startup.py [--rounds 5] [--src PATH] [--profile]

Whole processes, each timed from spawn to exit (wall clock), the same venv python:

- ``python -c pass``: the floor every ratio is taken against;
- ``python -c "import rotoscope"``;
- ``rotoscope --help``, ``rotoscope probe samples/cup.mp4``: run the way the console
  script does (``from rotoscope.cli import main; main()``), argv[0] = ``rotoscope``;
- ``rotoscope convert samples/cup.mp4 --duration 3 --fps 10 --width 320 -o X.gif``;
- ``ffmpeg -ss 0 -t 3 -i samples/cup.mp4 -vf "fps=10,scale=320:-1:flags=lanczos,split[a][b];
  [a]palettegen[p];[b][p]paletteuse" X.gif`` (ffmpeg's two-pass palette), when an ffmpeg
  binary is on PATH (else the row says "missing");
- ``gifski`` (ffmpeg → PNG frames → ``gifski --fps 10 --width 320``), when on PATH.

Every round runs each command once, in an order rotated by one each round, so the
machine's speed drifting (a shared host) hits all commands alike. A ratio is the median
over rounds of (command ÷ ``python -c pass``) — or, for convert, (rotoscope ÷ ffmpeg) —
taken within the same round. The GIFs are compared with the source frames (first 3 s,
10 fps, 320 px, lanczos): mean SSIM, PSNR, bytes (see ``gif_quality``).
``--src`` times another checkout's rotoscope (e.g. the commit before a change).
Asserts nothing. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT, SAMPLE, print_json, print_table

SECONDS, FPS, WIDTH = 3, 10, 320
FFMPEG_VF = f"fps={FPS},scale={WIDTH}:-1:flags=lanczos,split[a][b];[a]palettegen[p];[b][p]paletteuse"
# What the console script `rotoscope` runs (pyproject: rotoscope = "rotoscope.cli:main").
ENTRY = "import sys; sys.argv[0] = 'rotoscope'; from rotoscope.cli import main; sys.exit(main())"


def commands(tmp: Path, ffmpeg: str | None, gifski: str | None) -> dict[str, list[str] | None]:
    py = sys.executable
    cli = [py, "-c", ENTRY]
    cmds: dict[str, list[str] | None] = {
        "python -c pass": [py, "-c", "pass"],
        "import rotoscope": [py, "-c", "import rotoscope"],
        "rotoscope --help": [*cli, "--help"],
        "rotoscope probe": [*cli, "probe", str(SAMPLE)],
        "rotoscope convert": [*cli, "convert", str(SAMPLE), "--duration", str(SECONDS), "--fps", str(FPS),
                              "--width", str(WIDTH), "-o", str(tmp / "rotoscope.gif"), "--overwrite"],
        "ffmpeg two-pass": None if ffmpeg is None else
        [ffmpeg, "-v", "error", "-y", "-ss", "0", "-t", str(SECONDS), "-i", str(SAMPLE), "-vf", FFMPEG_VF,
         str(tmp / "ffmpeg.gif")],
        "gifski": None,
    }
    if ffmpeg and gifski:
        frames = tmp / "gifski-frames"
        script = (f"rm -rf {frames} && mkdir -p {frames} && "
                  f"{ffmpeg} -v error -ss 0 -t {SECONDS} -i {SAMPLE} -vf fps={FPS} {frames}/f%04d.png && "
                  f"{gifski} --quiet --fps {FPS} --width {WIDTH} -o {tmp / 'gifski.gif'} {frames}/f*.png")
        cmds["gifski"] = ["sh", "-c", script]
    return cmds


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    return seconds


def source_frames(seconds: float) -> list[tuple[float, np.ndarray]]:
    """Every source frame in the first ``seconds`` (+ one output interval), scaled like the GIFs: (time, RGB)."""
    import av

    out = []
    with av.open(str(SAMPLE)) as c:
        s = c.streams.video[0]
        for frame in c.decode(s):
            t = float(frame.pts * s.time_base)
            if t > seconds + 1 / FPS:
                break
            out.append((t, frame.reformat(width=WIDTH, height=round(WIDTH * frame.height / frame.width),
                                          format="rgb24", interpolation="LANCZOS").to_ndarray()))
    return out


def gif_quality(paths: dict[str, Path]) -> dict[str, dict]:
    """Each GIF against the source: bytes, and mean SSIM / PSNR of its frames.

    ``ssim``: each GIF frame against the source frame it best matches among those on screen
    within one output interval of its time: neutral about which source frame a tool samples
    (ffmpeg's fps filter takes the one on screen at (k + ½)/fps, rotoscope the one at k/fps).
    ``ssim_fps_ref``/``psnr_fps_ref``: against ffmpeg's fps-filter frames (bench/gif_quality.py's
    reference), which favours tools that sample as ffmpeg does.
    """
    from gif_quality import decode_gif, reference_frames, score

    from rotoscope.metrics import psnr, ssim

    refs = reference_frames(SAMPLE, SECONDS, FPS, WIDTH)
    source = source_frames(SECONDS)
    out = {}
    for name, path in paths.items():
        if not path.exists():
            continue
        psnr_ref, ssim_ref, frames = score(path, refs, FPS)
        best_ssim, best_psnr = [], []
        for start, _, image in decode_gif(path)[: SECONDS * FPS]:
            near = [img for t, img in source if abs(t - start) <= 1 / FPS + 1e-6]
            scores = [(ssim(img, image), psnr(img, image)) for img in near]
            s, p = max(scores)
            best_ssim.append(s)
            best_psnr.append(min(p, 99.0))
        out[name] = {"ssim": round(float(np.mean(best_ssim)), 4), "psnr": round(float(np.mean(best_psnr)), 2),
                     "ssim_fps_ref": round(ssim_ref, 4), "psnr_fps_ref": round(psnr_ref, 2),
                     "bytes": path.stat().st_size, "frames": frames}
    return out


def profile_convert(src: Path, tmp: Path, top: int) -> None:
    """cProfile of the convert command, in this process (imports included)."""
    sys.path.insert(0, str(src))
    sys.argv = ["rotoscope", "convert", str(SAMPLE), "--duration", str(SECONDS), "--fps", str(FPS), "--width",
                str(WIDTH), "-o", str(tmp / "profiled.gif"), "--overwrite"]
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        from rotoscope.cli import main

        main()
    except SystemExit:
        pass
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(top)
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all commands; ratios are medians over rounds")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the rotoscope source tree to time")
    parser.add_argument("--profile", action="store_true", help="cProfile one convert (to stderr) and stop")
    args = parser.parse_args()
    src = args.src.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.profile:
            profile_convert(src, tmp, 30)
            return
        env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1", "COLUMNS": "100"}
        ffmpeg, gifski = shutil.which("ffmpeg"), shutil.which("gifski")
        cmds = commands(tmp, ffmpeg, gifski)
        runnable = [name for name, c in cmds.items() if c is not None]
        for name in runnable:  # warm the page cache and any .pyc files; not timed
            timed(cmds[name], env)
        times: dict[str, list[float]] = {name: [] for name in runnable}
        for r in range(args.rounds):
            order = runnable[r % len(runnable):] + runnable[:r % len(runnable)]
            for name in order:
                times[name].append(timed(cmds[name], env))
        base = times["python -c pass"]

        def ratio(name: str, over: list[float]) -> float | None:
            if name not in times:
                return None
            return statistics.median(t / b for t, b in zip(times[name], over))

        quality = gif_quality({"rotoscope convert": tmp / "rotoscope.gif", "ffmpeg two-pass": tmp / "ffmpeg.gif",
                               "gifski": tmp / "gifski.gif"})
    rows, result = [], {"bench": "startup", "rounds": args.rounds, "src": str(src), "python": sys.executable,
                        "ffmpeg": ffmpeg, "gifski": gifski, "commands": {}}
    ff = times.get("ffmpeg two-pass")
    for name, cmd in cmds.items():
        if cmd is None:
            rows.append([name, "missing", "", "", "", "", "", ""])
            result["commands"][name] = None
            continue
        q = quality.get(name, {})
        x_pass = ratio(name, base)
        x_ffmpeg = ratio(name, ff) if ff and name in ("rotoscope convert", "gifski") else None
        median = statistics.median(times[name])
        rows.append([name, median, round(x_pass, 2), "" if x_ffmpeg is None else round(x_ffmpeg, 2),
                     q.get("ssim", ""), q.get("psnr", ""), q.get("ssim_fps_ref", ""), q.get("bytes", "")])
        result["commands"][name] = {"median_s": round(median, 4), "x_python_pass": round(x_pass, 3),
                                    "x_ffmpeg": None if x_ffmpeg is None else round(x_ffmpeg, 3), **q}
    print_table(["command", "median s", "× python -c pass", "× ffmpeg", "SSIM", "PSNR", "SSIM vs fps ref", "bytes"], rows)
    print_json(result)


if __name__ == "__main__":
    main()
