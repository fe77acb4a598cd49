"""Mask sources: still image, mask GIF / video / folder (one per frame), shapes with keyframes,
colour key, source alpha; counts, resizing, inversion. Masks are written here with Pillow / PyAV."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from rotoscope.errors import InputError, OptionError
from rotoscope.jobs.spec import JobSpec
from rotoscope.media.masks import FrameMasks, binarize, box_at, parse_key, parse_shape
from rotoscope.stylize.mask_options import MaskOptions
from tests import clips

SIZE = (64, 48)


def square(index: int, size=SIZE, side: int = 8) -> np.ndarray:
    """Mask ``index``: a white square that moves right 2 px a frame."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[10 : 10 + side, 2 * index : 2 * index + side] = 255
    return mask


def mask_gif(path: Path, count: int, size=SIZE) -> Path:
    images = [Image.fromarray(square(i, size)).convert("P") for i in range(count)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0, optimize=False)
    return path


def mask_mp4(path: Path, count: int, size=SIZE) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10", "preset": "ultrafast"}
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(np.repeat(square(i, size)[..., None], 3, axis=2), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def mask_folder(path: Path, count: int, size=SIZE) -> Path:
    path.mkdir()
    for i in range(count):
        Image.fromarray(square(i, size)).save(path / f"m{i}.png")
    return path


SOURCE = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)


# -- files --------------------------------------------------------------------------------------


def test_still_mask_is_used_for_every_frame_and_resized_with_a_notice(tmp_path, caplog):
    small = np.zeros((24, 32), np.uint8)
    small[4:12, 8:24] = 255
    Image.fromarray(small).save(tmp_path / "m.png")
    masks = FrameMasks(MaskOptions(mask=str(tmp_path / "m.png")), frame_count=30)
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        first, later = masks(0, SOURCE), masks(29, SOURCE)
    assert first.shape == (48, 64) and set(np.unique(first)) == {0, 255}
    assert np.array_equal(first, later)
    assert first[16, 32] == 255 and first[40, 5] == 0
    assert "mask" in caplog.text and "is 32x24; resized to the frame size 64x48" in caplog.text
    assert caplog.text.count("resized") == 1  # once, not once per frame


@pytest.mark.parametrize("kind", ["gif", "mp4", "folder"])
def test_one_mask_per_frame_from_gif_video_or_folder(tmp_path, kind):
    maker = {"gif": lambda: mask_gif(tmp_path / "m.gif", 6), "mp4": lambda: mask_mp4(tmp_path / "m.mp4", 6),
             "folder": lambda: mask_folder(tmp_path / "masks", 6)}[kind]
    masks = FrameMasks(MaskOptions(mask=str(maker())), frame_count=6)
    for i in (0, 1, 4, 5, 2):  # out of order too: decoding restarts
        assert np.array_equal(masks(i, SOURCE), square(i)), i


def test_fewer_masks_than_frames_is_an_error_with_both_counts(tmp_path):
    path = mask_gif(tmp_path / "m.gif", 5)
    with pytest.raises(InputError) as caught:
        FrameMasks(MaskOptions(mask=str(path)), frame_count=30)
    assert "has 5 masks but the clip has 30 frames" in str(caught.value)
    assert "--mask-hold-last" in str(caught.value)


def test_mask_hold_last_holds_the_last_mask(tmp_path, caplog):
    path = mask_gif(tmp_path / "m.gif", 5)
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        masks = FrameMasks(MaskOptions(mask=str(path), mask_hold_last=True), frame_count=30)
    assert np.array_equal(masks(3, SOURCE), square(3))
    assert np.array_equal(masks(20, SOURCE), square(4))
    assert "last mask is held" in caplog.text


def test_a_mask_per_redone_frame_maps_onto_frames_in_order(tmp_path):
    path = mask_folder(tmp_path / "masks", 7)
    masks = FrameMasks(MaskOptions(mask=str(path)), frame_count=30, selected=list(range(12, 19)))
    assert np.array_equal(masks(12, SOURCE), square(0))
    assert np.array_equal(masks(18, SOURCE), square(6))


def test_binarize_follows_the_web_ui():
    grey = np.array([[0, 128, 129, 255]], np.uint8)
    assert binarize(grey).tolist() == [[0, 0, 255, 255]]
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[..., 3] = [0, 200, 255]  # some transparency: the alpha is the mask, not the (black) colour
    assert binarize(rgba).tolist() == [[0, 255, 255]]


def test_missing_mask_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        MaskOptions(mask=str(tmp_path / "nope.png")).validate()


# -- shapes, key, alpha, invert -----------------------------------------------------------------------


def test_rectangle_and_ellipse_are_drawn_and_combined():
    masks = FrameMasks(MaskOptions(mask_rects=["0,0,10,10"], mask_ellipses=["20,10,40,20"]), frame_count=1)
    mask = masks(0, SOURCE)
    assert mask[:10, :10].all() and mask[10:, :10].sum() == 0
    assert mask[20, 40] == 255 and mask[10, 20] == 0  # ellipse centre yes, box corner no
    assert 0.7 < (mask[10:30, 20:60] > 0).mean() < 0.85  # π/4 of its box


def test_keyframed_rectangle_moves_linearly_and_holds_outside_its_keys():
    keys = parse_shape("10:0,0,10,10/30:40,20,10,10")
    assert box_at(keys, 0) == (0, 0, 10, 10)  # held before the first keyframe
    assert box_at(keys, 20) == (20, 10, 10, 10)  # halfway
    assert box_at(keys, 99) == (40, 20, 10, 10)
    masks = FrameMasks(MaskOptions(mask_rects=["10:0,0,10,10/30:40,20,10,10"]), frame_count=40)
    mid = masks(20, SOURCE)
    assert mid[10:20, 20:30].all() and mid.sum() == 100 * 255


@pytest.mark.parametrize("text", ["10,10,5", "a,b,c,d", "0,0,0,5", "x:1,2,3,4", "5:1,2,3,4/5:1,2,3,4", "-1:1,2,3,4"])
def test_bad_shapes_are_option_errors(text):
    with pytest.raises(OptionError, match="--mask-rect"):
        MaskOptions(mask_rects=[text]).validate()


def test_colour_key_selects_the_keyed_colour():
    picture = clips.picture(3, SIZE)  # the moving box is (255, 255, 120)
    masks = FrameMasks(MaskOptions(mask_key="#ffff78"), frame_count=1)
    mask = masks(3, picture)
    box = np.all(picture == (255, 255, 120), axis=2)
    assert np.array_equal(mask > 0, box)
    assert parse_key("#00ff00:12.5") == ((0, 255, 0), 12.5)
    with pytest.raises(OptionError, match="tolerance"):
        parse_key("#00ff00:lots")


def test_alpha_of_the_source_is_the_mask_and_invert_flips_it():
    rgba = clips.rgba_picture(0, SIZE)  # top-left quarter transparent
    opaque = FrameMasks(MaskOptions(mask_from_alpha=True), frame_count=1)(0, rgba)
    assert opaque[:12, :16].sum() == 0 and opaque[20:, 20:].all()
    flipped = FrameMasks(MaskOptions(mask_from_alpha=True, invert_mask=True), frame_count=1)(0, rgba)
    assert np.array_equal(flipped, 255 - opaque)
    with pytest.raises(InputError, match="no alpha channel"):
        FrameMasks(MaskOptions(mask_from_alpha=True), frame_count=1)(0, SOURCE)


def test_mask_options_validation():
    with pytest.raises(OptionError, match="--mask-blur 65 must be between 0 and 64"):
        MaskOptions(mask_rects=["0,0,1,1"], mask_blur=65).validate()
    with pytest.raises(OptionError, match="--inpaint-area 'some'"):
        MaskOptions(mask_rects=["0,0,1,1"], inpaint_area="some").validate()
    with pytest.raises(OptionError, match="--padding 300"):
        MaskOptions(mask_rects=["0,0,1,1"], padding=300).validate()
    with pytest.raises(OptionError, match="--invert-mask needs a mask"):  # an owner rule: checked with the job
        JobSpec(source="a.mp4", mask=MaskOptions(invert_mask=True)).validate()
    MaskOptions().validate()
    assert not MaskOptions().active and MaskOptions(mask_key="#00ff00").active
