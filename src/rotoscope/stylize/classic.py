"""Weight-free stylizers on OpenCV's non-photorealistic filters.

They let the whole pipeline (decode, job store, masks, outputs) run on real
content in seconds with no model download — the offline demo — while using
the same seam as the diffusion stylizer. The seed picks the filter's
parameters once, so one seed gives one consistent look across the clip, as a
fixed seed does with a diffusion model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np

from ..errors import OptionError
from ..progress import check_cancel

# Below this denoising strength the filtered frame is blended with the
# source; at or above it the look is applied in full.
FULL_EFFECT_STRENGTH = 0.3


def _params(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def cartoon(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat colour regions (edge-preserving smoothing + quantised colours) under dark ink edges."""
    levels = int(rng.integers(5, 10))
    smooth = cv2.edgePreservingFilter(image, flags=cv2.RECURS_FILTER, sigma_s=float(rng.uniform(40, 90)), sigma_r=float(rng.uniform(0.3, 0.5)))
    step = 256 // levels
    flat = (smooth // step) * step + step // 2
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, int(rng.integers(4, 9)))
    return np.where(edges[..., None] > 0, flat, (flat * 0.25).astype(np.uint8)).astype(np.uint8)


def pencil(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Graphite pencil sketch (OpenCV's pencilSketch), grey or tinted."""
    gray, colour = cv2.pencilSketch(image, sigma_s=float(rng.uniform(30, 80)), sigma_r=float(rng.uniform(0.05, 0.1)),
                                    shade_factor=float(rng.uniform(0.02, 0.06)))
    return colour if rng.random() < 0.5 else cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def watercolor(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Soft washes of colour with darkened edges (OpenCV's stylization)."""
    return cv2.stylization(image, sigma_s=float(rng.uniform(40, 100)), sigma_r=float(rng.uniform(0.35, 0.6)))


def oil(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thick, smoothed paint with boosted detail."""
    smooth = cv2.edgePreservingFilter(image, flags=cv2.NORMCONV_FILTER, sigma_s=float(rng.uniform(30, 70)), sigma_r=float(rng.uniform(0.3, 0.5)))
    return cv2.detailEnhance(smooth, sigma_s=10, sigma_r=float(rng.uniform(0.1, 0.2)))


STYLES: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "cartoon": cartoon, "pencil": pencil, "watercolor": watercolor, "oil": oil,
}


class ClassicStylizer:
    """``--model classic:NAME``: an OpenCV filter behind the Stylizer seam."""

    def __init__(self, style: str, strength: float, *, cancel: threading.Event | None = None) -> None:
        if style not in STYLES:
            raise OptionError(f"classic style {style!r} is not known; use one of: " + ", ".join(f"classic:{s}" for s in STYLES) + ".")
        self.style = style
        self.filter = STYLES[style]
        self.strength = strength  # used when a call passes no strength
        self.name = f"classic:{style}"
        self.cancel = cancel  # checked before each frame (a frame takes a fraction of a second)

    def stylize(self, frames, *, seed, strength=None, indices=None, init=None, mask=None, control=None):
        out = []
        amount = min(1.0, (self.strength if strength is None else strength) / FULL_EFFECT_STRENGTH)
        for i, frame in enumerate(frames):
            check_cancel(self.cancel)
            base = init[i] if init is not None else frame
            styled = self.filter(np.ascontiguousarray(base[..., :3]), _params(seed))
            if amount < 1:
                styled = cv2.addWeighted(styled, amount, base[..., :3], 1 - amount, 0)
            if mask is not None:
                weight = (mask[i].astype(np.float32) / 255.0)[..., None]
                styled = (styled * weight + frame[..., :3] * (1 - weight) + 0.5).astype(np.uint8)
            out.append(styled)
        return out

    def infotext_fields(self) -> dict[str, str]:
        return {}
