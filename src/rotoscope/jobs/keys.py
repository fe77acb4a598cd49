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
from ..media.shots import Detector, Shots, find_shots
from ..methods.keys import MEASURE_WIDTH, KeyOptions, KeySelection, parse_keys, select_keys
from .checks import check_output
from .store import JobDir


def job_keys(job: JobDir, count: int, options: KeyOptions, shots: Shots | None = None) -> KeySelection:
    """The keys of a job's ``count`` source frames (only ``--keys auto`` reads the pictures); every shot's
    first frame is a key and a cut."""
    return select_keys((job.source_image(i) for i in range(count)), count, options, shots)


def keys_of_clip(source: str, media: MediaOptions, options: KeyOptions, sheet: Path | None = None, *,
                 overwrite: bool = False) -> KeySelection:
    """``rotoscope keys``: decode the clip (streamed), find its shots, choose its keys, write the contact sheet
    (one row per shot; an existing file is replaced only with ``overwrite``; checked before anything is decoded)."""
    options.validate()
    if sheet is not None:
        check_output(sheet, overwrite=overwrite, source=source, what="--sheet")
    mode, _ = parse_keys(options.keys)
    kept: dict[int, np.ndarray] = {}  # thumbnails only: memory stays flat however long the clip
    times: list[float] = []
    end = 0.0
    detector = Detector() if media.shots == "auto" else None

    def pictures() -> Iterable[np.ndarray]:
        nonlocal end
        for frame in iter_frames(source, media):
            times.append(frame.time)
            end = frame.time + frame.duration
            kept[frame.index] = _thumbnail(frame.image)
            if detector is not None:
                detector.add(frame.image)
            yield frame.image

    if mode == "auto":
        selection = select_keys(pictures(), None, options, None if detector is not None else _Later(media, times))
    else:
        for _ in pictures():
            pass
        shots = detector.shots() if detector is not None else find_shots([], len(times), media.shots)
        selection = select_keys([], len(times), options, shots)
    shots = detector.shots() if detector is not None else find_shots([], len(times), media.shots)
    selection.shots = shots.to_list(times, end)
    if sheet is not None:
        contact_sheet([(k, kept[k]) for k in selection.keys], sheet, rows=_rows(selection.keys, shots))
    return selection


class _Later:
    """Given shots (``--shots none`` or a list) for auto keys: known once the frames are counted."""

    def __init__(self, media: MediaOptions, times: list[float]) -> None:
        self.media, self.times = media, times

    @property
    def cuts(self) -> tuple[int, ...]:
        return find_shots([], len(self.times), self.media.shots).cuts


def _rows(keys: list[int], shots: Shots) -> list[list[int]]:
    """The keys grouped by shot: one contact-sheet row (or more, when long) per shot."""
    rows: dict[int, list[int]] = {}
    for k in keys:
        rows.setdefault(shots.start_of(k), []).append(k)
    return list(rows.values())


def contact_sheet(images: list[tuple[int, np.ndarray]], path: Path, columns: int = 6, width: int = 160,
                  rows: list[list[int]] | None = None) -> Path:
    """The keyframes side by side, each labelled with its index (the ``rotoscope keys`` picture); ``rows``:
    the keys grouped (one shot a row), each group starting a new row."""
    label = 16
    tiles = []
    for index, image in images:
        pic = Image.fromarray(np.ascontiguousarray(image[..., :3]))
        pic = pic.resize((width, max(1, round(pic.height * width / pic.width))), Image.Resampling.LANCZOS)
        tiles.append((index, pic))
    h = max(t.height for _, t in tiles)
    groups = rows or [[index for index, _ in images]]
    first = {g[0] for g in groups if g}
    places, r, c = [], -1, columns
    for index, _ in tiles:
        if index in first or c >= columns:
            r, c = r + 1, 0
        places.append((c, r))
        c += 1
    cols = max(col for col, _ in places) + 1
    sheet = Image.new("RGB", (cols * width, (r + 1) * (h + label)), "white")
    draw = ImageDraw.Draw(sheet)
    for (col, row), (index, pic) in zip(places, tiles):
        x, y = col * width, row * (h + label)
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
