"""Fixtures of the method tests: a 20-frame clip of the sample and gif2gif's run on it (shared by the keyframe tests)."""

from __future__ import annotations

import pytest

from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from tests.methods.keyframe_helpers import SAMPLE, run_method


@pytest.fixture(scope="session")
def clip20():
    return list(iter_frames(SAMPLE, MediaOptions(fps=10, width=64, max_frames=20)))


@pytest.fixture(scope="session")
def gif2gif(tiny_model_dir, clip20):
    """gif2gif on clip20 with the counted tiny stylizer: (frames, counter)."""
    return run_method("gif2gif", clip20)
