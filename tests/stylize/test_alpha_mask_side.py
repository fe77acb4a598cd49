"""--mask-from-alpha, as the docs say: the source's opaque pixels change, its transparent pixels are kept."""

from __future__ import annotations

import numpy as np

from rotoscope.media.masks import FrameMasks
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.mask_options import MaskOptions
from rotoscope.stylize.options import StyleOptions
from tests import clips


def test_opaque_pixels_change_and_transparent_ones_are_kept(tiny_model_dir):
    rgb = clips.picture(3, (64, 48))
    rgba = np.dstack([rgb, np.zeros((48, 64), np.uint8)])
    rgba[:, :32, 3] = 255  # the left half is the opaque subject, the right half transparent
    options = MaskOptions(mask_from_alpha=True, mask_blur=0)
    mask = FrameMasks(options, frame_count=1)(0, rgba)
    stylizer = build_stylizer(ModelOptions(model="tiny"), StyleOptions(prompt="ink", seed=1, steps=4, strength=0.8), options)
    (out,) = stylizer.stylize([rgb], seed=1, indices=[0], mask=[mask])
    changed = np.abs(out.astype(int) - rgb).sum(axis=2) > 0
    assert changed[:, :32].mean() > 0.5  # opaque: restyled
    assert not changed[:, 32:].any()  # transparent: exactly the source
