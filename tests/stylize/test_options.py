"""StyleOptions.validate: every bad value raises OptionError naming the value (and the way out)."""

from __future__ import annotations

import pytest

from rotoscope.errors import OptionError, RotoscopeError
from rotoscope.stylize.options import MAX_SEED, StyleOptions


def message(**kwargs) -> str:
    with pytest.raises(OptionError) as info:
        StyleOptions(**kwargs).validate()
    assert isinstance(info.value, RotoscopeError)
    return str(info.value)


def test_defaults_are_valid():
    StyleOptions().validate()
    StyleOptions(prompt="", seed=0, strength=1.0, steps=1).validate()
    StyleOptions(seed=MAX_SEED).validate()


@pytest.mark.parametrize("strength", [0, 0.0, -0.1, 1.5])
def test_strength_out_of_range(strength):
    text = message(strength=strength)
    assert f"--strength {strength}" in text
    assert "(0, 1]" in text


def test_steps_times_strength_below_one_names_both_and_the_fix():
    text = message(steps=2, strength=0.3)
    assert "--steps 2" in text and "--strength 0.3" in text
    assert "no denoising step" in text
    # the way out: 4 steps (4 × 0.3 ≥ 1) or strength 0.5 (2 × 0.5 = 1)
    assert "--steps to at least 4" in text
    assert "--strength to at least 0.50" in text
    # and the fixes it names really are valid
    StyleOptions(steps=4, strength=0.3).validate()
    StyleOptions(steps=2, strength=0.5).validate()


def test_steps_times_strength_fix_for_awkward_strength():
    # 1 / 0.15 = 6.67 → 7 steps
    text = message(steps=5, strength=0.15)
    assert "--steps to at least 7" in text
    StyleOptions(steps=7, strength=0.15).validate()


@pytest.mark.parametrize("mode", ["stretch", "Just Resize", ""])
def test_unknown_resize_mode(mode):
    text = message(resize_mode=mode)
    assert f"--resize-mode {mode!r}" in text
    assert "just-resize" in text and "crop-and-resize" in text and "resize-and-fill" in text


@pytest.mark.parametrize("seed", [-2, MAX_SEED + 1, 2**40])
def test_bad_seed(seed):
    text = message(seed=seed)
    assert f"--seed {seed}" in text
    assert "-1" in text and str(MAX_SEED) in text


@pytest.mark.parametrize("kwargs, needle", [
    (dict(steps=0), "--steps 0"),
    (dict(steps=151), "--steps 151"),
    (dict(cfg_scale=31), "--cfg 31"),
    (dict(width=4), "--width 4"),
    (dict(height=5000), "--height 5000"),
    (dict(noise="random"), "--noise 'random'"),
    (dict(clip_skip=0), "--clip-skip 0"),
    (dict(batch_size=0), "--batch-size 0"),
])
def test_other_ranges(kwargs, needle):
    assert needle in message(**kwargs)
