"""Optical flow between frames, warping along it, and the forward–backward occlusion check.

OpenCV only (no model weights): DIS (fast, the default) or Farneback. Flow
arrays are H×W×2 float32 (dx, dy) in pixels. ``flow(a, b)`` maps each pixel x
of ``a`` to where it is in ``b`` (x + flow(x)); to bring a picture of frame t
onto frame t+1, sample it at x + flow(t+1 → t)(x): :func:`warp_to`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import OptionError

FLOW_METHODS = ("dis", "farneback")
#: Forward–backward check constants (Ruder et al. 2016; Lai et al. 2018).
ALPHA = 0.01
BETA = 0.5


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        return np.ascontiguousarray(image.astype(np.uint8))
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]).astype(np.uint8), cv2.COLOR_RGB2GRAY)


_DIS: dict[str, "cv2.DISOpticalFlow"] = {}


def flow(a: np.ndarray, b: np.ndarray, method: str = "dis") -> np.ndarray:
    """Dense flow from picture ``a`` to picture ``b`` (same size, RGB or grey, uint8)."""
    ga, gb = _grey(a), _grey(b)
    if ga.shape != gb.shape:
        raise ValueError(f"flow needs pictures of one size: {ga.shape} vs {gb.shape}")
    if method == "dis":
        dis = _DIS.get("medium")
        if dis is None:
            dis = _DIS["medium"] = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return dis.calc(ga, gb, None)
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 15, 3, 5, 1.2, 0)
    raise OptionError(f"--flow {method!r} is not known; use one of {', '.join(FLOW_METHODS)}.")


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs, ys


def sample(image: np.ndarray, field: np.ndarray, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """``image`` sampled at x + field(x) (bilinear); field is the flow of the *target* frame."""
    xs, ys = _grid(field.shape[:2])
    mx, my = xs + field[..., 0], ys + field[..., 1]
    src = np.asarray(image)
    if src.dtype == np.uint8 or src.dtype == np.float32:
        return cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=border)
    return cv2.remap(src.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=border)


def occlusion(backward: np.ndarray, forward: np.ndarray, alpha: float = ALPHA, beta: float = BETA) -> np.ndarray:
    """Pixels of frame t+1 with no reliable match in frame t (True = occluded).

    ``backward`` = flow(t+1 → t), ``forward`` = flow(t → t+1). A pixel x is
    occluded when |b + f(x+b)|² > α(|b|² + |f(x+b)|²) + β, or when x + b
    leaves the picture.
    """
    f_at = sample(forward.astype(np.float32), backward, border=cv2.BORDER_REPLICATE)
    total = backward + f_at
    lhs = (total**2).sum(axis=2)
    rhs = alpha * ((backward**2).sum(axis=2) + (f_at**2).sum(axis=2)) + beta
    h, w = backward.shape[:2]
    xs, ys = _grid((h, w))
    mx, my = xs + backward[..., 0], ys + backward[..., 1]
    outside = (mx < 0) | (mx > w - 1) | (my < 0) | (my > h - 1)
    return (lhs > rhs) | outside


def motion(previous: np.ndarray, current: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """(backward flow current → previous, occluded mask of ``current``) for warping ``previous``-aligned pictures."""
    backward = flow(current, previous, method)
    forward = flow(previous, current, method)
    return backward, occlusion(backward, forward)


def warp_to(picture: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """A picture aligned with frame t, moved onto frame t+1 along ``backward`` = flow(t+1 → t)."""
    return sample(picture, backward)


def fit(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` (RGB part) at height×width ``shape``; unchanged when it already is."""
    image = np.asarray(image)[..., :3] if np.asarray(image).ndim == 3 else np.asarray(image)
    if image.shape[:2] == tuple(shape):
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
