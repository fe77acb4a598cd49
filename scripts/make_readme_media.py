"""Rebuild docs/demo.gif: the sample clip beside its classic:cartoon and tiny-model stylisations.

    .venv/bin/python scripts/make_readme_media.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import rotoscope
from rotoscope.media.decode import iter_frames
from rotoscope.media.gif import GifOptions, GifWriter
from rotoscope.media.options import MediaOptions

ROOT = Path(__file__).resolve().parents[1]
CLIP = dict(duration=3, fps=10, width=192)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        looks = []
        for model, prompt in (("classic:cartoon", "cartoon"), ("classic:watercolor", "watercolor"), ("tiny", "a cup")):
            rotoscope.stylize(ROOT / "samples/cup.mp4", tmp / f"{model.replace(':', '_')}.gif", prompt=prompt,
                              model=model, seed=7, job_dir=tmp / model.replace(":", "_"), **CLIP)
            looks.append(tmp / model.replace(":", "_") / "frames")
        source = iter_frames(ROOT / "samples/cup.mp4", MediaOptions(duration=3, fps=10, width=192))
        out = ROOT / "docs" / "demo.gif"
        out.unlink(missing_ok=True)
        with GifWriter(out, GifOptions()) as writer:
            for frame in source:
                tiles = [frame.image] + [np.asarray(__import__("PIL.Image").Image.open(folder / f"{frame.index:05d}.png").convert("RGB").resize((frame.width, frame.height))) for folder in looks]
                writer.write(frame.with_image(np.concatenate(tiles, axis=1)))
        print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} KB)")


if __name__ == "__main__":
    main()
