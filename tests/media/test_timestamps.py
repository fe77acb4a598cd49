"""Every frame the file holds (issue 17): broken timestamps are repaired, not dropped.

The files are made by tests/media/broken_clips.py; the reference is what
ffmpeg decodes (PyAV's low-level decode of every packet; the ffmpeg binary's
own counts are noted beside the recipes).
"""

from __future__ import annotations

import logging
from fractions import Fraction

import pytest

from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from rotoscope.media.probe import probe
from rotoscope.media.timestamps import FrameClock, broken
from tests.clips import read_index
from tests.media import broken_clips

FRAMES = 150  # 5 s at 30 fps
LATE_FRAMES = 330


@pytest.fixture(scope="module")
def broken_file(tmp_path_factory):
    made = {}

    def make(name: str):
        if name not in made:
            folder = tmp_path_factory.mktemp(name.replace(".", "_"))
            frames = LATE_FRAMES if name == "late_backwards.mp4" else FRAMES
            maker = broken_clips.late_backwards_mp4 if name == "late_backwards.mp4" else broken_clips.RECIPES[name]
            made[name] = maker(folder, frames)
        return made[name]

    return make


NAMES = sorted(broken_clips.RECIPES)  # late_backwards.mp4 (longer) has its own test


def strictly_increasing(frames) -> bool:
    return all(b.time > a.time for a, b in zip(frames, frames[1:]))


@pytest.mark.parametrize("name", NAMES)
def test_every_frame_ffmpeg_decodes_is_kept_in_order(broken_file, name):
    path = broken_file(name)
    frames = list(iter_frames(path))
    assert len(frames) == broken_clips.reference_count(path) == broken_clips.FFMPEG_COUNTS[name] == FRAMES
    assert [read_index(f.image) for f in frames] == list(range(FRAMES))
    assert strictly_increasing(frames)
    # Re-timed at the clip's own rate: 5 s, not 2.5 s or 10 s.
    assert frames[-1].time + frames[-1].duration == pytest.approx(FRAMES / 30, abs=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_probe_counts_what_decode_gives_and_says_it_repaired(broken_file, name):
    info = probe(broken_file(name))
    assert info.frame_count == FRAMES
    assert info.timestamps_repaired > 0
    assert info.duration == pytest.approx(FRAMES / 30, abs=1e-3)
    assert info.fps == pytest.approx(30, abs=0.01)


def test_repair_is_said_once(broken_file, caplog):
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        frames = list(iter_frames(broken_file("dup_pts.mp4")))
    notes = [r.getMessage() for r in caplog.records if r.name == "rotoscope"]
    assert len(notes) == 1, notes
    assert f"75 of {len(frames)} frames had missing, repeated or backwards timestamps" in notes[0]
    assert "re-timed at 30 fps" in notes[0]


def test_a_healthy_file_is_not_repaired(box_mp4, caplog):
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        assert len(list(iter_frames(box_mp4))) == 30
    assert not [r for r in caplog.records if r.name == "rotoscope"]
    assert probe(box_mp4).timestamps_repaired == 0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("start", [0.0, 1.0, 1.5])
def test_fps_at_the_clips_own_rate_keeps_every_frame(broken_file, name, start):
    """A 3 s cut at 30 fps of a 30 fps clip is 90 frames, each source frame once (not 45 repeated)."""
    frames = list(iter_frames(broken_file(name), MediaOptions(start=start, duration=3.0, fps=30)))
    first = round(start * 30)
    assert [read_index(f.image) for f in frames] == list(range(first, first + 90))
    assert strictly_increasing(frames)


def test_damage_after_the_read_ahead_is_repaired_in_place(broken_file):
    """Good for 10 s, then pts go back: the frames stay, times stay increasing, probe agrees."""
    path = broken_file("late_backwards.mp4")
    frames = list(iter_frames(path))
    assert len(frames) == broken_clips.reference_count(path) == broken_clips.FFMPEG_COUNTS["late_backwards.mp4"] == LATE_FRAMES
    assert [read_index(f.image) for f in frames] == [i % 256 for i in range(LATE_FRAMES)]
    assert strictly_increasing(frames)
    info = probe(path)
    assert info.frame_count == LATE_FRAMES and info.timestamps_repaired > 0


def test_best_effort_timestamp_falls_back_to_dts_like_ffmpeg():
    clock = FrameClock(Fraction(1, 30), interval=1 / 30)
    # pts repeat (faulty) while dts rise: from the first fault on the dts are
    # used, and a time not after the one before moves one interval after it.
    times = [clock.place(pts, dts) for pts, dts in [(0, 0), (2, 1), (2, 2), (4, 3), (4, 4)]]
    assert times == pytest.approx([0, 2 / 30, 3 / 30, 4 / 30, 5 / 30])
    assert clock.repaired == 3


def test_missing_times_are_one_frame_interval_apart():
    clock = FrameClock(Fraction(1, 1000), interval=0.04)
    assert [clock.place(None, None) for _ in range(3)] == pytest.approx([0, 0.04, 0.08])
    assert clock.repaired == 3


def test_what_counts_as_broken():
    assert not broken([(0, 0), (1, 1), (2, 2)], reorders=False)
    assert not broken([(2, 0), (0, 1), (1, 2)], reorders=True)  # B-frames, as MP4 stores them
    assert broken([(1, 0), (2, 1), (3, 2)], reorders=True)  # B-frames with decoding-order pts (AVI)
    assert broken([(0, 0), (0, 1)], reorders=False)
    assert broken([(None, None), (1, 1)], reorders=False)
    assert broken([(0, 1), (1, 1)], reorders=False)


def test_a_packet_the_decoder_rejects_is_skipped_not_the_rest(tmp_path, caplog):
    path = broken_clips.damaged_mjpeg_avi(tmp_path)
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        frames = list(iter_frames(path))
    assert len(frames) == broken_clips.reference_count(path) == 18
    assert [read_index(f.image) for f in frames] == [i for i in range(20) if i not in (5, 11)]
    assert strictly_increasing(frames)
    notes = [r.getMessage() for r in caplog.records if r.name == "rotoscope"]
    assert notes == [f"{path}: 2 damaged packets were skipped (the decoder rejected them, as ffmpeg does); the frames around them are kept."]


def test_concatenated_segments_whose_times_restart_keep_both_halves(tmp_path):
    path = broken_clips.concatenated_ts(tmp_path, FRAMES)
    frames = list(iter_frames(path))
    assert len(frames) == broken_clips.reference_count(path) == broken_clips.FFMPEG_COUNTS["concatenated.ts"] == FRAMES
    assert [read_index(f.image) for f in frames] == list(range(FRAMES // 2)) * 2
    assert strictly_increasing(frames)
    assert frames[-1].time + frames[-1].duration == pytest.approx(FRAMES / 30, abs=1e-3)
    info = probe(path)
    assert info.frame_count == FRAMES and info.timestamps_repaired > 0
