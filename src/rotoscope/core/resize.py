"""Resizing pictures: the web UI's three resize modes, and a quick area-average fit for measuring.

Sizes follow each library's habit and are named so: ``size`` is (width, height)
as PIL takes it, ``shape`` is (height, width) as numpy reports it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


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


def fit(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` (RGB part) at height×width ``shape``; unchanged when it already is.

    Area averaging (OpenCV): for flow and comparisons, where speed matters and a
    source only has to line up with an output of the model's size.
    """
    image = np.asarray(image)[..., :3] if np.asarray(image).ndim == 3 else np.asarray(image)
    if image.shape[:2] == tuple(shape):
        return image
    import cv2  # only here: convert, which imports this module, rarely needs it (cv2 costs ~25 ms to load)

    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
