"""Clips and an in-process CLI runner for the end-to-end tests (tests/clips.py writes the clips)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import clips

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"


@pytest.fixture(scope="session")
def cli_clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_clips")


@pytest.fixture(scope="session")
def box_clip(cli_clips) -> Path:
    """24 frames at 10 fps: a 2.4 s clip, 160×120."""
    return clips.moving_box_clip(cli_clips / "box.mp4", frames=24)


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    assert SAMPLE.exists(), f"sample clip missing: {SAMPLE}"
    return SAMPLE


@pytest.fixture()
def cli():
    """Invoke the rotoscope app in-process: cli("convert", path, "-o", out) → click Result."""
    from rotoscope.cli import app

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args])

    return invoke
