"""img2vid with the tiny SVD: segments chained from the last frame, a prompt alone, exact timing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rotoscope.api import stylize
from rotoscope.jobs.store import JobDir

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"
OPTIONS = dict(method="img2vid", model="tiny", seed=3, steps=2, process_width=64, process_height=64, video_frames=4, segments=2,
               video_fps=8, device="cpu")


def _frames(job: Path) -> list[np.ndarray]:
    store = JobDir(job)
    return [store.output_image(i) for i in range(len(list(store.frames_dir.glob("*.png"))))]


@pytest.fixture(scope="module")
def from_clip(tiny_model_dir, tmp_path_factory) -> Path:
    """The first frame of the sample clip as the still (img2vid takes one frame of a video)."""
    job = tmp_path_factory.mktemp("iv") / "job"
    result = stylize(SAMPLE, job / "out.gif", job_dir=job, **OPTIONS)
    assert (result.frames_total, result.frames_computed) == (7, 7)  # 4 + (4 − 1): the seed frame is not repeated
    return job


def test_only_the_still_is_extracted_and_timing_is_the_video_fps(from_clip):
    store = JobDir(from_clip)
    assert len(store.timeline()) == 1
    from rotoscope.media.probe import probe

    info = probe(from_clip / "out.gif")
    assert info.frame_count == 7 and info.duration == pytest.approx(7 / 8, abs=0.01)


def test_the_second_segment_is_seeded_by_the_last_frame_of_the_first(from_clip):
    from rotoscope.stylize.video_options import VideoOptions
    from rotoscope.models.options import ModelOptions
    from rotoscope.stylize.factory import build_stylizer
    from rotoscope.stylize.options import StyleOptions

    frames = _frames(from_clip)
    video = VideoOptions(video_frames=4, segments=2, video_fps=8)
    stylizer = build_stylizer(ModelOptions(model="tiny", device="cpu"), StyleOptions(steps=2, width=64, height=64),
                              method="img2vid", video=video)
    again = stylizer.animate_still(frames[3], seed=3 + 1)
    assert all(np.array_equal(a, b) for a, b in zip(again[1:], frames[4:]))


def test_a_killed_job_resumes_from_the_finished_segment(from_clip, tmp_path):
    job = tmp_path / "job"
    shutil.copytree(from_clip, job)
    JobDir(job).clear_outputs([5, 6])
    result = stylize(SAMPLE, job / "resumed.gif", job_dir=job, **OPTIONS)
    assert (result.frames_computed, result.frames_resumed) == (2, 5)
    assert all(np.array_equal(a, b) for a, b in zip(_frames(job), _frames(from_clip)))


def test_a_prompt_alone_makes_the_still_first(tiny_model_dir, tmp_path):
    job = tmp_path / "job"
    result = stylize(None, tmp_path / "out.gif", job_dir=job, prompt="a red cup", **{**OPTIONS, "segments": 1})
    assert result.frames_total == 4
    still = JobDir(job).source_image(0)
    assert still.shape == (64, 64, 3)
    assert JobDir(job).output_image(0).shape == (64, 64, 3)
    # the same command resumes: nothing is made again, not even the still
    again = stylize(None, tmp_path / "out.gif", job_dir=job, prompt="a red cup", **{**OPTIONS, "segments": 1})
    assert again.frames_computed == 0
    assert np.array_equal(JobDir(job).source_image(0), still)


def test_frames_redo_makes_the_whole_clip_again(from_clip, tmp_path):
    """One generation makes every frame (later segments start from earlier ones): a part alone would not fit."""
    job = tmp_path / "job"
    shutil.copytree(from_clip, job)
    result = stylize(SAMPLE, job / "redo.gif", job_dir=job, frames="5", **OPTIONS)
    assert (result.frames_computed, result.frames_resumed) == (7, 0)
    assert all(np.array_equal(a, b) for a, b in zip(_frames(job), _frames(from_clip)))  # same seed, same clip
