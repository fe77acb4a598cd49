"""`rotoscope keys` and the keyframe methods from the command line (tiny model, generated clips)."""

from __future__ import annotations

import json

from tests.methods.test_keys import CUT, write_cut_clip


def test_keys_auto_prints_the_cut_as_json_and_writes_a_sheet(cli, tmp_path):
    folder = write_cut_clip(tmp_path / "cut")
    sheet = tmp_path / "keys.png"
    result = cli("keys", folder, "--keys", "auto", "--key-min-gap", "30", "--sheet", sheet, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["keys"] == [0, CUT] and data["cuts"] == [CUT] and sheet.exists()
    assert [(s["start_frame"], s["end_frame"]) for s in data["shots"]] == [(0, CUT - 1), (CUT, 39)]
    every = cli("keys", folder, "--keys", "every:15", "--max-frames", "31", "--sheet", sheet, "--overwrite")
    assert every.exit_code == 0 and "4 keys: 0, 15, 23, 30" in every.stdout  # a shot's first frame is a key
    assert "shot 2: frames 23-30" in every.stdout
    one = cli("keys", folder, "--keys", "every:15", "--max-frames", "31", "--shots", "none", "--sheet", sheet, "--overwrite")
    assert one.exit_code == 0 and "3 keys: 0, 15, 30" in one.stdout


def test_run_keyframes_with_tiny_model_and_clear_errors(cli, sample_clip, tiny_model_dir, tmp_path, monkeypatch):
    out = tmp_path / "kf.gif"
    result = cli("run", sample_clip, "--method", "keyframes", "--keys", "every:4", "--model", "tiny", "-p", "ink",
                 "--seed", "3", "--steps", "4", "--strength", "0.5", "--max-frames", "8", "--width", "64",
                 "--job", tmp_path / "job", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.exists() and "8 frames stylised" in result.stdout
    spec = json.loads((tmp_path / "job" / "job.json").read_text())["spec"]
    assert spec["method"] == "keyframes" and spec["keys"]["keys"] == "every:4"
    wrong = cli("run", sample_clip, "--keys", "auto", "--model", "tiny", "-o", tmp_path / "x.gif")
    assert wrong.exit_code == 2 and "--keys belongs to --method keyframes or ebsynth" in wrong.stderr
    monkeypatch.setenv("ROTOSCOPE_ANNOTATORS", str(tmp_path / "none"))
    depth = cli("run", sample_clip, "--control", "depth", "--model", "tiny", "-o", tmp_path / "y.gif")
    assert depth.exit_code == 2 and "--control depth needs its annotator model" in depth.stderr
    bad = cli("run", sample_clip, "--control", "canny:5", "--model", "tiny", "-o", tmp_path / "z.gif")
    assert bad.exit_code == 2 and "weight 5.0 must be between 0 and 2" in bad.stderr


def test_preview_shows_the_control_image_beside_the_tiles(cli, sample_clip, tiny_model_dir, tmp_path):
    from PIL import Image

    grid = tmp_path / "p.png"
    result = cli("preview", sample_clip, "--model", "tiny", "-p", "ink", "--seeds", "2", "--steps", "4", "--strength", "0.5",
                 "--width", "64", "--control", "canny", "-o", grid)
    assert result.exit_code == 0, result.output
    with Image.open(grid) as picture:
        assert picture.width == 3 * 64  # control image + two seeds
