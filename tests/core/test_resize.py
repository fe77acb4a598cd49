"""Resizing helpers shared by every layer."""

from __future__ import annotations

import numpy as np

from rotoscope.core.resize import fit, resize
from tests.clips import textured


def test_fit_drops_alpha_and_keeps_a_picture_of_the_right_shape():
    rgb = textured((64, 48))
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    assert np.array_equal(fit(rgba, (48, 64)), rgb)
    assert np.shares_memory(fit(rgb, (48, 64)), rgb)  # no copy when nothing changes
    small = fit(rgba, (24, 32))
    assert small.shape == (24, 32, 3) and small.dtype == np.uint8


def test_resize_returns_a_picture_of_its_size_unchanged():
    rgb = textured((64, 48))
    for mode in ("just-resize", "crop-and-resize", "resize-and-fill"):
        assert resize(rgb, (64, 48), mode) is rgb
        assert resize(rgb, (40, 40), mode).shape == (40, 40, 3)
