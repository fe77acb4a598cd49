"""convert(): the sample clip cut, resampled, scaled and encoded, read back with Pillow / PyAV."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from rotoscope.errors import InputError, OptionError, OutputError
from rotoscope.media.atomic import MARKER
from rotoscope.media.convert import audio_span, convert, default_output
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions, OutputOptions
from tests import clips
from tests.clips import read_index


class Recorder:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, stage, total):
        self.events.append(("start", stage, total))

    def advance(self, count=1):
        self.events.append(("advance", count))

    def finish(self):
        self.events.append(("finish",))


@pytest.fixture(scope="module")
def cup_gif(sample_clip, tmp_path_factory):
    """samples/cup.mp4 --duration 3 --fps 10 --width 320 -o cup.gif (made once: GIF palettes take a while)."""
    out = tmp_path_factory.mktemp("convert") / "cup.gif"
    progress = Recorder()
    result = convert(sample_clip, MediaOptions(duration=3, fps=10, width=320), OutputOptions(outputs=[str(out)]), progress)
    return out, result, progress


def test_sample_to_gif_frames_size_delays_loop(cup_gif):
    out, result, _ = cup_gif
    assert result.outputs == [out]
    assert (result.frames, result.width, result.height) == (30, 320, 240)
    assert result.duration == pytest.approx(3.0)
    images, delays, info = clips.gif_frames(out)
    assert len(images) == 30
    assert images[0].shape[:2] == (240, 320)
    assert delays == [100] * 30  # 10 fps, the last frame included
    assert info.get("loop") == 0


def test_sample_gif_moves(cup_gif):
    images = clips.gif_frames(cup_gif[0])[0]
    diffs = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(images, images[1:])]
    assert max(diffs) > 1  # not one frame repeated


def test_progress_total_matches_the_frames(cup_gif):
    events = cup_gif[2].events
    assert events[0] == ("start", "convert", 30)
    assert sum(e[1] for e in events if e[0] == "advance") == 30
    assert events[-1] == ("finish",)


def test_max_size_chooses_smaller_settings_that_fit(sample_clip, tmp_path):
    media = MediaOptions(duration=1, fps=5, width=160)
    full = tmp_path / "full.gif"
    convert(sample_clip, media, OutputOptions(outputs=[str(full)]))
    budget = int(full.stat().st_size * 0.5)
    fitted = tmp_path / "fitted.gif"
    result = convert(sample_clip, media, OutputOptions(outputs=[str(fitted)], max_size=budget))
    assert fitted.stat().st_size <= budget
    assert result.outputs == [fitted]
    assert len(result.notes) == 1 and result.notes[0].startswith(f"{fitted}: ")
    assert result.notes[0] != f"{fitted}: 256 colours"  # something was lowered, and it says what
    with Image.open(fitted) as image:
        assert image.n_frames >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fitted.gif", "full.gif"]  # no temp files left


def test_max_size_already_met_keeps_full_settings(box_mp4, tmp_path):
    out = tmp_path / "small.gif"
    result = convert(box_mp4, MediaOptions(max_frames=3), OutputOptions(outputs=[str(out)], max_size=10_000_000))
    assert result.notes == [f"{out}: 256 colours"]
    assert len(clips.gif_frames(out)[0]) == 3


def test_max_size_that_cannot_be_met_says_so_and_leaves_nothing(box_mp4, tmp_path):
    out = tmp_path / "tiny.gif"
    with pytest.raises(OutputError, match="does not fit --max-size"):
        convert(box_mp4, MediaOptions(max_frames=5), OutputOptions(outputs=[str(out)], max_size=1024))
    assert list(tmp_path.iterdir()) == []


def test_mp4_output_carries_the_audio_of_the_cut(sample_clip, tmp_path):
    out = tmp_path / "cup.mp4"
    result = convert(sample_clip, MediaOptions(start=2, duration=1.5, fps=10, width=160),
                     OutputOptions(outputs=[str(out)]))
    assert result.frames == 15
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert float(video.duration * video.time_base) == pytest.approx(1.5, abs=0.01)
        assert float(audio.duration * audio.time_base) == pytest.approx(1.5, abs=0.03)
        assert (video.width, video.height) == (160, 120)


def test_several_outputs_from_one_pass(box_mp4, tmp_path):
    outs = [str(tmp_path / "a.gif"), str(tmp_path / "a.mp4"), str(tmp_path / "a.webp"), str(tmp_path / "a.apng"),
            f"{tmp_path / 'frames'}/"]
    result = convert(box_mp4, MediaOptions(every_nth=3), OutputOptions(outputs=outs))
    assert result.frames == 10
    assert [str(p) for p in result.outputs[:4]] == outs[:4]
    for path in outs[:4]:
        assert [read_index(f.image) for f in iter_frames(path)] == list(range(0, 30, 3)), path
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [MARKER] + [f"{i:05d}.png" for i in range(10)]


def test_image_folder_to_mp4_has_no_audio(rgba_pngs, tmp_path):
    out = tmp_path / "seq.mp4"
    result = convert(rgba_pngs, MediaOptions(fps=12), OutputOptions(outputs=[str(out)]))
    assert result.frames == 12 and result.duration == pytest.approx(1.0)
    with av.open(str(out)) as container:
        assert not container.streams.audio
    assert audio_span(rgba_pngs, MediaOptions(), 1.0) is None


def test_rgba_source_to_gif_keeps_transparency(rgba_gif, tmp_path):
    out = tmp_path / "alpha.gif"
    convert(rgba_gif, MediaOptions(), OutputOptions(outputs=[str(out)]))
    images = clips.gif_frames(out)[0]
    assert len(images) == 6
    assert (images[0][:12, :16, 3] == 0).all() and (images[0][12:, :, 3] == 255).all()


def test_bad_outputs_are_refused_before_decoding(box_mp4, tmp_path):
    with pytest.raises(OptionError, match="unknown extension"):
        convert(box_mp4, MediaOptions(), OutputOptions(outputs=[str(tmp_path / "x.mov")]))
    taken = tmp_path / "taken.gif"
    taken.write_bytes(b"mine")
    with pytest.raises(OutputError, match="already exists"):
        convert(box_mp4, MediaOptions(), OutputOptions(outputs=[str(tmp_path / "new.mp4"), str(taken)]))
    assert taken.read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.gif"]


def test_bad_source_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        convert(tmp_path / "nope.mp4", MediaOptions(), OutputOptions(outputs=[str(tmp_path / "x.gif")]))
    assert list(tmp_path.iterdir()) == []


def test_default_output_name():
    assert default_output("clips/my clip.mp4") == "out/my clip.gif"
    assert default_output("frames/", ".mp4") == "out/frames.mp4"
