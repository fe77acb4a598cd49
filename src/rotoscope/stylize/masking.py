"""The web UI's inpaint geometry, reproduced number for number.

* mask blur: a Gaussian with σ = blur, kernel 2·int(2.5σ + 0.5) + 1, applied
  along x then along y (as the web UI does, with OpenCV);
* "only masked": the bounding box of the (blurred) mask's non-zero pixels,
  grown by ``padding`` and clamped to the image (``crop_region``), then
  expanded to the processing aspect ratio, centred, shifted back inside the
  image and clamped (``expand_crop_region``);
* paste-back through the blurred mask; pixels where it is 0 are the base
  frame's, exactly.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

Region = tuple[int, int, int, int]  # x1, y1, x2, y2 (x2, y2 exclusive)


def blur_kernel_size(sigma: float) -> int:
    return 2 * int(2.5 * sigma + 0.5) + 1


def blur_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Blur an H×W uint8 mask as the web UI does (σ = mask blur; 0 = unchanged)."""
    if sigma <= 0:
        return mask
    k = blur_kernel_size(sigma)
    out = cv2.GaussianBlur(mask, (k, 1), sigma)
    return cv2.GaussianBlur(out, (1, k), sigma)


def crop_region(mask: np.ndarray, padding: int = 0) -> Region | None:
    """Bounding box of the mask's non-zero pixels grown by ``padding``, clamped; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    h, w = mask.shape[:2]
    return (max(int(cols[0]) - padding, 0), max(int(rows[0]) - padding, 0),
            min(int(cols[-1]) + 1 + padding, w), min(int(rows[-1]) + 1 + padding, h))


def expand_crop_region(region: Region, processing_width: int, processing_height: int,
                       image_width: int, image_height: int) -> Region:
    """Grow ``region`` to the processing aspect ratio (centred), kept inside the image.

    The web UI's integer arithmetic exactly: the missing length is int()-truncated
    and split with the odd pixel going to the bottom/right; a region pushed past
    the bottom/right edge is shifted back, one past the top/left shifted forward,
    and finally clamped.
    """
    x1, y1, x2, y2 = region
    ratio_region = (x2 - x1) / (y2 - y1)
    ratio_processing = processing_width / processing_height
    if ratio_region > ratio_processing:
        y1, y2 = _grow(y1, y2, int((x2 - x1) / ratio_processing - (y2 - y1)), image_height)
    else:
        x1, x2 = _grow(x1, x2, int((y2 - y1) * ratio_processing - (x2 - x1)), image_width)
    return x1, y1, x2, y2


def _grow(lo: int, hi: int, missing: int, limit: int) -> tuple[int, int]:
    """Widen [lo, hi) by ``missing`` pixels around its centre, shifted back inside [0, limit), then clamped
    (the web UI's expand_crop_region, one axis)."""
    lo -= missing // 2
    hi += missing - missing // 2
    if hi >= limit:
        lo, hi = lo - (hi - limit), limit
    if lo < 0:
        lo, hi = 0, hi - lo
    return lo, min(hi, limit)


def only_masked_region(blurred: np.ndarray, padding: int, processing_size: tuple[int, int]) -> Region | None:
    """The "only masked" crop box for a blurred mask and a processing size (width, height)."""
    region = crop_region(blurred, padding)
    if region is None:
        return None
    h, w = blurred.shape[:2]
    return expand_crop_region(region, processing_size[0], processing_size[1], w, h)


def fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Masked content "fill": the masked area painted with ever less blurred colours from around it."""
    pil = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    result = Image.new("RGBA", pil.size)
    masked = Image.new("RGBa", pil.size)
    masked.paste(pil.convert("RGBA").convert("RGBa"), mask=ImageOps.invert(Image.fromarray(mask)))
    for radius, repeats in ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1)):
        layer = masked.filter(ImageFilter.GaussianBlur(radius)).convert("RGBA")
        for _ in range(repeats):
            result.alpha_composite(layer)
    return np.asarray(result.convert("RGB"))


def composite(generated: np.ndarray, base: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``generated`` over ``base`` through ``alpha`` (H×W uint8); where alpha is 0 the base pixel exactly."""
    a = alpha.astype(np.float32)[..., None] / 255.0
    mixed = np.clip(generated.astype(np.float32) * a + base.astype(np.float32) * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    return np.where(alpha[..., None] == 0, base, mixed)


# -- preview overlay ----------------------------------------------------------------------------


def mask_overlay(image: np.ndarray, mask: np.ndarray, blurred: np.ndarray, region: Region | None,
                 label: str = "") -> np.ndarray:
    """The frame with the area that will change tinted, the mask's outline and the "only masked" crop box."""
    rgb = image[..., :3].astype(np.float32)
    tint = np.array([255, 40, 40], np.float32)
    a = blurred.astype(np.float32)[..., None] / 255.0 * 0.45
    shown = (rgb * (1 - a) + tint * a + 0.5).astype(np.uint8)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    shown[edge & (mask > 0)] = (255, 0, 0)
    canvas = Image.fromarray(shown)
    draw = ImageDraw.Draw(canvas)
    if region is not None:
        x1, y1, x2, y2 = region
        draw.rectangle([x1, y1, x2 - 1, y2 - 1], outline=(255, 230, 0), width=max(1, min(canvas.size) // 160))
    if label:
        draw.text((4, 4), label, fill=(255, 230, 0))
    return np.asarray(canvas)
