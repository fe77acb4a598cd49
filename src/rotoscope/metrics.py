"""Image and video quality measures (numpy in, float out).

All functions take uint8 (or float in 0..255) arrays of the same shape:
H×W (grey) or H×W×C; an alpha channel (C = 4) is ignored.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["psnr", "ssim"]


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if a.ndim == 3 and a.shape[2] == 4:
        a, b = a[..., :3], b[..., :3]
    return a.astype(np.float64), b.astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (peak 255) over all channels; inf if identical."""
    x, y = _pair(a, b)
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004), the mean over the RGB channels.

    Each channel is compared separately (not luminance only) with a Gaussian
    window σ = 1.5 (11×11, via ``cv2.GaussianBlur``), K1 = 0.01, K2 = 0.03,
    L = 255; the SSIM map is averaged over the whole image (borders
    included, reflected), then over channels. 1.0 means identical.
    """
    x, y = _pair(a, b)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for c in range(x.shape[2]):
        p, q = x[..., c], y[..., c]

        def blur(m: np.ndarray) -> np.ndarray:
            return cv2.GaussianBlur(m, (11, 11), 1.5)

        mu_p, mu_q = blur(p), blur(q)
        pp, qq, pq = mu_p * mu_p, mu_q * mu_q, mu_p * mu_q
        var_p = blur(p * p) - pp
        var_q = blur(q * q) - qq
        cov = blur(p * q) - pq
        num = (2 * pq + c1) * (2 * cov + c2)
        den = (pp + qq + c1) * (var_p + var_q + c2)
        scores.append(float(np.mean(num / den)))
    return float(np.mean(scores))
