"""Shot detection (media/shots.py) on generated clips with known cuts, at several sampling fps."""

from __future__ import annotations

import math

import pytest

from rotoscope.errors import OptionError
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from rotoscope.media.shots import Shots, find_shots, parse_shots
from tests import clips

SCRIPT = clips.cuts_script()


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory):
    return clips.cuts_clip(tmp_path_factory.mktemp("shots") / "cuts.mp4")


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    return clips.busy_clip(tmp_path_factory.mktemp("shots") / "busy.mp4")


def expected_cuts(fps: float | None) -> list[int]:
    """Where each cut lands after resampling: the first sampled frame showing the new shot."""
    if fps is None:
        return list(SCRIPT.CUTS)
    return [math.ceil(c * fps / SCRIPT.FPS - 1e-9) for c in SCRIPT.CUTS]


@pytest.mark.parametrize("fps", [None, 10, 8])
def test_every_cut_found_within_one_frame_at_each_sampling_fps(cut_clip, fps):
    shots = find_shots((f.image for f in iter_frames(cut_clip, MediaOptions(fps=fps))), None, "auto")
    want = expected_cuts(fps)
    assert len(shots.cuts) == len(want), (shots.cuts, want)
    assert all(abs(a - b) <= 1 for a, b in zip(shots.cuts, want)), (shots.cuts, want)


def test_repeated_frames_make_no_cut(cut_clip):
    doubled = find_shots((f.image for f in iter_frames(cut_clip, MediaOptions(fps=50))), None, "auto")
    assert list(doubled.cuts) == [2 * c for c in SCRIPT.CUTS]  # each frame shown twice: the same cuts, no more


@pytest.mark.parametrize("fps", [None, 10, 8])
def test_no_cut_in_a_busy_clip_with_fast_camera_motion(busy, fps):
    shots = find_shots((f.image for f in iter_frames(busy, MediaOptions(fps=fps))), None, "auto")
    assert shots.cuts == () and max(shots.scores) > 20  # every frame changes a lot, and none is a cut


def test_shots_spans_and_the_option_forms():
    shots = Shots(10, (4, 7))
    assert shots.spans() == [(0, 3), (4, 6), (7, 9)]
    assert [shots.start_of(i) for i in (0, 3, 4, 6, 7, 9)] == [0, 0, 4, 4, 7, 7]
    assert shots.end_of(5) == 6 and not shots.same_shot(3, 4) and shots.same_shot(4, 6)
    assert shots.to_list([i / 10 for i in range(10)], end=1.0)[1] == {
        "shot": 2, "start_frame": 4, "end_frame": 6, "frames": 3, "start": 0.4, "end": 0.7}
    assert parse_shots("auto") == ("auto", []) and parse_shots(" 12, 5") == ("list", [5, 12])
    assert find_shots([], 10, "none").cuts == () and find_shots([], 10, "0,5").cuts == (5,)
    for bad in ("x", "-1", ""):
        with pytest.raises(OptionError, match="--shots"):
            parse_shots(bad)
    with pytest.raises(OptionError, match="outside the clip"):
        find_shots([], 10, "12")
    with pytest.raises(OptionError, match="--shots"):
        MediaOptions(shots="soon").validate()
