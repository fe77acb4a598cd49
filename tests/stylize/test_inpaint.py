"""The inpaint Stylizer through the real tiny pipelines: ``tiny`` (ordinary 4-channel UNet in the
inpaint pipeline) and ``tiny-inpaint`` (9-channel inpainting UNet). No mocks.

Frames are 96×72, 3 steps × 0.67 strength (2 denoising steps) without CFG, so each call takes a fraction of a second.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from rotoscope.models.options import ModelOptions
from rotoscope.stylize.classic import ClassicStylizer
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.inpaint import ClassicInpaint, DiffusersInpaint, prepare
from rotoscope.stylize.mask_options import MaskOptions
from rotoscope.stylize.masking import blur_mask, only_masked_region
from rotoscope.stylize.options import StyleOptions
from tests import clips

STYLE = StyleOptions(prompt="a box", seed=1, steps=3, strength=0.67, cfg_scale=1.0)  # 2 steps, no CFG batch
ANY = ["0,0,1,1"]  # the stylizer takes its masks per call; options only need a source to be "active"


@pytest.fixture(scope="module")
def stylizers(tiny_model_dir) -> dict[str, DiffusersInpaint]:
    """One loaded inpaint stylizer per UNet kind; tests set ``mask_options`` per call."""
    out = {}
    for name in ("tiny", "tiny-inpaint"):
        stylizer = build_stylizer(ModelOptions(model=name), STYLE, MaskOptions(mask_rects=ANY))
        assert isinstance(stylizer, DiffusersInpaint)
        out[name] = stylizer
    assert int(out["tiny"].pipe.unet.config.in_channels) == 4
    assert int(out["tiny-inpaint"].pipe.unet.config.in_channels) == 9
    return out


@pytest.fixture(scope="module")
def base() -> np.ndarray:
    return clips.picture(5, (96, 72))


def rect_mask(size=(96, 72), box=(30, 20, 30, 20)) -> np.ndarray:
    x, y, w, h = box
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[y : y + h, x : x + w] = 255
    return mask


@pytest.mark.parametrize("area", ["whole", "only-masked"])
@pytest.mark.parametrize("model", ["tiny", "tiny-inpaint"])
def test_pixels_outside_the_blurred_mask_are_exactly_the_base_frame(stylizers, base, model, area):
    stylizer = stylizers[model]
    stylizer.mask_options = MaskOptions(mask_rects=ANY, inpaint_area=area, mask_blur=4)
    mask = rect_mask()
    (out,) = stylizer.stylize([base], seed=1, indices=[5], mask=[mask])
    outside = blur_mask(mask, 4) == 0
    assert out.shape == base.shape
    assert outside.sum() > 0.5 * outside.size
    assert np.array_equal(out[outside], base[outside])  # bit for bit
    changed = np.abs(out.astype(np.int16) - base.astype(np.int16)).max(axis=2) > 0
    assert changed[mask > 0].mean() > 0.5  # and the masked area was repainted


@pytest.mark.parametrize("content", ["fill", "latent-noise", "latent-nothing"])
def test_masked_content_modes_keep_the_outside_exact(stylizers, base, content):
    for model in ("tiny", "tiny-inpaint"):
        stylizer = stylizers[model]
        stylizer.mask_options = MaskOptions(mask_rects=ANY, inpaint_area="only-masked", masked_content=content)
        mask = rect_mask()
        (out,) = stylizer.stylize([base], seed=1, indices=[0], mask=[mask])
        outside = blur_mask(mask, 4) == 0
        assert np.array_equal(out[outside], base[outside]), model


def test_masked_content_changes_what_the_model_starts_from(stylizers, base):
    stylizer = stylizers["tiny"]
    mask = rect_mask()
    outs = {}
    for content in ("original", "fill", "latent-nothing"):
        stylizer.mask_options = MaskOptions(mask_rects=ANY, masked_content=content)
        (outs[content],) = stylizer.stylize([base], seed=1, indices=[0], mask=[mask])
    inside = mask > 0
    assert not np.array_equal(outs["original"][inside], outs["fill"][inside])
    assert not np.array_equal(outs["original"][inside], outs["latent-nothing"][inside])


def test_same_seed_same_result_batch_of_frames_with_their_own_masks(stylizers):
    stylizer = stylizers["tiny-inpaint"]
    stylizer.mask_options = MaskOptions(mask_rects=ANY, inpaint_area="only-masked", padding=8)
    frames = [clips.picture(i, (96, 72)) for i in (0, 1)]
    masks = [rect_mask(box=(4, 4, 20, 20)), rect_mask(box=(60, 30, 30, 30))]
    first = stylizer.stylize(frames, seed=3, indices=[0, 1], mask=masks)
    again = stylizer.stylize(frames, seed=3, indices=[0, 1], mask=masks)
    for out, frame, mask in zip(first, frames, masks):
        outside = blur_mask(mask, 4) == 0
        assert np.array_equal(out[outside], frame[outside])
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_empty_mask_leaves_the_frame_unchanged_with_a_notice(stylizers, base, caplog):
    stylizer = stylizers["tiny"]
    stylizer.mask_options = MaskOptions(mask_rects=ANY)
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        (out,) = stylizer.stylize([base], seed=1, indices=[7], mask=[np.zeros(base.shape[:2], np.uint8)])
    assert np.array_equal(out, base)
    assert "frame 7: the mask is empty" in caplog.text


def test_result_keeps_the_base_size_when_processing_size_differs(stylizers, base):
    stylizer = stylizers["tiny"]
    stylizer.mask_options = MaskOptions(mask_rects=ANY)
    stylizer.style = replace(STYLE, width=64, height=64)  # 96x72 frame processed at 64x64
    stylizer._sizes.clear()
    try:
        mask = rect_mask()
        (out,) = stylizer.stylize([base], seed=1, indices=[0], mask=[mask])
    finally:
        stylizer.style = STYLE
        stylizer._sizes.clear()
    outside = blur_mask(mask, 4) == 0
    assert out.shape == base.shape
    assert np.array_equal(out[outside], base[outside])


def test_only_masked_generates_the_crop_box_at_the_processing_size(base):
    mask = rect_mask(box=(70, 50, 10, 10))
    options = MaskOptions(mask_rects=ANY, inpaint_area="only-masked", padding=16)
    item = prepare(base, base, mask, options, (96, 72), "just-resize")
    assert item.region == only_masked_region(blur_mask(mask, 4), 16, (96, 72))
    assert item.image.shape == (72, 96, 3) and item.mask.shape == (72, 96)
    x1, y1, x2, y2 = item.region
    assert (x2 - x1) < 96 and x2 == 96  # a crop, shifted back inside the right edge
    whole = prepare(base, base, mask, replace(options, inpaint_area="whole"), (96, 72), "just-resize")
    assert whole.region is None
    assert np.array_equal(whole.alpha, np.clip(blur_mask(mask, 4).astype(int) * 2, 0, 255))  # the web UI's ×2 overlay


def test_classic_look_through_a_mask_keeps_the_outside_exact(base):
    stylizer = build_stylizer(ModelOptions(model="classic:cartoon"), STYLE, MaskOptions(mask_rects=ANY))
    assert isinstance(stylizer, ClassicInpaint) and isinstance(stylizer.classic, ClassicStylizer)
    mask = rect_mask()
    (out,) = stylizer.stylize([base], seed=1, indices=[0], mask=[mask])
    outside = blur_mask(mask, 4) == 0
    assert np.array_equal(out[outside], base[outside])
    assert not np.array_equal(out[mask > 0], base[mask > 0])
