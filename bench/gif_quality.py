"""GIF quality per byte: rotoscope's GifWriter against ffmpeg and Pillow.

    python bench/gif_quality.py [--source samples/cup.mp4] [--seconds 3] [--fps 10] [--width 320]

Makes the reference frames the way users do by hand (first 3 s, 10 fps,
320 px wide, lanczos; PyAV filter graph), encodes them with each encoder,
decodes every GIF back (Pillow, composited full frames) and compares the
frame shown at each reference time with the reference: bytes, mean PSNR,
mean SSIM (rotoscope.metrics: mean over RGB channels), seconds.

Needs an ``ffmpeg`` binary for the ffmpeg rows (installed with apt-get when
missing). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
try:
    import rotoscope  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

from rotoscope.core.frames import Frame  # noqa: E402
from rotoscope.media.gif import GifOptions, GifWriter  # noqa: E402
from rotoscope.metrics import psnr, ssim  # noqa: E402


def reference_frames(source: Path, seconds: float, fps: int, width: int) -> list[np.ndarray]:
    """Decode ``seconds`` from the start at ``fps``, scaled to ``width`` with lanczos."""
    out: list[np.ndarray] = []
    with av.open(str(source)) as c:
        s = c.streams.video[0]
        g = av.filter.Graph()
        src = g.add_buffer(template=s)
        f1 = g.add("fps", f"{fps}")
        f2 = g.add("scale", f"{width}:-2:flags=lanczos")
        f3 = g.add("format", "rgb24")
        sink = g.add("buffersink")
        src.link_to(f1)
        f1.link_to(f2)
        f2.link_to(f3)
        f3.link_to(sink)
        g.configure()
        n = int(round(seconds * fps))

        def drain() -> None:
            while len(out) < n:
                try:
                    fr = g.pull()
                except (av.BlockingIOError, av.EOFError):
                    return
                out.append(fr.to_ndarray(format="rgb24"))

        for frame in c.decode(s):
            g.push(frame)
            drain()
            if len(out) >= n:
                break
        if len(out) < n:
            g.push(None)
            drain()
    return out[:n]


def decode_gif(path: Path) -> list[tuple[float, float, np.ndarray]]:
    """(start s, duration s, full RGB frame) for each GIF frame, composited by Pillow."""
    frames = []
    t = 0.0
    with Image.open(path) as im:
        i = 0
        while True:
            try:
                im.seek(i)
            except EOFError:
                break
            d = im.info.get("duration", 100) / 1000.0
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            frames.append((t, d, np.asarray(Image.alpha_composite(bg, rgba).convert("RGB"))))
            t += d
            i += 1
    return frames


def score(path: Path, refs: list[np.ndarray], fps: int) -> tuple[float, float, int]:
    dec = decode_gif(path)
    starts = np.array([f[0] for f in dec])
    ps, ss = [], []
    for i, ref in enumerate(refs):
        t = i / fps + 1e-6
        j = int(np.searchsorted(starts, t, side="right") - 1)
        img = dec[max(j, 0)][2]
        ps.append(min(psnr(ref, img), 99.0))
        ss.append(ssim(ref, img))
    return float(np.mean(ps)), float(np.mean(ss)), len(dec)


def ensure_ffmpeg() -> str | None:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    print("ffmpeg not found; trying `apt-get install -y ffmpeg` …", file=sys.stderr)
    try:
        subprocess.run(["apt-get", "install", "-y", "ffmpeg"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(
            f"Could not install ffmpeg ({e}); install it (e.g. `sudo apt-get install ffmpeg`) "
            "to get the ffmpeg rows. Continuing without them.",
            file=sys.stderr,
        )
        return None
    return shutil.which("ffmpeg")


def run_ffmpeg(exe: str, pngs: str, fps: int, vf: str, out: Path) -> None:
    subprocess.run(
        [exe, "-v", "error", "-y", "-framerate", str(fps), "-i", pngs, "-lavfi", vf, str(out)],
        check=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT / "samples" / "cup.mp4")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--width", type=int, default=320)
    args = ap.parse_args()

    refs = reference_frames(args.source, args.seconds, args.fps, args.width)
    h, w = refs[0].shape[:2]
    tmp = Path(tempfile.mkdtemp(prefix="gifbench-"))
    rows: list[dict] = []
    try:
        for i, r in enumerate(refs):
            Image.fromarray(r).save(tmp / f"ref{i:04d}.png")
        pngs = str(tmp / "ref%04d.png")
        dt = Fraction(1, args.fps)

        def ours(name: str, opts: GifOptions) -> None:
            out = tmp / f"{name}.gif"
            t0 = time.perf_counter()
            with GifWriter(out, opts) as wr:
                for i, r in enumerate(refs):
                    wr.write(Frame(i, float(i * dt), float(dt), r))
            add(name, out, time.perf_counter() - t0)

        def add(name: str, out: Path, secs: float) -> None:
            p, s, n = score(out, refs, args.fps)
            rows.append(
                {"encoder": name, "bytes": out.stat().st_size, "psnr": round(p, 3), "ssim": round(s, 5),
                 "frames": n, "seconds": round(secs, 3)}
            )

        ours("rotoscope", GifOptions())
        ours("rotoscope-per-frame", GifOptions(palette="per-frame"))
        ours("rotoscope-lossy8", GifOptions(lossy=8))
        exe = ensure_ffmpeg()
        if exe:
            for name, vf in [
                ("ffmpeg-default", "split[a][b];[a]palettegen[p];[b][p]paletteuse"),
                (
                    "ffmpeg-best",
                    "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=none:diff_mode=rectangle",
                ),
            ]:
                out = tmp / f"{name}.gif"
                t0 = time.perf_counter()
                run_ffmpeg(exe, pngs, args.fps, vf, out)
                add(name, out, time.perf_counter() - t0)
        out = tmp / "pillow.gif"
        t0 = time.perf_counter()
        ims = [Image.fromarray(r) for r in refs]
        ims[0].save(out, save_all=True, append_images=ims[1:], duration=int(1000 / args.fps), loop=0)
        add("pillow-save_all", out, time.perf_counter() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"source {args.source}  {len(refs)} frames {w}x{h}  ({args.seconds:g} s, {args.fps} fps)")
    print(f"{'encoder':<22}{'bytes':>10}{'PSNR dB':>10}{'SSIM':>9}{'frames':>8}{'seconds':>9}")
    for r in rows:
        print(f"{r['encoder']:<22}{r['bytes']:>10}{r['psnr']:>10.2f}{r['ssim']:>9.4f}{r['frames']:>8}{r['seconds']:>9.2f}")
    by = {r["encoder"]: r for r in rows}
    o, f = by["rotoscope"], by.get("ffmpeg-best")
    result = {
        "bench": "gif_quality",
        "source": str(args.source),
        "rows": rows,
        "ours_bytes": o["bytes"],
        "ours_ssim": o["ssim"],
        "ffmpeg_best_bytes": f["bytes"] if f else None,
        "ffmpeg_best_ssim": f["ssim"] if f else None,
        "beats_ffmpeg_best": bool(f and o["ssim"] >= f["ssim"] and o["bytes"] < f["bytes"]),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
