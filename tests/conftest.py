"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The tiny pipeline built once (fixed seed, trained VAE) and saved as a diffusers folder.

    Uses ``$ROTOSCOPE_CACHE`` when set; otherwise points it at a session tmp dir, so every
    ``ModelOptions(model="tiny")`` in the session loads this same folder.
    """
    if not os.environ.get("ROTOSCOPE_CACHE"):
        os.environ["ROTOSCOPE_CACHE"] = str(tmp_path_factory.mktemp("rotoscope_cache"))
    from rotoscope.models.tiny import ensure_tiny_folder

    return ensure_tiny_folder()


# The suite changes no tracked file (tests/tracked.py checks at the end of every session).
from tests.tracked import pytest_sessionfinish, pytest_sessionstart  # noqa: E402,F401
