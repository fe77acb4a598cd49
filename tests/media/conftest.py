"""Clips for the media tests, written once per session by PyAV / Pillow (tests/clips.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import clips

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media_clips")


@pytest.fixture(scope="session")
def box_mp4(clip_dir) -> Path:
    """30 frames at 10 fps, 160×120, no audio: 3.0 s."""
    return clips.moving_box_clip(clip_dir / "box.mp4")


@pytest.fixture(scope="session")
def box_audio_mp4(clip_dir) -> Path:
    """box_mp4 with a 440 Hz mono AAC tone as long as the video."""
    return clips.moving_box_clip(clip_dir / "box_audio.mp4", audio=True)


@pytest.fixture(scope="session")
def rotated_mp4(clip_dir) -> Path:
    """Stored 160×96 with display rotation 90: shows as 96×160 portrait."""
    return clips.rotated_clip(clip_dir / "rotated.mp4", rotation=90)


@pytest.fixture(scope="session")
def vfr_mp4(clip_dir) -> Path:
    return clips.vfr_clip(clip_dir / "vfr.mp4")


@pytest.fixture(scope="session")
def rgba_gif(clip_dir) -> Path:
    return clips.rgba_gif(clip_dir / "alpha.gif")


@pytest.fixture(scope="session")
def rgba_pngs(clip_dir) -> Path:
    return clips.rgba_png_sequence(clip_dir / "rgba_frames")


@pytest.fixture(scope="session")
def webp_anim(clip_dir) -> Path:
    return clips.webp_anim(clip_dir / "anim.webp")


@pytest.fixture(scope="session")
def apng_anim(clip_dir) -> Path:
    return clips.apng(clip_dir / "anim.png")


@pytest.fixture(scope="session")
def one_png(clip_dir) -> Path:
    return clips.one_frame_png(clip_dir / "still.png")


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    assert SAMPLE.exists(), f"sample clip missing: {SAMPLE}"
    return SAMPLE
