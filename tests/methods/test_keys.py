"""Keyframe selection: every:N, a list, and auto (by change) picking the cut of a generated clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rotoscope.errors import OptionError
from rotoscope.methods.keys import KeyOptions, neighbours, parse_keys, select_keys
from tests import clips

CUT = 23  # the generated clip's second scene starts here


def other_scene(index: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    """A different scene: a dark checkerboard with a disc moving down (no gradient, no box)."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    image = np.where(((xs // 20) + (ys // 20)) % 2 == 0, 40, 110).astype(np.uint8)
    image = np.repeat(image[..., None], 3, axis=2)
    cy, cx = 20 + 3 * index, w // 2
    image[(xs - cx) ** 2 + (ys - cy) ** 2 < 15**2] = (230, 80, 40)
    return image


def cut_frames(count: int = 40) -> list[np.ndarray]:
    return [clips.picture(i) if i < CUT else other_scene(i - CUT) for i in range(count)]


def write_cut_clip(folder: Path, count: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(cut_frames(count)):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return folder


def test_parse_keys_forms_and_errors():
    assert parse_keys("every:10") == ("every", 10)
    assert parse_keys("auto") == ("auto", None)
    assert parse_keys("30, 0,12") == ("list", [0, 12, 30])
    for bad in ("every:0", "every:x", "a,b", "-3"):
        with pytest.raises(OptionError, match="--keys"):
            parse_keys(bad)
    with pytest.raises(OptionError, match="--plate"):
        KeyOptions(plate="5x1").validate()
    with pytest.raises(OptionError, match="--key-min-gap"):
        KeyOptions(key_min_gap=20, key_max_gap=10).validate()


def test_every_n_and_list_need_no_pictures():
    assert select_keys([], 30, KeyOptions(keys="every:10")).keys == [0, 10, 20]
    assert select_keys([], 30, KeyOptions(keys="12,29")).keys == [0, 12, 29]  # frame 0 is always a key
    with pytest.raises(OptionError, match="outside the clip"):
        select_keys([], 30, KeyOptions(keys="0,30"))
    assert neighbours(15, [0, 10, 20]) == (10, 20)
    assert neighbours(25, [0, 10, 20]) == (20, None)


def test_auto_picks_the_hard_scene_change():
    selection = select_keys(iter(cut_frames()), None, KeyOptions(keys="auto", key_min_gap=10, key_max_gap=300))
    assert CUT in selection.keys and selection.cuts == [CUT]
    assert selection.keys[0] == 0
    gaps = np.diff(selection.keys)
    assert all(g >= 10 for k, g in zip(selection.keys[1:], gaps) if k != CUT)  # min gap holds except at the cut
    # the cut is a key even right after another key (nothing can be carried across it)
    near = select_keys(iter(cut_frames()), None, KeyOptions(keys="auto", key_min_gap=30, key_max_gap=300))
    assert near.keys == [0, CUT] and near.cuts == [CUT]
    pixel = select_keys(iter(cut_frames()), None, KeyOptions(keys="auto", key_measure="pixel", key_min_gap=30))
    assert CUT in pixel.keys


def test_max_gap_forces_keys_on_a_steady_clip():
    steady = [clips.picture(0)] * 25
    assert select_keys(iter(steady), None, KeyOptions(keys="auto", key_min_gap=2, key_max_gap=8)).keys == [0, 8, 16, 24]
