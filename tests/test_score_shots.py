"""``rotoscope score`` per shot: pairs across a cut are excluded and counted; an output steadier than its
source is flagged "smoothed"."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rotoscope.api import convert, score
from rotoscope.cli import app
from rotoscope.metrics import score_frames
from tests import clips

SCRIPT = clips.cuts_script()


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory):
    return clips.cuts_clip(tmp_path_factory.mktemp("score") / "cuts.mp4")


def test_score_excludes_the_pairs_across_cuts_and_gives_per_shot_figures(cut_clip, tmp_path):
    ten = tmp_path / "ten"
    convert(cut_clip, str(ten) + "/", fps=10)
    result = score(ten, cut_clip, fps=10, clip=False, plot=tmp_path / "plot.png")
    assert len(result.cuts) == 4 and result.cuts == [9, 16, 26, 32]
    assert result.warp_error == pytest.approx(result.source_warp_error)  # the source scored against itself
    assert len(result.shots) == 5 and [s["start_frame"] for s in result.shots] == [0, 9, 16, 26, 32]
    kept = [v for p, v in enumerate(result.pairs) if p + 1 not in result.cuts]
    assert result.warp_error == pytest.approx(float(np.mean(kept)))
    assert max(result.per_frame) < min(result.pairs[c - 1] for c in result.cuts)  # no frame carries a cut's pair
    one = score(ten, cut_clip, fps=10, clip=False, shots="none")
    assert one.cuts == [] and one.warp_error > result.warp_error * 1.5  # what the cut pairs did to the mean
    assert (tmp_path / "plot.png").stat().st_size > 0 and not result.smoothed


def test_the_cli_says_how_many_cuts_were_excluded(cut_clip):
    runner = CliRunner()
    text = runner.invoke(app, ["score", str(cut_clip), "--source", str(cut_clip)])
    assert text.exit_code == 0, text.output
    assert "4 cuts excluded" in text.stdout and "shot 5" in text.stdout
    data = json.loads(runner.invoke(app, ["score", str(cut_clip), "--source", str(cut_clip), "--json"]).stdout)
    assert data["cuts_excluded"] == 4 and data["cuts"] == list(SCRIPT.CUTS) and len(data["shots"]) == 5


def test_an_output_steadier_than_its_source_is_flagged_smoothed():
    clean = SCRIPT.cuts_frames((64, 40), (8,))
    rng = np.random.default_rng(0)
    noisy = [np.clip(f.astype(np.int16) + rng.integers(-12, 13, f.shape), 0, 255).astype(np.uint8) for f in clean]
    smoothed = score_frames(zip(clean, noisy))  # output: the clean frames; source: the same, flickering
    assert smoothed.smoothed and smoothed.warp_error < 0.9 * smoothed.source_warp_error
    assert not score_frames(zip(noisy, noisy)).smoothed
