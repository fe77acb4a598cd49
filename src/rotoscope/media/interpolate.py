"""Frame interpolation: ``--interpolate N`` multiplies the frame rate by flow-based synthesis.

Between frames A (time t, shown for d) and B, N − 1 frames are made at t + k·d/N (k = 1 …
N − 1), and every frame lasts d/N: timing is kept exactly (a 10 fps, 2.4 s clip becomes a
20 fps, 2.4 s clip), variable frame rates included. The last frame has nothing after it: it
is shown as N copies of itself, each d/N long.

Synthesis (OpenCV only, no weights): DIS optical flow both ways between A and B; the flow
from the new frame at fraction τ back to each of them is approximated from those two
(Jiang et al. 2018, "Super SloMo", eq. 4); both are warped there and blended with weights
(1 − τ) and τ, each cut where its content is occluded in the other frame (core/flow.py's
forward–backward check), so a moving edge is taken from the side that sees it rather than
ghosted. Streaming: two frames are held at a time. Across a cut (``--shots``) nothing is
blended: the last frame of a shot is repeated, as the clip's last frame is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..core.flow import flow, occlusion, pixel_grid, sample
from ..core.frames import Frame
from ..errors import OptionError

MAX_FACTOR = 8


def check_factor(factor: int) -> None:
    if not isinstance(factor, int) or not 1 <= factor <= MAX_FACTOR:
        raise OptionError(f"--interpolate {factor!r} must be a whole number from 1 (off) to {MAX_FACTOR}; 2 doubles the frame rate.")


def between(a: np.ndarray, b: np.ndarray, fractions: list[float]) -> list[np.ndarray]:
    """Frames at each fraction τ ∈ (0, 1) of the way from ``a`` to ``b`` (H×W×3 or ×4 uint8, same size)."""
    if a.shape != b.shape:
        raise ValueError(f"frames differ in shape: {a.shape} vs {b.shape}")
    h, w = a.shape[:2]
    grid = pixel_grid((h, w))  # built once: every fraction samples this pair four times
    f_ab, f_ba = flow(a, b), flow(b, a)
    # A's pixels gone in B; B's new ones (as 0/1 floats, so they blur when sampled between pixels)
    occ_a = occlusion(f_ab, f_ba, grid=grid).astype(np.float32)
    occ_b = occlusion(f_ba, f_ab, grid=grid).astype(np.float32)
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    out = []
    for tau in fractions:
        # flow from the new frame at τ back to A and on to B
        f_ta = -(1 - tau) * tau * f_ab + tau * tau * f_ba
        f_tb = (1 - tau) ** 2 * f_ab - tau * (1 - tau) * f_ba
        warped_a, warped_b = sample(fa, f_ta, grid=grid), sample(fb, f_tb, grid=grid)
        gone = sample(occ_a, f_ta, grid=grid)  # what A shows here has left by B: B's sample is something else
        new = sample(occ_b, f_tb, grid=grid)  # what B shows here was hidden in A
        wa = (1 - tau) * (1 - new)
        wb = tau * (1 - gone)
        total = wa + wb
        plain = total < 1e-3  # both doubtful: fall back to the plain cross-fade
        wa = np.where(plain, 1 - tau, wa / np.maximum(total, 1e-6))[..., None]
        blended = wa * warped_a + (1 - wa) * warped_b
        out.append(np.clip(np.rint(blended), 0, 255).astype(np.uint8))
    return out


def interpolate_frames(frames: Iterable[Frame], factor: int, cuts: Iterable[int] = ()) -> Iterator[Frame]:
    """``factor`` frames for every input frame, timed exactly (see the module text); 1 passes frames through.
    Before a frame in ``cuts`` (the first frame of a shot) nothing is blended: the last frame of the shot
    is repeated, as at the end of the clip."""
    check_factor(factor)
    if factor == 1:
        yield from frames
        return
    fractions = [k / factor for k in range(1, factor)]
    cuts = set(cuts)
    index = 0
    previous: Frame | None = None
    for frame in frames:
        if previous is not None:
            yield from _split(previous, None if frame.index in cuts else frame.image, fractions, factor, index)
            index += factor
        previous = frame
    if previous is not None:
        yield from _split(previous, None, fractions, factor, index)


def _split(frame: Frame, after: np.ndarray | None, fractions: list[float], factor: int, index: int) -> Iterator[Frame]:
    step = frame.duration / factor
    middles = between(frame.image, after, fractions) if after is not None and after.shape == frame.image.shape else (
        [frame.image] * len(fractions))
    for k, image in enumerate([frame.image, *middles]):
        yield Frame(index + k, frame.time + k * step, step, image)
