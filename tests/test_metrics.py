"""Temporal-consistency metrics and `rotoscope score`: warp error, flicker, SSIM/PSNR per frame, CLIP, the plot.

Real frames (the sample clip, generated pictures), real OpenCV flow, the CLI in-process.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.core.flow import motion
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from rotoscope.metrics import (OUTPUT_COLOUR, Score, clip_consistency, plot_score, plot_x, score_clip, score_frames,
                               warp_error)
from tests.clips import textured

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "cup.mp4"
runner = CliRunner()


@pytest.fixture(scope="module")
def cup() -> list[np.ndarray]:
    """24 frames of the sample at 10 fps, 256×192 (the issue's setting)."""
    return [f.image for f in iter_frames(SAMPLE, MediaOptions(fps=10, width=256, max_frames=24))]


@pytest.fixture(scope="module")
def cup_folder(tmp_path_factory, cup) -> Path:
    folder = tmp_path_factory.mktemp("cup_frames")
    for i, image in enumerate(cup):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return folder


def score_cli(*args: str) -> dict:
    result = runner.invoke(app, ["score", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- warp error ------------------------------------------------------------------------------------


def test_warp_error_is_zero_for_a_perfectly_warped_output():
    a = textured()
    backward, occluded = motion(a, a)
    assert warp_error(a, a, backward, occluded) == 0.0
    assert warp_error(a, np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8), backward, occluded) == pytest.approx(10, abs=0.6)


# -- score ------------------------------------------------------------------------------------------


def test_clip_scored_against_itself_has_the_source_warp_error_and_ssim_1(cup_folder):
    data = score_cli(str(cup_folder), "--source", str(cup_folder))
    assert data["frames"] == 24
    assert data["warp_error"] == pytest.approx(data["source_warp_error"])
    assert data["added_flicker"] == 0
    assert 0.8 < data["source_warp_error"] < 2.0  # the issue measured 1.35 on these frames
    assert data["ssim"] == 1.0 and all(v == 1.0 for v in data["per_frame"]["ssim"])
    assert data["psnr"] == 100.0 and all(v is None for v in data["per_frame"]["psnr"])
    assert len(data["per_pair"]["warp_error"]) == 23 and len(data["per_frame"]["warp_error"]) == 24
    assert data["clip_consistency"] is None and data["clip_note"].startswith("not computed")


def test_video_output_pairs_with_its_source_by_time(cup_folder):
    """An output at 10 fps scored against the full-rate video with --fps 10: frames meet their source frames."""
    direct = score_clip(cup_folder, SAMPLE, source_media=MediaOptions(fps=10, width=256, max_frames=24), clip=False)
    assert direct.frames == 24
    assert direct.ssim > 0.97  # H.264 decode vs the PNGs made from the same decode: same pictures


def test_noise_frame_peaks_in_the_per_frame_plot(tmp_path, cup, cup_folder):
    bad = 11
    folder = tmp_path / "flicker"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i, image in enumerate(cup):
        if i == bad:
            image = rng.integers(0, 255, image.shape, dtype=np.uint8)
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    plot = tmp_path / "plot.png"
    data = score_cli(str(folder), "--source", str(cup_folder), "--plot", str(plot))
    per_frame = data["per_frame"]["warp_error"]
    assert int(np.argmax(per_frame)) == bad
    assert data["per_frame"]["ssim"][bad] < 0.1 < min(v for i, v in enumerate(data["per_frame"]["ssim"]) if i != bad)
    assert data["warp_error"] > 5 * data["source_warp_error"]
    # the drawn curve's highest red point sits over that frame
    image = np.asarray(Image.open(plot).convert("RGB")).astype(int)
    red = (np.abs(image - np.array(OUTPUT_COLOUR)).sum(axis=2) < 30)
    ys, xs = np.nonzero(red)
    top = ys.min()
    x_peak = xs[ys == top].mean()
    assert min(range(24), key=lambda i: abs(plot_x(i, 24) - x_peak)) == bad


def test_table_output_names_the_worst_frame_and_clip_status(tmp_path, cup_folder):
    result = runner.invoke(app, ["score", str(cup_folder), "--source", str(cup_folder)])
    assert result.exit_code == 0, result.output
    for words in ("warp error", "source warp error", "added flicker", "SSIM to source", "CLIP consistency", "not computed", "worst frame"):
        assert words in result.stdout


def test_score_refuses_an_unknown_flow_in_one_line(cup_folder):
    result = runner.invoke(app, ["score", str(cup_folder), "--source", str(cup_folder), "--flow", "raft"])
    assert result.exit_code == 2
    assert "--flow 'raft' is not known" in result.output


def test_per_frame_series_and_plot_of_a_short_clip(tmp_path):
    score = Score(2, "dis", 3.0, 1.0, 0.5, 20.0, pairs=[3.0], source_pairs=[1.0], ssim_frames=[0.5, 0.5],
                  psnr_frames=[20.0, 20.0])
    assert score.per_frame == [3.0, 3.0] and score.added_flicker == 2.0
    plot_score(score, tmp_path / "sub" / "p.png")
    assert Image.open(tmp_path / "sub" / "p.png").size == (720, 300)


# -- CLIP frame consistency, with a locally built (random) CLIP --------------------------------------


def test_clip_consistency_with_local_weights(tmp_path, cup):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    folder = tmp_path / "clip"
    config = CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, vocab_size=99),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=32, patch_size=8),
        projection_dim=16,
    )
    import torch

    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    same, note = clip_consistency([cup[0]] * 3, str(folder))
    assert same == pytest.approx(1.0, abs=1e-5) and str(folder) in note
    varied, _ = clip_consistency([cup[0], np.ascontiguousarray(cup[0][::-1]), cup[0]], str(folder))
    assert varied < same
    scored = score_frames(((f, f) for f in cup[:3]), clip_frames=lambda frames: clip_consistency(frames, str(folder)))
    assert scored.clip is not None and -1 <= scored.clip <= 1


def test_gif_output_meets_its_source_frames_by_time(tmp_path):
    """The README example: a GIF cut and resampled from the video, scored with the same --duration/--fps."""
    gif = tmp_path / "cup.gif"
    made = runner.invoke(app, ["convert", str(SAMPLE), "--duration", "1", "--fps", "10", "--width", "128", "-o", str(gif)])
    assert made.exit_code == 0, made.output
    data = score_cli(str(gif), "--source", str(SAMPLE), "--duration", "1", "--fps", "10")
    assert data["frames"] == 10
    assert min(data["per_frame"]["ssim"]) > 0.8  # each GIF frame against the source frame shown at its time
    shifted = score_cli(str(gif), "--source", str(SAMPLE), "--start", "0.5", "--duration", "1", "--fps", "10")
    assert shifted["ssim"] < data["ssim"]
