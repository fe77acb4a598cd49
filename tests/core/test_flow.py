"""Optical flow, warping and the forward–backward occlusion check: real OpenCV flow on generated pictures."""

from __future__ import annotations

import numpy as np
import pytest

from rotoscope.core.flow import ALPHA, BETA, flow, motion, occlusion, pixel_grid, sample, warp_to
from rotoscope.errors import OptionError
from tests.clips import textured


def shifted_pair(shift: int = 4) -> tuple[np.ndarray, np.ndarray]:
    big = textured((160, 120))
    return big[10:106, 10:138], big[10:106, 10 + shift:138 + shift]  # b = a moved ``shift`` px left


def test_flow_finds_a_known_shift_and_warping_undoes_it():
    a, b = shifted_pair()
    backward = flow(b, a)  # each pixel of b is 4 px to the right in a
    inner = backward[16:-16, 16:-16]
    assert np.allclose(np.median(inner[..., 0]), 4, atol=0.3) and np.allclose(np.median(inner[..., 1]), 0, atol=0.3)
    warped = warp_to(a, backward)
    assert np.abs(warped[16:-16, 16:-16].astype(int) - b[16:-16, 16:-16]).mean() < 3


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_both_flow_methods_see_the_shift(method):
    a, b = shifted_pair()
    backward, occluded = motion(a, b, method)
    assert np.median(backward[16:-16, 16:-16, 0]) == pytest.approx(4, abs=0.5)
    assert occluded[:, -2:].all()  # the strip entering on the right has no source in a
    assert not occluded[16:-16, 16:-16].mean() > 0.05


def test_unknown_flow_method_is_an_option_error():
    a, b = shifted_pair()
    with pytest.raises(OptionError, match="--flow 'raft'"):
        flow(a, b, "raft")


def test_occlusion_check_marks_inconsistent_and_outside_pixels():
    zero = np.zeros((20, 30, 2), np.float32)
    assert not occlusion(zero, zero).any()
    backward = zero.copy()
    backward[..., 0] = 5.0  # every pixel comes from 5 px to the right...
    forward = zero.copy()
    forward[..., 0] = -5.0  # ...and goes back: consistent, except where x + 5 leaves the picture
    occluded = occlusion(backward, forward)
    assert occluded[:, -5:].all() and not occluded[:, :-6].any()
    # α = 0.01, β = 0.5: a mismatch of 1 px is occluded, 0.5 px is not
    assert (ALPHA, BETA) == (0.01, 0.5)
    assert occlusion(zero + np.float32([1, 0]), zero)[:, :-2].all()
    assert not occlusion(zero + np.float32([0.5, 0]), zero)[:, :-2].any()


def test_a_given_grid_samples_exactly_as_a_built_one():
    a, b = shifted_pair()
    forward, backward = flow(a, b), flow(b, a)
    grid = pixel_grid(a.shape[:2])
    assert np.array_equal(sample(a, backward, grid=grid), sample(a, backward))
    assert np.array_equal(occlusion(backward, forward, grid=grid), occlusion(backward, forward))
