"""Carrying stylised keyframes to the frames between them, along the source's optical flow.

For the frames of a stretch between key ``a`` and key ``b``:

1. **Chains of flow.** Walking forward from ``a``, each frame's field back to ``a`` is composed
   from the consecutive flows (f_t→a(x) = f_t→t−1(x) + f_t−1→a(x + f_t→t−1(x))), so the key is
   resampled once, not once per frame (no blur piling up); the occlusion mask is carried the
   same way (a pixel occluded on any step stays occluded). Walking backward from ``b`` gives
   the fields to ``b``. Flows, warping and the forward–backward check are core/flow.py's.
2. **Blending.** Each side's warp is weighted by distance (crossfade: 1 at its key, 0 at the
   other) and by its validity (not occluded, softened); a pixel occluded on one side is taken
   from the other; occluded on both, it is the distance crossfade.
3. **Following the source** (both methods, :func:`follow_source`): where a side's key, carried
   here, is not explained by the flow (the key's *source* carried along the same field differs from
   this frame's source by more than half GUIDE_TOLERANCE, patch-averaged), that difference is added
   to the carried style, fully from 1.5× GUIDE_TOLERANCE. Where the flow is right it adds nothing;
   where it fails (fast motion, non-rigid change, lighting) the frame changes as its source does
   instead of freezing the key's pixels along a wrong flow: without it the output came out
   steadier than its own source (the score's "smoothed": detail lost, not flicker removed).
4. **Guided refinement** (ebsynth, :func:`refine`): where a side's warp is unreliable (occluded,
   or the key's *source* warped there does not look like this frame's source), a patch search
   around the flow's match finds the key patch whose source looks most like this frame's
   (guide: source frames) and like the current estimate (temporal guide); its stylised pixel
   replaces the warp there, and each side's confidence follows its guide error.

A key that starts a new scene (a cut) is not blended into the frames before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..core.flow import motion, sample

#: softening (Gaussian σ, px) of occlusion masks before they weight a blend: no hard seams
SOFT_SIGMA = 1.5
#: guide error (mean |Δ| of the sources, 0-255, patch-averaged) above which a warped pixel is unreliable
GUIDE_TOLERANCE = 12.0
PATCH = 7  # patch side (px) of the guided search
SEARCH_RADIUS = 12  # px around the flow's match, on a grid of SEARCH_STEP (then ±1 px: every offset is reachable)
SEARCH_STEP = 3
TEMPORAL_WEIGHT = 0.5  # weight of the temporal guide against the source guide
#: follow_source: the source's difference is added from FOLLOW_FROM × GUIDE_TOLERANCE of guide error, fully
#: one GUIDE_TOLERANCE above that (tuned on bench/consistency.py --clips set: smoothed nowhere, ±4 % on the sample)
FOLLOW_FROM = 0.5
#: refine only when at least this fraction of a side's pixels is unreliable ("where it pays off")
REFINE_MIN_FRACTION = 0.002


@dataclass
class Side:
    """One key's contribution to a frame: its warp, where it is occluded, its guide error."""

    warped: np.ndarray  # H×W×3 float32
    occluded: np.ndarray  # H×W bool
    field: np.ndarray  # H×W×2: this frame's pixel x is the key's x + field(x)
    error: np.ndarray | None = None  # H×W guide error (ebsynth)


def chain(sources: list[np.ndarray], flow_method: str = "dis") -> list[tuple[np.ndarray, np.ndarray]]:
    """(field to sources[0], occluded) for every picture of ``sources``, composed along consecutive flows."""
    h, w = sources[0].shape[:2]
    field = np.zeros((h, w, 2), np.float32)
    occluded = np.zeros((h, w), bool)
    out = [(field, occluded)]
    for previous, current in zip(sources, sources[1:]):
        backward, occ = motion(previous, current, flow_method)
        field = backward + sample(field, backward)
        occluded = occ | (sample(occluded.astype(np.float32), backward) > 0.5)
        out.append((field, occluded))
    return out


def _soft(valid: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(valid.astype(np.float32), (0, 0), SOFT_SIGMA)


def blend(sides: list[tuple[Side, float]]) -> np.ndarray:
    """Distance crossfade of the sides (weight, e.g. 1 at its key), each cut where it is occluded."""
    total = np.zeros(sides[0][0].warped.shape[:2], np.float32)
    acc = np.zeros(sides[0][0].warped.shape, np.float32)
    fallback = np.zeros_like(acc)
    fallback_total = 0.0
    for side, weight in sides:
        confidence = _soft(~side.occluded)
        if side.error is not None:
            confidence = confidence * np.exp(-side.error / (2 * GUIDE_TOLERANCE))
        w = weight * confidence
        acc += w[..., None] * side.warped
        total += w
        fallback += weight * side.warped
        fallback_total += weight
    fallback /= max(fallback_total, 1e-6)
    safe = total > 1e-4
    out = np.where(safe[..., None], acc / np.maximum(total, 1e-4)[..., None], fallback)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _box(image: np.ndarray) -> np.ndarray:
    return cv2.boxFilter(image, -1, (PATCH, PATCH), normalize=True, borderType=cv2.BORDER_REFLECT)


def guide_error(target_source: np.ndarray, key_source: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Patch-averaged |source − key's source warped here| (0-255): how well the warp explains this frame."""
    return _guide(target_source, key_source, field)[1]


def _guide(target_source: np.ndarray, key_source: np.ndarray, field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(source − key's source warped here, H×W×3 float32; its patch-averaged mean absolute value, H×W)."""
    residual = target_source.astype(np.float32) - sample(key_source.astype(np.float32), field)
    return residual, _box(np.abs(residual).mean(axis=2))


def follow_source(side: Side, target_source: np.ndarray, key_source: np.ndarray) -> Side:
    """``side`` plus the part of this frame's source its flow does not explain, where it does not (module doc, 3)."""
    residual, error = _guide(target_source, key_source, side.field)
    weight = np.clip(error / GUIDE_TOLERANCE - FOLLOW_FROM, 0, 1)
    return Side(side.warped + weight[..., None] * residual, side.occluded, side.field, side.error)


def refine(side: Side, target_source: np.ndarray, key_source: np.ndarray, key_output: np.ndarray,
           estimate: np.ndarray | None = None) -> Side:
    """EbSynth-style guided patch search where ``side``'s warp is unreliable; returns the improved side.

    For each unreliable pixel, offsets d around the flow's match (coarse grid, then ±1 px) are
    scored by the patch SSD between this frame's source and the key's source at x + field + d
    (the source guide), plus TEMPORAL_WEIGHT × the SSD between ``estimate`` (the frame as
    propagated so far) and the key's output there (the temporal guide); the best match's
    stylised pixel is taken. Pixels are replaced only where the guide error drops.
    """
    src_t = target_source.astype(np.float32)
    src_k = key_source.astype(np.float32)
    out_k = key_output.astype(np.float32)
    error = side.error if side.error is not None else guide_error(target_source, key_source, side.field)
    unreliable = side.occluded | (error > GUIDE_TOLERANCE)
    if unreliable.mean() < REFINE_MIN_FRACTION:
        return Side(side.warped, side.occluded, side.field, error)
    region = cv2.dilate(unreliable.astype(np.uint8), np.ones((PATCH, PATCH), np.uint8)) > 0
    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1  # work inside the unreliable area's box

    def cost(offset: np.ndarray) -> np.ndarray:
        field = side.field + offset
        c = (sample(src_k, field) - src_t) ** 2
        total = c.mean(axis=2)
        if estimate is not None:
            total = total + TEMPORAL_WEIGHT * ((sample(out_k, field) - estimate) ** 2).mean(axis=2)
        return _box(total[y0:y1, x0:x1])

    h, w = error.shape
    best = np.zeros((y1 - y0, x1 - x0, 2), np.float32)
    best_cost = cost(np.zeros((h, w, 2), np.float32))
    zero_cost = best_cost.copy()
    offsets = range(-SEARCH_RADIUS, SEARCH_RADIUS + 1, SEARCH_STEP)
    for dy in offsets:
        for dx in offsets:
            if dx == 0 and dy == 0:
                continue
            c = cost(np.broadcast_to(np.float32([dx, dy]), (h, w, 2)))
            better = c < best_cost
            best_cost = np.where(better, c, best_cost)
            best[better] = (dx, dy)
    for dy in (-1, 0, 1):  # refine each pixel's own best offset by one pixel
        for dx in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            trial = best + np.float32([dx, dy])
            full = np.zeros((h, w, 2), np.float32)
            full[y0:y1, x0:x1] = trial
            c = cost(full)
            better = c < best_cost
            best_cost = np.where(better, c, best_cost)
            best[better] = trial[better]
    take = region[y0:y1, x0:x1] & (best_cost < zero_cost)
    field = side.field.copy()
    field[y0:y1, x0:x1][take] += best[take]
    warped = sample(out_k, field)
    soft = _soft(np.pad(take, ((y0, h - y1), (x0, w - x1))))[..., None]
    merged = soft * warped + (1 - soft) * side.warped
    new_error = guide_error(target_source, key_source, field)
    occluded = side.occluded & ~(new_error <= GUIDE_TOLERANCE)  # a good patch match makes an occluded pixel usable
    return Side(merged.astype(np.float32), occluded, field, np.minimum(error, new_error))


def propagate(a: int, b: int | None, end: int, source: Callable[[int], np.ndarray], key_a: np.ndarray,
              key_b: np.ndarray | None, *, wanted: set[int], flow_method: str = "dis", guided: bool = False,
              refine_patches: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """(index, stylised picture) for the wanted frames strictly between key ``a`` and key ``b``
    (or up to ``end`` inclusive with no right key), made from the stylised keys.

    ``source(i)`` is source frame i at the keys' size; ``guided`` adds guide errors and
    (``refine_patches``) the patch refinement: the ebsynth method.
    """
    last = (b - 1) if b is not None else end
    if last <= a or not any(a < t <= last for t in wanted):
        return
    stop = max(t for t in wanted if a < t <= last)
    first = min(t for t in wanted if a < t <= last)
    forward = chain([source(i) for i in range(a, stop + 1)], flow_method)
    backward = chain([source(i) for i in range(b, first - 1, -1)], flow_method)[::-1] if key_b is not None else None
    # backward[k] belongs to frame first + k; forward[k] to frame a + k
    for t in range(first, stop + 1):
        if t not in wanted:
            continue
        target = source(t)
        f_field, f_occ = forward[t - a]
        sides = [Side(sample(key_a.astype(np.float32), f_field), f_occ, f_field)]
        keys = [(a, key_a)]
        if backward is not None:
            b_field, b_occ = backward[t - first]
            sides.append(Side(sample(key_b.astype(np.float32), b_field), b_occ, b_field))
            keys.append((b, key_b))
        span = (b - a) if b is not None else 1
        weights = [(b - t) / span, (t - a) / span] if b is not None else [1.0]
        def followed(sides: list[Side]) -> list[tuple[Side, float]]:
            return [(follow_source(s, target, source(k)), w) for s, (k, _), w in zip(sides, keys, weights)]

        if guided:
            sides = [Side(s.warped, s.occluded, s.field, guide_error(target, source(k), s.field)) for s, (k, _) in zip(sides, keys)]
            if refine_patches:
                estimate = blend(followed(sides)).astype(np.float32)
                sides = [refine(s, target, source(k), out, estimate) for s, (k, out) in zip(sides, keys)]
        yield t, blend(followed(sides))
