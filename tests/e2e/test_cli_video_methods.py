"""`rotoscope run --method animatediff | img2vid` and `--interpolate`, through the CLI in-process."""

from __future__ import annotations

import json

import pytest

from rotoscope.media.probe import probe


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


def test_animatediff_runs_from_the_cli(cli, sample_clip, tiny_model_dir, tmp_path):
    out = tmp_path / "ad.gif"
    result = cli("run", sample_clip, "--method", "animatediff", "--model", "tiny", "-p", "ink drawing", "--seed", 4,
                 "--steps", 4, "--strength", 0.5, "--max-frames", 12, "--width", 64, "--context-length", 8,
                 "--context-overlap", 2, "--device", "cpu", "--job", tmp_path / "job", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["frames"] == 12 and "Method: animatediff" in data["infotext"]
    info = probe(out)
    assert (info.frame_count, info.width, info.height) == (12, 64, 48)


def test_img2vid_from_a_prompt_alone(cli, tiny_model_dir, tmp_path):
    out = tmp_path / "svd.gif"
    result = cli("run", "--method", "img2vid", "-p", "a red cup on a table", "--model", "tiny", "--seed", 2,
                 "--steps", 2, "--process-width", 64, "--process-height", 64, "--video-frames", 4, "--video-fps", 8, "--segments", 2,
                 "--device", "cpu", "--job", tmp_path / "job", "-o", out)
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert (info.frame_count, info.width, info.height) == (7, 64, 64)
    assert info.duration == pytest.approx(7 / 8, abs=0.01)


def test_interpolate_2_doubles_the_fps_and_keeps_the_duration(cli, box_clip, tmp_path):
    """A 10 fps output becomes 20 fps with the same duration (GIF and MP4)."""
    source = probe(box_clip)
    assert source.fps == pytest.approx(10)
    gif, mp4 = tmp_path / "x2.gif", tmp_path / "x2.mp4"
    result = cli("run", box_clip, "--model", "classic:cartoon", "--seed", 1, "--interpolate", 2,
                 "--job", tmp_path / "job", "-o", gif, "-o", mp4)
    assert result.exit_code == 0, result.output
    for path in (gif, mp4):
        info = probe(path)
        assert info.fps == pytest.approx(20, abs=0.01), path
        assert info.frame_count == 2 * source.frame_count
        assert info.duration == pytest.approx(source.duration, abs=0.01), path


def test_missing_motion_adapter_offline_is_one_line(cli, sample_clip, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    result = cli("run", sample_clip, "--method", "animatediff", "--model", "tiny", "--motion-adapter",
                 "guoyww/animatediff-motion-adapter-v1-5-2", "--seed", 1, "--job", tmp_path / "job", "-o", tmp_path / "o.gif")
    line = _one_line_error(result)
    assert "motion adapter 'guoyww/animatediff-motion-adapter-v1-5-2' cannot be loaded" in line and "HF_HUB_OFFLINE" in line


def test_missing_svd_offline_is_one_line(cli, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    still = tmp_path / "still.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (200, 40, 40)).save(still)
    result = cli("run", still, "--method", "img2vid", "--seed", 1, "--job", tmp_path / "job", "-o", tmp_path / "o.gif")
    line = _one_line_error(result)
    assert "stabilityai/stable-video-diffusion-img2vid-xt" in line and "HF_HUB_OFFLINE" in line


@pytest.mark.parametrize("args, words", [
    (["--context-length", "8"], "--context-length belongs to --method animatediff"),
    (["--method", "img2vid", "--context-overlap", "2"], "--context-overlap belongs to --method animatediff"),
    (["--method", "animatediff", "--segments", "2"], "--segments belongs to --method img2vid"),
    (["--method", "animatediff", "--model", "classic:cartoon"], "needs a diffusion model"),
    (["--interpolate", "9"], "--interpolate 9 must be between 1 and 8"),
])
def test_bad_video_options_are_refused(cli, sample_clip, tmp_path, args, words):
    result = cli("run", sample_clip, *args, "--seed", 1, "--job", tmp_path / "job", "-o", tmp_path / "o.gif")
    assert words in _one_line_error(result)


def test_only_img2vid_starts_without_a_source(cli, tmp_path):
    assert "only --method img2vid starts from a prompt" in _one_line_error(cli("run", "-p", "x", "-o", tmp_path / "o.gif"))
    assert "needs a still" in _one_line_error(cli("run", "--method", "img2vid", "-o", tmp_path / "o.gif"))
