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
    assert f"--strength {strength:g} " in text
    assert "(0, 1]" in text


def test_steps_times_strength_below_one_is_accepted_and_runs_one_step():
    # img2img at low strength still runs at least one step (SD-Turbo: 2 steps × 0.3);
    # the stylizer raises the schedule (stylize/speed.py; tests/stylize/test_speed.py counts the UNet calls)
    from rotoscope.stylize.speed import schedule_steps

    StyleOptions(steps=2, strength=0.3).validate()
    assert schedule_steps(2, 0.3) == 4  # int(4 × 0.3) = 1 step
    assert schedule_steps(5, 0.15) == 7  # int(7 × 0.15) = 1
    assert schedule_steps(20, 0.3) == 20  # enough already: unchanged


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
    (dict(width=4), "--process-width 4"),
    (dict(height=5000), "--process-height 5000"),
    (dict(noise="random"), "--noise 'random'"),
    (dict(clip_skip=0), "--clip-skip 0"),
    (dict(batch_size=0), "--batch-size 0"),
])
def test_other_ranges(kwargs, needle):
    assert needle in message(**kwargs)
