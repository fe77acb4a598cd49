"""The web UI's inpaint geometry: mask blur kernel, "only masked" crop box, exact paste-back.

The expected crop boxes were worked out by hand from the web UI's formula
(modules/masking.py get_crop_region + expand_crop_region): bounding box of the
mask's non-zero pixels grown by padding and clamped; then the missing length
for the processing aspect ratio, int()-truncated, split half before / the rest
after, shifted back inside the image, clamped.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rotoscope.stylize.masking import (blur_kernel_size, blur_mask, composite, crop_region, expand_crop_region, fill,
                                       mask_overlay, only_masked_region)


def box_mask(y0: int, y1: int, x0: int, x1: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[y0:y1, x0:x1] = 255
    return mask


# (case, mask, padding, processing size (w, h), bounding box + padding, final crop box)
CROP_CASES = [
    ("tiny mask, no padding: 2x2 needs int(0.67)=0 more", box_mask(50, 52, 60, 62), 0, (160, 120),
     (60, 50, 62, 52), (60, 50, 62, 52)),
    ("tiny mask, padding 32: 66x66 widened by 22 to 4:3", box_mask(50, 52, 60, 62), 32, (160, 120),
     (28, 18, 94, 84), (17, 18, 105, 84)),
    ("odd missing length: 10x10 → +3, one left and two right", box_mask(50, 60, 70, 80), 0, (160, 120),
     (70, 50, 80, 60), (69, 50, 82, 60)),
    ("mask at the right edge: padding clamped, widened box shifted back left", box_mask(40, 80, 150, 160), 32, (160, 120),
     (118, 8, 160, 112), (22, 8, 160, 112)),
    ("mask in the top-left corner, wide 2:1 target: shifted right", box_mask(0, 10, 0, 10), 32, (512, 256),
     (0, 0, 42, 42), (0, 0, 84, 42)),
    ("mask at the bottom edge: heightened box shifted up", box_mask(110, 120, 40, 120), 4, (160, 120),
     (36, 106, 124, 120), (36, 54, 124, 120)),
    ("non-square (portrait 1:2) target: taller than the image, clamped", box_mask(30, 50, 20, 120), 0, (64, 128),
     (20, 30, 120, 50), (20, 0, 120, 120)),
    ("full mask: the whole frame", box_mask(0, 120, 0, 160), 32, (160, 120),
     (0, 0, 160, 120), (0, 0, 160, 120)),
]


@pytest.mark.parametrize("case, mask, padding, size, padded, expected", CROP_CASES, ids=[c[0] for c in CROP_CASES])
def test_only_masked_crop_box_matches_the_web_ui_formula(case, mask, padding, size, padded, expected):
    assert crop_region(mask, padding) == padded
    h, w = mask.shape
    assert expand_crop_region(padded, size[0], size[1], w, h) == expected
    assert only_masked_region(mask, padding, size) == expected


def test_crop_box_of_an_empty_mask_is_none():
    assert crop_region(np.zeros((48, 64), np.uint8), 32) is None
    assert only_masked_region(np.zeros((48, 64), np.uint8), 32, (64, 48)) is None


def test_crop_box_is_taken_on_the_blurred_mask():
    """The web UI crops around the *blurred* mask: blur 4 widens a 2x2 dot by the kernel's reach."""
    dot = box_mask(50, 52, 60, 62)
    blurred = blur_mask(dot, 4)
    x1, y1, x2, y2 = crop_region(blurred, 0)
    assert x1 < 60 and y1 < 50 and x2 > 62 and y2 > 52
    assert 62 - x1 <= blur_kernel_size(4) // 2 + 2  # no further than the kernel reaches


@pytest.mark.parametrize("sigma, size", [(0.5, 3), (1, 7), (4, 21), (10, 51), (64, 321)])
def test_blur_kernel_is_2_int_2_5_sigma_plus_half_plus_1(sigma, size):
    assert blur_kernel_size(sigma) == size


def test_blur_is_opencv_gaussian_along_x_then_y():
    mask = box_mask(20, 60, 30, 90)
    k = blur_kernel_size(4)
    expected = cv2.GaussianBlur(cv2.GaussianBlur(mask, (k, 1), 4), (1, k), 4)
    assert np.array_equal(blur_mask(mask, 4), expected)
    assert blur_mask(mask, 0) is mask
    # the blur reaches at most the kernel radius beyond the mask
    reach = k // 2
    outside = np.ones_like(mask, bool)
    outside[20 - reach : 60 + reach, 30 - reach : 90 + reach] = False
    assert not blur_mask(mask, 4)[outside].any()


def test_composite_keeps_base_exactly_where_alpha_is_zero():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    alpha = blur_mask(box_mask(10, 30, 20, 40, (64, 48)), 2)
    out = composite(generated, base, alpha)
    assert np.array_equal(out[alpha == 0], base[alpha == 0])
    assert np.array_equal(out[alpha == 255], generated[alpha == 255])
    mid = (alpha > 0) & (alpha < 255)
    assert mid.any()


def test_fill_paints_the_masked_area_from_its_surroundings():
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (200, 0, 0)
    image[:, 32:] = (0, 0, 200)
    image[16:32, 24:40] = (0, 255, 0)  # the part to be replaced
    mask = box_mask(16, 32, 24, 40, (64, 48))
    filled = fill(image, mask)
    assert filled[24, 26, 1] < 60  # no green left inside
    assert filled[24, 26, 0] > filled[24, 26, 2]  # red side stays reddish
    assert filled[24, 38, 2] > filled[24, 38, 0]


def test_overlay_draws_outline_and_crop_box():
    image = np.full((120, 160, 3), 90, np.uint8)
    mask = box_mask(40, 60, 60, 100)
    blurred = blur_mask(mask, 4)
    region = only_masked_region(blurred, 8, (160, 120))
    shown = mask_overlay(image, mask, blurred, region)
    x1, y1, x2, y2 = region
    assert tuple(shown[y1, (x1 + x2) // 2]) == (255, 230, 0)  # crop box, top edge
    assert tuple(shown[50, 60]) == (255, 0, 0)  # mask outline, left edge
    assert tuple(shown[5, 5]) == (90, 90, 90)  # far away: untouched
