"""`rotoscope preview`: one frame with several seeds (× strengths) side by side, to pick a look.

The user's step 2 done by hand today: try seeds on one frame, keep the best,
then run the clip with --seed S.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..errors import OptionError
from ..media.decode import composite, iter_frames
from ..media.atomic import check_outputs
from ..media.encode import save_png
from ..media.options import MediaOptions
from ..stylize.factory import build_stylizer
from ..stylize.options import MAX_SEED
from .checks import check_output
from .infotext import format_infotext
from .spec import JobSpec

LABEL_HEIGHT = 18


@dataclass
class PreviewTile:
    seed: int
    strength: float
    path: Path


@dataclass
class PreviewResult:
    grid: Path
    tiles: list[PreviewTile]
    overlay: Path | None = None  # with a mask: the frame with the mask outline and the "only masked" crop box


def pick_frame(source: str, media: MediaOptions, index: int) -> np.ndarray:
    image = pick_source_frame(source, media, index)
    return composite(image, (255, 255, 255)) if image.shape[2] == 4 else image


def pick_source_frame(source: str, media: MediaOptions, index: int) -> np.ndarray:
    """Frame ``index`` as decoded (RGBA kept: --mask-from-alpha reads it)."""
    count = 0
    for frame in iter_frames(source, media):
        if frame.index == index:
            return frame.image
        count += 1
    raise OptionError(f"--frame {index} is outside the clip: it has {count} frames (0–{count - 1}).")


def _mask_overlay(spec: JobSpec, raw: np.ndarray, index: int, output: Path) -> tuple[np.ndarray, Path]:
    """The frame's mask, and an overlay image showing it with the "only masked" crop box."""
    from ..media.masks import FrameMasks
    from ..stylize.factory import is_classic
    from ..stylize.masking import blur_mask, mask_overlay, only_masked_region
    from ..stylize.resize import processing_size

    opts = spec.mask
    mask = FrameMasks(opts, None)(index, raw)
    h, w = mask.shape
    size = (w, h) if is_classic(spec.model.model) else processing_size(w, h, spec.style.width, spec.style.height)
    blurred = blur_mask(mask, opts.mask_blur)
    region = only_masked_region(blurred, opts.padding, size)
    if region is None:
        label = "mask is empty: nothing would change"
    else:
        x1, y1, x2, y2 = region
        label = f"only masked crop {x1},{y1}-{x2},{y2} ({x2 - x1}x{y2 - y1} -> {size[0]}x{size[1]})"
        label += "" if opts.inpaint_area == "only-masked" else "; area: whole picture"
    path = _overlay_path(output)
    save_png(path, mask_overlay(raw, mask, blurred, region, label))
    return mask, path


def preview(spec: JobSpec, *, frame: int, seeds: int = 4, strengths: list[float] | None = None,
            output: Path = Path("out/preview.png"), seed_list: list[int] | None = None,
            cancel: threading.Event | None = None) -> PreviewResult:
    """Stylise frame ``frame`` with ``seeds`` seeds × ``strengths``; write the tiles and a labelled grid.
    ``cancel``: once set, the tile being made stops within one denoising step (``Cancelled``); tiles already
    written stay on disk."""
    spec.validate()
    check_outputs([output], source=spec.source, overwrite=True)  # the source is never an output
    if not 1 <= seeds <= 64:
        raise OptionError(f"--seeds {seeds} must be between 1 and 64.")
    strengths = strengths or [spec.style.strength]
    for s in strengths:
        replace(spec.style, strength=s).validate()
    raw = pick_source_frame(spec.source, spec.media, frame)
    image = composite(raw, (255, 255, 255)) if raw.shape[2] == 4 else raw
    if seed_list is None:
        first = spec.style.seed if spec.style.seed != -1 else random.randint(0, MAX_SEED)
        seed_list = [(first + i) % (MAX_SEED + 1) for i in range(seeds)]
    # every file the preview writes, checked before the model is loaded: none replaces a file without --overwrite
    files = [output, *(_tile_path(output, seed, s) for s in strengths for seed in seed_list)]
    if spec.mask.active:
        files.append(_overlay_path(output))
    for path in files:
        check_output(path, overwrite=spec.output.overwrite, source=spec.source)
    output.parent.mkdir(parents=True, exist_ok=True)
    masks, overlay = None, None
    if spec.mask.active:
        mask, overlay = _mask_overlay(spec, raw, frame, output)
        masks = [mask]
    tiles: list[PreviewTile] = []
    rows = []
    # loaded once for every tile, and kept for the next preview with the same model (stylize/factory.py PIPELINES)
    stylizer = build_stylizer(spec.model, spec.style, spec.mask, control=spec.control, cancel=cancel, cache=True)
    units = getattr(stylizer, "control", None)
    controls = units.annotate(image, frame) if units is not None else []  # shown beside the tiles
    for strength in strengths:
        style = replace(spec.style, strength=strength)
        stylizer.strength = strength
        row = []
        for seed in seed_list:
            (result,) = stylizer.stylize([image], seed=seed, indices=[frame], mask=masks)
            tile_spec = replace(spec, style=replace(style, seed=seed))
            path = _tile_path(output, seed, strength)
            save_png(path, result, format_infotext(tile_spec, seed=seed, size=(result.shape[1], result.shape[0])))
            tiles.append(PreviewTile(seed, strength, path))
            row.append((result, f"seed {seed}  strength {strength:g}"))
        if controls:
            from ..core.resize import resize

            h, w = row[0][0].shape[:2]
            row[:0] = [(resize(c, (w, h), "just-resize"), f"control: {u.type} {u.weight:g}") for c, u in zip(controls, units.units)]
        rows.append(row)
    grid = _grid(rows)
    save_png(output, grid)
    return PreviewResult(output, tiles, overlay)


def _tile_path(output: Path, seed: int, strength: float) -> Path:
    return output.with_name(f"{output.stem}-seed{seed}-s{strength:g}.png")


def _overlay_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-mask.png")


def _grid(rows: list[list[tuple[np.ndarray, str]]]) -> np.ndarray:
    h, w = rows[0][0][0].shape[:2]
    canvas = Image.new("RGB", (w * len(rows[0]), (h + LABEL_HEIGHT) * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        for c, (tile, label) in enumerate(row):
            x, y = c * w, r * (h + LABEL_HEIGHT)
            canvas.paste(Image.fromarray(tile[..., :3]), (x, y))
            draw.text((x + 4, y + h + 3), label, fill="black")
    return np.asarray(canvas)
