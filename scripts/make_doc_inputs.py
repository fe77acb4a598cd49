"""Write the small inputs the documentation's examples use, into out/inputs/ (or the folder given).

    .venv/bin/python scripts/make_doc_inputs.py            # from the repository root

Everything is made from samples/cup.mp4 (or drawn), so nothing is downloaded:

- ``mask.png``      128×96, white ellipse over the cup (white = change, black = keep)
- ``mask.mp4``      the same ellipse moving right, one mask per frame (5 frames at 5 fps)
- ``masks/``        three mask PNGs (fewer than a 5-frame clip: for --mask-hold-last)
- ``greenscreen.mp4`` the sample's first second at 5 fps, 128×96, its light wall keyed to #00ff00
- ``cutout.apng``   the same frames with the wall transparent (RGBA)
- ``lineart/``      line drawings of those frames (white lines on black, OpenCV Canny): precomputed
                    control frames for ``--control lineart --control-image-dir lineart=out/inputs/lineart``
- ``models/tiny-sd/`` a local diffusers folder (a copy of the offline ``tiny`` test model)

tests/test_docs.py runs this first, in the folder where it then runs every documented command.
"""

from __future__ import annotations

import shutil
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SIZE = (128, 96)
FPS = 5


def ellipse_mask(dx: int = 0) -> Image.Image:
    mask = Image.new("L", SIZE, 0)
    ImageDraw.Draw(mask).ellipse((52 + dx, 18, 92 + dx, 82), fill=255)
    return mask


def sample_frames(count: int = FPS) -> list[np.ndarray]:
    """The sample's first ``count`` frames at 5 fps, scaled to 128×96 (RGB)."""
    frames: list[np.ndarray] = []
    with av.open(str(ROOT / "samples" / "cup.mp4")) as container:
        stream = container.streams.video[0]
        next_time = 0.0
        for frame in container.decode(stream):
            if frame.time is None or frame.time + 1e-6 < next_time:
                continue
            frames.append(np.asarray(frame.to_image().convert("RGB").resize(SIZE, Image.LANCZOS)))
            next_time += 1 / FPS
            if len(frames) == count:
                break
    return frames


def wall(image: np.ndarray) -> np.ndarray:
    """The light, grey wall behind the cup: bright and unsaturated pixels."""
    rgb = image.astype(np.int16)
    return (rgb.min(axis=2) > 150) & (rgb.max(axis=2) - rgb.min(axis=2) < 40)


def write_mp4(path: Path, images: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"crf": "12"}
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def tiny_model_folder(target: Path) -> None:
    from rotoscope.models.tiny import ensure_tiny_folder

    if not (target / "model_index.json").exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ensure_tiny_folder(), target)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ellipse_mask().save(out / "mask.png")
    write_mp4(out / "mask.mp4", [np.repeat(np.asarray(ellipse_mask(8 * i))[:, :, None], 3, axis=2) for i in range(FPS)])
    masks = out / "masks"
    masks.mkdir(exist_ok=True)
    for i in range(3):
        ellipse_mask(8 * i).save(masks / f"{i:05d}.png")

    frames = sample_frames()
    keyed = []
    cutout = []
    for image in frames:
        background = wall(image)
        green = image.copy()
        green[background] = (0, 255, 0)
        keyed.append(green)
        rgba = np.dstack([image, np.where(background, 0, 255).astype(np.uint8)])
        cutout.append(Image.fromarray(rgba, "RGBA"))
    write_mp4(out / "greenscreen.mp4", keyed)
    cutout[0].save(out / "cutout.apng", save_all=True, append_images=cutout[1:], duration=1000 // FPS, loop=0)

    lineart = out / "lineart"
    lineart.mkdir(exist_ok=True)
    for i, image in enumerate(frames):
        edges = cv2.Canny(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 100, 200)
        Image.fromarray(edges).convert("RGB").save(lineart / f"{i:05d}.png")

    tiny_model_folder(out / "models" / "tiny-sd")
    print(f"wrote {out}/: mask.png, mask.mp4, masks/, greenscreen.mp4, cutout.apng, lineart/, models/tiny-sd/")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/inputs"))
