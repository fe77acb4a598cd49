"""--interpolate: flow-based in-between frames, timing kept exact, occlusions not ghosted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rotoscope.core.frames import Frame
from rotoscope.errors import OptionError
from rotoscope.media.interpolate import between, interpolate_frames


def _background(h: int = 64, w: int = 96) -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur((rng.random((h, w, 3)) * 60 + 60).astype(np.uint8), (5, 5), 0)


def _square_at(x: int) -> np.ndarray:
    image = _background()
    image[20:40, x : x + 20] = 250
    return image


def test_the_middle_frame_has_the_square_half_way_and_no_ghosts():
    middle = between(_square_at(10), _square_at(30), [0.5])[0]
    bright = np.where(middle[30, :, 0] > 200)[0]
    assert bright.min() in (19, 20, 21) and bright.max() in (38, 39, 40)
    # where the square was and where it will be, the background shows (a cross-fade would leave it half bright)
    assert middle[30, 10:18, 0].max() < 130 and middle[30, 42:50, 0].max() < 130


def test_timing_is_exact_and_the_last_frame_is_held():
    frames = [Frame(i, i / 10, 0.1, _square_at(10 + 4 * i)) for i in range(10)]
    out = list(interpolate_frames(iter(frames), 2))
    assert [f.index for f in out] == list(range(20))
    assert [f.time for f in out] == pytest.approx([i * 0.05 for i in range(20)], abs=1e-12)
    assert all(f.duration == pytest.approx(0.05) for f in out)
    assert out[-1].time + out[-1].duration == pytest.approx(frames[-1].time + frames[-1].duration)
    assert np.array_equal(out[0].image, frames[0].image) and np.array_equal(out[-1].image, frames[-1].image)


def test_variable_frame_durations_split_evenly():
    frames = [Frame(0, 0.0, 0.3, _square_at(10)), Frame(1, 0.3, 0.1, _square_at(20)), Frame(2, 0.4, 0.2, _square_at(30))]
    out = list(interpolate_frames(frames, 3))
    assert [round(f.time, 9) for f in out] == [0.0, 0.1, 0.2, 0.3, 0.333333333, 0.366666667, 0.4, 0.466666667, 0.533333333]
    assert sum(f.duration for f in out) == pytest.approx(0.6)


def test_factor_one_passes_frames_through_and_bad_factors_are_refused():
    frames = [Frame(0, 0.0, 0.1, _square_at(10))]
    assert list(interpolate_frames(frames, 1)) == frames
    with pytest.raises(OptionError, match="--interpolate"):
        list(interpolate_frames(frames, 0))
