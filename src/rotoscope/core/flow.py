"""Optical flow between frames, warping along it, and the forward–backward occlusion check.

OpenCV only (no model weights): DIS (fast, the default) or Farneback. Flow
arrays are H×W×2 float32 (dx, dy) in pixels. ``flow(a, b)`` maps each pixel x
of ``a`` to where it is in ``b`` (x + flow(x)); to bring a picture of frame t
onto frame t+1, sample it at x + flow(t+1 → t)(x): :func:`warp_to`.

Used by the consistency techniques (flow warping, deflicker), the keyframe
propagation, frame interpolation and the warp-error metric: one occlusion check
with one α/β pair, so they all agree on which pixels are trusted.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import OptionError
from . import FLOW_METHODS

#: Forward–backward check constants (Ruder et al. 2016; Lai et al. 2018): a pixel is
#: occluded when its round trip misses by more than ALPHA × the flows' size + BETA px².
ALPHA = 0.01
BETA = 0.5

Grid = tuple[np.ndarray, np.ndarray]


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


def pixel_grid(shape: tuple[int, int]) -> Grid:
    """Each pixel's (x, y) coordinates for a height×width ``shape``, float32."""
    h, w = shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs, ys


def sample(image: np.ndarray, field: np.ndarray, border: int = cv2.BORDER_REPLICATE, grid: Grid | None = None) -> np.ndarray:
    """``image`` sampled at x + field(x) (bilinear); field is the flow of the *target* frame.

    ``grid`` (:func:`pixel_grid` of the field's shape) saves rebuilding it when one
    pair of frames is sampled many times (frame interpolation).
    """
    xs, ys = grid if grid is not None else pixel_grid(field.shape[:2])
    mx, my = xs + field[..., 0], ys + field[..., 1]
    src = np.asarray(image)
    if src.dtype == np.uint8 or src.dtype == np.float32:
        return cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=border)
    return cv2.remap(src.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=border)


def occlusion(backward: np.ndarray, forward: np.ndarray, alpha: float = ALPHA, beta: float = BETA,
              grid: Grid | None = None) -> np.ndarray:
    """Pixels of frame t+1 with no reliable match in frame t (True = occluded).

    ``backward`` = flow(t+1 → t), ``forward`` = flow(t → t+1). A pixel x is
    occluded when |b + f(x+b)|² > α(|b|² + |f(x+b)|²) + β, or when x + b
    leaves the picture. The check is symmetric in time: with flow(t → t+1) and
    flow(t+1 → t) swapped it gives frame t's pixels that are gone in t+1.
    """
    grid = grid if grid is not None else pixel_grid(backward.shape[:2])
    f_at = sample(forward.astype(np.float32), backward, border=cv2.BORDER_REPLICATE, grid=grid)
    total = backward + f_at
    lhs = (total**2).sum(axis=2)
    rhs = alpha * ((backward**2).sum(axis=2) + (f_at**2).sum(axis=2)) + beta
    h, w = backward.shape[:2]
    xs, ys = grid
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

