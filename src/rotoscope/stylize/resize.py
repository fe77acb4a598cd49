"""Processing size and the web UI's three resize modes."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..notices import notice


def round8(value: int) -> int:
    """Down to a multiple of 8, as the web UI and diffusers' image processor do (never below 8)."""
    return max(8, int(value) // 8 * 8)


def processing_size(frame_w: int, frame_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    """The model's working size: multiples of 8 (latents are 1/8), aspect kept when one side is given."""
    if width and height:
        size = (width, height)
    elif width:
        size = (width, round(width * frame_h / frame_w))
    elif height:
        size = (round(height * frame_w / frame_h), height)
    else:
        size = (frame_w, frame_h)
    rounded = (round8(size[0]), round8(size[1]))
    if rounded != size:
        notice(f"processing size {size[0]}x{size[1]} rounded to {rounded[0]}x{rounded[1]} (the model needs multiples of 8).")
    return rounded


def resize(image: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """just-resize stretches; crop-and-resize fills and crops the centre; resize-and-fill fits and
    fills the borders by stretching the edge pixels, as the web UI does."""
    w, h = size
    pil = Image.fromarray(image)
    if pil.size == size:
        return image
    if mode == "just-resize":
        return np.asarray(pil.resize(size, Image.Resampling.LANCZOS))
    if mode == "crop-and-resize":
        scale = max(w / pil.width, h / pil.height)
        scaled = pil.resize((max(w, round(pil.width * scale)), max(h, round(pil.height * scale))), Image.Resampling.LANCZOS)
        left, top = (scaled.width - w) // 2, (scaled.height - h) // 2
        return np.asarray(scaled.crop((left, top, left + w, top + h)))
    # resize-and-fill
    scale = min(w / pil.width, h / pil.height)
    fit = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), Image.Resampling.LANCZOS)
    canvas = np.asarray(fit.resize(size, Image.Resampling.BILINEAR)).copy()  # stretched edges as the fill
    left, top = (w - fit.width) // 2, (h - fit.height) // 2
    canvas[top : top + fit.height, left : left + fit.width] = np.asarray(fit)
    return canvas
