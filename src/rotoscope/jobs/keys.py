"""Keyframes read from files: a job's keys, and ``rotoscope keys`` (decode a clip, choose its keys, contact sheet).

Choosing keys is computation (methods/keys.py); decoding the source and writing the
contact sheet happen here, so the methods never touch files.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..media.atomic import write_bytes_atomic
from ..media.decode import iter_frames
from ..media.options import MediaOptions
from ..methods.keys import MEASURE_WIDTH, KeyOptions, KeySelection, parse_keys, select_keys
from .checks import check_output
from .store import JobDir


def job_keys(job: JobDir, count: int, options: KeyOptions) -> KeySelection:
    """The keys of a job's ``count`` source frames (only ``--keys auto`` reads the pictures)."""
    return select_keys((job.source_image(i) for i in range(count)), count, options)


def keys_of_clip(source: str, media: MediaOptions, options: KeyOptions, sheet: Path | None = None, *,
                 overwrite: bool = False) -> KeySelection:
    """``rotoscope keys``: decode the clip (streamed), choose its keys, write the contact sheet (an existing
    file is replaced only with ``overwrite``; checked before anything is decoded)."""
    options.validate()
    if sheet is not None:
        check_output(sheet, overwrite=overwrite, source=source, what="--sheet")
    mode, _ = parse_keys(options.keys)
    kept: dict[int, np.ndarray] = {}  # thumbnails only: memory stays flat however long the clip
    count = 0

    def pictures() -> Iterable[np.ndarray]:
        nonlocal count
        for frame in iter_frames(source, media):
            count += 1
            kept[frame.index] = _thumbnail(frame.image)
            yield frame.image

    if mode == "auto":
        selection = select_keys(pictures(), None, options)  # streamed: each frame becomes a small signature
    else:
        for _ in pictures():
            pass
        selection = select_keys([], count, options)
    if sheet is not None:
        contact_sheet([(k, kept[k]) for k in selection.keys], sheet)
    return selection


def contact_sheet(images: list[tuple[int, np.ndarray]], path: Path, columns: int = 6, width: int = 160) -> Path:
    """The keyframes side by side, each labelled with its index (the ``rotoscope keys`` picture)."""
    label = 16
    tiles = []
    for index, image in images:
        pic = Image.fromarray(np.ascontiguousarray(image[..., :3]))
        pic = pic.resize((width, max(1, round(pic.height * width / pic.width))), Image.Resampling.LANCZOS)
        tiles.append((index, pic))
    h = max(t.height for _, t in tiles)
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    sheet = Image.new("RGB", (cols * width, rows * (h + label)), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (index, pic) in enumerate(tiles):
        x, y = (n % cols) * width, (n // cols) * (h + label)
        sheet.paste(pic, (x, y))
        draw.text((x + 4, y + h + 2), f"frame {index}", fill="black")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue())
    return path


def _thumbnail(image: np.ndarray) -> np.ndarray:
    pic = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    if pic.width > MEASURE_WIDTH:
        pic = pic.resize((MEASURE_WIDTH, max(1, round(pic.height * MEASURE_WIDTH / pic.width))), Image.Resampling.LANCZOS)
    return np.asarray(pic)
