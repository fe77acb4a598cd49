"""animatediff with the tiny SD + tiny motion adapter: context windows as job-store units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rotoscope.api import stylize
from rotoscope.jobs.store import JobDir

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"
# 20 frames at 64×48, windows of 8 with 2 anchors: new frames 0–7, 8–13, 14–19
OPTIONS = dict(method="animatediff", model="tiny", prompt="ink drawing", seed=5, steps=4, strength=0.5,
               max_frames=20, width=64, context_length=8, context_overlap=2, device="cpu")


def _frames(job: Path) -> list[np.ndarray]:
    store = JobDir(job)
    return [store.output_image(i) for i in range(len(store.timeline()))]


@pytest.fixture(scope="module")
def whole(tiny_model_dir, tmp_path_factory) -> Path:
    job = tmp_path_factory.mktemp("ad") / "job"
    result = stylize(SAMPLE, job / "out.gif", job_dir=job, **OPTIONS)
    assert (result.frames_total, result.frames_computed) == (20, 20)
    return job


def test_every_frame_is_stylised_at_the_processing_size(whole):
    frames = _frames(whole)
    assert all(f.shape == (48, 64, 3) for f in frames)
    sources = [JobDir(whole).source_image(i) for i in range(20)]
    assert not np.array_equal(frames[3], sources[3][..., :3])  # the model changed it
    assert not np.array_equal(frames[3], frames[4])


def test_a_killed_job_resumes_at_the_window_and_gives_the_same_frames(whole, tmp_path):
    """A kill loses at most the window in progress; the next window's anchors come from disk, bit-exact."""
    import shutil

    job = tmp_path / "job"
    shutil.copytree(whole, job)
    store = JobDir(job)
    store.clear_outputs(list(range(14, 20)))  # killed during the last window
    expected = _frames(whole)
    result = stylize(SAMPLE, job / "resumed.gif", job_dir=job, **OPTIONS)
    assert (result.frames_computed, result.frames_resumed) == (6, 14)
    assert all(np.array_equal(a, b) for a, b in zip(_frames(job), expected))


def test_redoing_frames_inside_a_finished_clip_anchors_both_sides(whole, tmp_path):
    import shutil

    job = tmp_path / "job"
    shutil.copytree(whole, job)
    before = _frames(job)
    result = stylize(SAMPLE, job / "redo.gif", job_dir=job, frames="9-11", **{**OPTIONS, "seed": 6})
    assert result.frames_computed == 3
    after = _frames(job)
    assert all(np.array_equal(after[i], before[i]) for i in range(20) if i not in (9, 10, 11))
    assert not np.array_equal(after[10], before[10])


def test_a_window_longer_than_the_clip_is_one_call(tiny_model_dir, tmp_path):
    result = stylize(SAMPLE, tmp_path / "out.gif", job_dir=tmp_path / "job",
                     **{**OPTIONS, "max_frames": 5, "context_length": 16})
    assert result.frames_computed == 5
