"""probe(): the facts a user needs before cutting a clip, on clips written here and the sample."""

from __future__ import annotations

import json

import av
import pytest

from rotoscope.errors import InputError
from rotoscope.media.probe import format_has_alpha, probe
from tests import clips


def test_constant_rate_clip(box_mp4):
    info = probe(box_mp4)
    assert info.codec == "h264"
    assert "mp4" in info.container
    assert info.frame_count == 30
    assert info.duration == pytest.approx(3.0)
    assert info.fps == pytest.approx(10.0)
    assert info.variable_frame_rate is False
    assert (info.width, info.height) == (160, 120)
    assert info.rotation == 0
    assert info.pixel_format == "yuv420p"
    assert info.has_alpha is False
    assert info.audio is None


def test_audio_stream_is_described(box_audio_mp4):
    info = probe(box_audio_mp4)
    assert info.audio is not None
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 44100, 1)
    assert info.frame_count == 30 and info.duration == pytest.approx(3.0)


def test_rotated_clip_reports_display_size(rotated_mp4):
    info = probe(rotated_mp4)
    assert info.rotation == 90
    assert (info.width, info.height) == (96, 160)  # as displayed: portrait


def test_vfr_clip_is_flagged(vfr_mp4):
    info = probe(vfr_mp4)
    assert info.variable_frame_rate is True
    assert info.frame_count == 20
    # 19 frames of 40/120 ms plus the last one's 80 ms (the muxer's guess).
    assert info.duration == pytest.approx(1.56)
    assert info.fps == pytest.approx(20 / 1.56, rel=1e-3)


def test_gif_with_transparency(rgba_gif):
    info = probe(rgba_gif)
    assert info.codec == "gif"
    assert info.frame_count == 6
    assert info.duration == pytest.approx(0.6)
    assert info.has_alpha is True
    assert (info.width, info.height) == (64, 48)


def test_image_folder(rgba_pngs):
    info = probe(rgba_pngs)
    assert info.container == "image sequence"
    assert info.frame_count == 12
    assert info.fps == 25.0
    assert info.duration == pytest.approx(12 / 25)
    assert info.has_alpha is True
    assert (info.width, info.height) == (64, 48)


def test_glob(rgba_pngs):
    info = probe(str(rgba_pngs / "frame1*.png"))
    assert info.frame_count == 3


@pytest.mark.parametrize("fixture", ["webp_anim", "apng_anim"])
def test_animated_webp_and_apng(request, fixture):
    info = probe(request.getfixturevalue(fixture))
    assert info.frame_count == 4
    assert info.duration == pytest.approx(0.7)
    assert info.variable_frame_rate is True  # 100/200/100/300 ms
    assert info.has_alpha is True
    assert (info.width, info.height) == (64, 48)


def test_single_png(one_png):
    info = probe(one_png)
    assert info.frame_count == 1
    assert (info.width, info.height) == (64, 48)
    assert info.variable_frame_rate is False
    assert info.duration > 0


def test_sample_clip(sample_clip):
    info = probe(sample_clip)
    assert (info.width, info.height) == (640, 480)
    assert info.frame_count == 217
    assert info.duration == pytest.approx(8.1, abs=0.05)
    assert info.variable_frame_rate is False
    assert info.audio is not None and info.audio.codec == "aac"


def test_to_dict_is_json(box_audio_mp4):
    data = json.loads(json.dumps(probe(box_audio_mp4).to_dict()))
    assert data["frame_count"] == 30
    assert data["audio"] == {"codec": "aac", "sample_rate": 44100, "channels": 1}


def test_probe_reads_the_count_without_decoding_a_cut_file(clip_dir):
    full = clips.moving_box_clip(clip_dir / "probe_fs.mp4", frames=40, faststart=True)
    cut = clips.truncated_mp4(full, clip_dir / "probe_fs_cut.mp4")
    info = probe(cut)
    # Only the packets that are really there are counted (not the 40 the index promises).
    assert 10 <= info.frame_count < 40
    assert info.duration == pytest.approx(info.frame_count / 10)


def test_pixel_formats_with_alpha():
    assert format_has_alpha("rgba") and format_has_alpha("yuva420p") and format_has_alpha("pal8")
    assert not format_has_alpha("yuv420p") and not format_has_alpha("rgb24")
    assert not format_has_alpha(None) and not format_has_alpha("no-such-format")


# -- errors ---------------------------------------------------------------------


def test_missing(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        probe(tmp_path / "missing.mp4")


def test_zero_bytes(tmp_path):
    (tmp_path / "zero.mp4").write_bytes(b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\)"):
        probe(tmp_path / "zero.mp4")


def test_text_named_mp4(tmp_path):
    (tmp_path / "notes.mp4").write_text("hello\n" * 50)
    with pytest.raises(InputError, match="is not a video, GIF or image that can be read"):
        probe(tmp_path / "notes.mp4")


def test_cut_without_faststart(box_mp4, tmp_path):
    cut = clips.truncated_mp4(box_mp4, tmp_path / "cut.mp4")
    with pytest.raises(InputError, match="cut.mp4 is not a video"):
        probe(cut)


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="holds no images"):
        probe(tmp_path)


def test_audio_only(tmp_path):
    path = tmp_path / "tone.m4a"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "mono"
        clips._mux_tone(container, stream, 0.3)
    with pytest.raises(InputError, match="has no video stream"):
        probe(path)


def test_broken_webp(tmp_path):
    (tmp_path / "x.webp").write_bytes(b"RIFF0000WEBPjunk")
    with pytest.raises(InputError, match="is not an image that can be read") as info:
        probe(tmp_path / "x.webp")
    assert isinstance(info.value.__cause__, OSError)  # what Pillow said, for --debug
