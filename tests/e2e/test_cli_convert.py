"""`rotoscope convert` end to end, in-process: the documented example on the sample clip, several
outputs from one run, --json, the default output and --max-size."""

from __future__ import annotations

import json

import av
import pytest

from rotoscope.media.decode import iter_frames
from tests import clips
from tests.clips import read_index


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def flat(text: str) -> str:
    return " ".join(text.split())


def test_documented_example(cli, sample_clip, tmp_path):
    """rotoscope convert samples/cup.mp4 --duration 3 --fps 10 --width 320 -o X.gif"""
    out = tmp_path / "cup.gif"
    result = ok(cli("convert", sample_clip, "--duration", "3", "--fps", "10", "--width", "320", "-o", out))
    images, delays, info = clips.gif_frames(out)
    assert len(images) == 30
    assert images[0].shape[:2] == (240, 320)  # 320 wide, aspect kept
    assert delays == [100] * 30
    assert info.get("loop") == 0
    text = flat(result.stdout)
    assert "30 frames, 320x240, 3.00 s" in text and "cup.gif" in text


def test_several_outputs_in_one_run(cli, sample_clip, tmp_path):
    names = ["cup.gif", "cup.mp4", "cup.webp", "cup.apng"]
    args = ["convert", sample_clip, "--start", "1", "--duration", "1", "--fps", "5", "--width", "160"]
    for name in names:
        args += ["-o", tmp_path / name]
    args += ["-o", f"{tmp_path / 'frames'}/"]
    result = ok(cli(*args))
    for name in names:
        frames = list(iter_frames(tmp_path / name))
        assert len(frames) == 5, name
        assert frames[0].image.shape[:2] == (120, 160), name
        assert sum(f.duration for f in frames) == pytest.approx(1.0, abs=0.01), name
        assert name in result.stdout
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [".rotoscope-frames"] + [f"{i:05d}.png" for i in range(5)]
    with av.open(str(tmp_path / "cup.mp4")) as container:  # the sample has sound: the MP4 keeps its cut
        audio = container.streams.audio[0]
        assert float(audio.duration * audio.time_base) == pytest.approx(1.0, abs=0.03)
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name]


def test_json_output(cli, box_clip, tmp_path):
    # A path longer than a terminal line: JSON must not be wrapped by the console.
    out = tmp_path / ("a long folder name " * 4).strip() / "box output with spaces.webp"
    result = ok(cli("convert", box_clip, "--every-nth", "2", "--json", "-o", out))
    data = json.loads(result.stdout)
    assert data["outputs"] == [str(out)]
    assert (data["frames"], data["width"], data["height"]) == (12, 160, 120)
    assert data["duration"] == pytest.approx(2.4)
    assert data["notes"] == []
    assert [read_index(f.image) for f in iter_frames(out)] == list(range(0, 24, 2))


def test_json_reports_max_size_choice(cli, box_clip, tmp_path):
    full = tmp_path / "full.gif"
    ok(cli("convert", box_clip, "-o", full))
    budget = full.stat().st_size // 2
    out = tmp_path / "fitted.gif"
    data = json.loads(ok(cli("convert", box_clip, "--max-size", str(budget), "--json", "-o", out)).stdout)
    assert out.stat().st_size <= budget
    assert len(data["notes"]) == 1 and data["notes"][0].startswith(str(out))


def test_default_output_goes_to_out_folder(cli, box_clip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok(cli("convert", box_clip, "--max-frames", "2"))
    assert len(clips.gif_frames(tmp_path / "out" / "box.gif")[0]) == 2


def test_trim_resample_scale_flags(cli, box_clip, tmp_path):
    out = tmp_path / "cut.gif"
    ok(cli("convert", box_clip, "--start", "0.5", "--duration", "1", "--fps", "5", "--height", "60", "-o", out))
    images, delays, _ = clips.gif_frames(out)
    assert [read_index(a) for a in images] == [5, 7, 9, 11, 13]
    assert delays == [200] * 5
    assert images[0].shape[:2] == (60, 80)
