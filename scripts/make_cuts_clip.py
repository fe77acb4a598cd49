"""Write the clips with and without cuts that shot detection is tested and measured on.

    .venv/bin/python scripts/make_cuts_clip.py                 # samples/cuts.mp4 and samples/busy-pan.mp4
    .venv/bin/python scripts/make_cuts_clip.py --out out/clips --width 64

Everything is drawn here (numpy; PyAV writes H.264), so nothing is downloaded; the clips are the
project's own work, under the project's licence (samples/cuts.mp4.COPYRIGHT).

- ``cuts.mp4``: five generated scenes joined with hard cuts, 25 fps, 4 s (100 frames); the
  shots are ``SHOTS`` frames long, so the cuts are at ``CUTS`` (the first frame of each new
  shot). Each scene is a smooth random texture in its own palette seen by a panning camera,
  with shapes moving across it.
- ``busy-pan.mp4``: one scene, no cut, a fast whip pan (4 → 24 px a frame at 160 px wide) over a
  high-contrast texture with moving shapes: every frame changes a lot, none is a cut (false
  positives must be 0 on it).

tests/clips.py and bench/consistency.py import the drawing functions from this file.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

FPS = 25
SHOTS = (22, 18, 25, 15, 20)
CUTS = tuple(int(c) for c in np.cumsum(SHOTS)[:-1])  # (22, 40, 65, 80)
BUSY_FRAMES = 75
#: per scene: (palette low RGB, palette high RGB, camera px/frame (x, y) at 160 px wide, texture seed)
SCENES = (
    ((20, 40, 120), (250, 220, 90), (3.0, 0.0), 1),
    ((10, 90, 30), (220, 250, 200), (-2.0, 1.5), 2),
    ((120, 20, 40), (255, 170, 120), (0.0, -2.5), 3),
    ((40, 40, 40), (230, 230, 255), (4.0, 2.0), 4),
    ((90, 30, 140), (120, 250, 240), (-3.5, -1.0), 5),
)


def _texture(seed: int, shape: tuple[int, int], cells: int = 10) -> np.ndarray:
    """A smooth random field in 0..1 (bicubic-upsampled noise plus finer detail), ``shape`` = (h, w)."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = shape
    coarse = cv2.resize(rng.random((cells, cells * w // h + 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.random((cells * 4, (cells * 4) * w // h + 1)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    field = 0.7 * coarse + 0.3 * fine
    field -= field.min()
    return field / max(float(field.max()), 1e-6)


def _colourise(field: np.ndarray, low, high) -> np.ndarray:
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    return (low + field[..., None] * (high - low)).clip(0, 255)


def _disc(image: np.ndarray, cx: float, cy: float, r: float, colour) -> None:
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    image[(xs - cx) ** 2 + (ys - cy) ** 2 < r * r] = colour


#: the longest shot a scene can fill without its camera leaving the drawn canvas
MAX_SHOT = 60


@lru_cache(maxsize=16)
def _canvas(scene: int, w: int, h: int) -> np.ndarray:
    low, high, (vx, vy), seed = SCENES[scene % len(SCENES)]
    s = w / 160
    pad_x, pad_y = int(abs(vx) * s * MAX_SHOT) + 2, int(abs(vy) * s * MAX_SHOT) + 2
    field = _texture(seed, (h + 2 * pad_y, w + 2 * pad_x), cells=max(4, int(10 * (h + 2 * pad_y) / (h * 3))))
    return _colourise(field, low, high)


def scene_frame(scene: int, t: int, size: tuple[int, int] = (160, 96)) -> np.ndarray:
    """Frame ``t`` (< ``MAX_SHOT``) of scene ``scene`` (H×W×3 uint8) at ``size`` = (width, height)."""
    low, high, (vx, vy), _ = SCENES[scene % len(SCENES)]
    w, h = size
    s = w / 160
    canvas = _canvas(scene, w, h)
    pad_y, pad_x = (canvas.shape[0] - h) // 2, (canvas.shape[1] - w) // 2
    x, y = pad_x + int(round(vx * s * t)), pad_y + int(round(vy * s * t))
    image = canvas[y:y + h, x:x + w].copy()
    colour = tuple(255 - c for c in high)
    _disc(image, (0.1 * w + 2.5 * s * t) % w, h * (0.35 + 0.1 * scene % 3 / 3), 9 * s, colour)
    _disc(image, w - (0.2 * w + 1.5 * s * t) % w, h * 0.7, 6 * s, low)
    return image.astype(np.uint8)


def cuts_frames(size: tuple[int, int] = (160, 96), shots: tuple[int, ...] = SHOTS,
                first: int = 0) -> list[np.ndarray]:
    """The clip with cuts: ``shots[k]`` frames of scene ``first + k`` for each k (scene ``first`` first)."""
    return [scene_frame(first + k, t, size) for k, n in enumerate(shots) for t in range(n)]


def busy_frames(size: tuple[int, int] = (160, 96), count: int = BUSY_FRAMES) -> list[np.ndarray]:
    """The busy clip without a cut: a whip pan over a high-contrast texture, shapes moving across it."""
    w, h = size
    s = w / 160
    speeds = [s * (4 + 20 * min(1.0, t / (0.6 * count))) for t in range(count)]  # 4 → 24 px a frame
    travel = int(sum(speeds)) + w + 4
    field = _texture(11, (h, travel), cells=6)
    stripes = (np.sin(np.arange(travel) / (3.0 * s))[None, :] > 0).astype(np.float32)
    canvas = _colourise(0.6 * field + 0.4 * stripes, (10, 10, 30), (250, 240, 200))
    out, x = [], 0.0
    for t in range(count):
        image = canvas[:, int(x):int(x) + w].copy()
        _disc(image, (0.8 * w - 3 * s * t) % w, 0.4 * h, 10 * s, (230, 40, 40))
        _disc(image, (0.1 * w + 2 * s * t) % w, 0.75 * h, 7 * s, (40, 200, 255))
        out.append(image.astype(np.uint8))
        x += speeds[t]
    return out


def write_mp4(path: str | Path, frames: list[np.ndarray], fps: int = FPS, crf: int = 20) -> Path:
    """H.264 (yuv420p) at ``fps``; sides rounded down to even numbers."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    w, h = w - w % 2, h - h % 2
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "samples"))
    parser.add_argument("--width", type=int, default=160)
    args = parser.parse_args()
    size = (args.width, round(args.width * 0.6))
    out = Path(args.out)
    for name, frames in (("cuts.mp4", cuts_frames(size)), ("busy-pan.mp4", busy_frames(size))):
        path = write_mp4(out / name, frames)
        print(f"wrote {path} ({path.stat().st_size} bytes, {len(frames)} frames at {FPS} fps)")
    print(f"cuts at frames {', '.join(map(str, CUTS))}")


if __name__ == "__main__":
    main()
