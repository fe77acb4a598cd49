"""Writers: MP4 (+ the source's audio span), WebP, APNG, PNG folder (and GIF through the same
interface) — read back with PyAV / Pillow. Files appear only when complete; nothing a user made
is overwritten without overwrite=True."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from rotoscope.core.frames import Frame
from rotoscope.errors import OptionError, OutputError
from rotoscope.media.decode import iter_frames
from rotoscope.media.atomic import MARKER
from rotoscope.media.encode import AudioSpan, Outputs, open_writer
from rotoscope.media.options import MediaOptions, OutputOptions
from tests import clips
from tests.clips import read_index

DURATIONS = (0.1, 0.2, 0.05, 0.3)  # uneven on purpose, the last one longest


def timed_frames(durations=DURATIONS, size=(64, 48), alpha=True) -> list[Frame]:
    frames, t = [], 0.0
    for i, d in enumerate(durations):
        image = clips.rgba_picture(i, size) if alpha else clips.picture(i, size)
        frames.append(Frame(index=i, time=round(t, 6), duration=d, image=image))
        t += d
    return frames


def write(path, frames, options=None, **kwargs) -> Path:
    writer = open_writer(path, options or OutputOptions(), **kwargs)
    for frame in frames:
        writer.write(frame)
    writer.close()
    return Path(path)


def pillow_durations(path) -> tuple[list[int], dict]:
    out = []
    with Image.open(path) as image:
        info = dict(image.info)
        for i in range(image.n_frames):
            image.seek(i)
            image.load()
            out.append(round(image.info["duration"]))
    return out, info


def stream_seconds(path, kind: str) -> float:
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return float(stream.duration * stream.time_base)


def leftovers(folder: Path) -> list[str]:
    """What is in ``folder``, less the marker file of a PNG folder rotoscope wrote."""
    return sorted(p.name for p in folder.iterdir() if p.name != MARKER)


# -- MP4 ------------------------------------------------------------------------------


def test_mp4_with_audio_span_has_audio_as_long_as_the_video(box_audio_mp4, tmp_path):
    out = tmp_path / "with_audio.mp4"
    span = AudioSpan(box_audio_mp4, 0.0, 3.0)
    write(out, iter_frames(box_audio_mp4), audio=span)
    video, audio = stream_seconds(out, "video"), stream_seconds(out, "audio")
    assert video == pytest.approx(3.0, abs=0.01)
    assert audio == pytest.approx(video, abs=0.03)  # within about one AAC frame
    with av.open(str(out)) as container:
        samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    assert np.sqrt(np.mean(samples**2)) > 0.1  # the tone, not silence


def test_mp4_audio_is_cut_to_the_trimmed_span(box_audio_mp4, tmp_path):
    out = tmp_path / "trimmed.mp4"
    media = MediaOptions(start=1.0, duration=1.5)
    write(out, iter_frames(box_audio_mp4, media), audio=AudioSpan(box_audio_mp4, 1.0, 2.5))
    assert stream_seconds(out, "video") == pytest.approx(1.5, abs=0.01)
    assert stream_seconds(out, "audio") == pytest.approx(1.5, abs=0.03)
    assert [read_index(a) for a in clips.decode_all(out)] == list(range(10, 25))


def test_mp4_audio_span_from_a_silent_source_adds_no_audio(box_mp4, tmp_path):
    out = write(tmp_path / "silent.mp4", iter_frames(box_mp4, MediaOptions(max_frames=3)),
                audio=AudioSpan(box_mp4, 0.0, 0.3))
    with av.open(str(out)) as container:
        assert not container.streams.audio


def test_mp4_keeps_variable_frame_timing(vfr_mp4, tmp_path):
    out = write(tmp_path / "vfr_out.mp4", iter_frames(vfr_mp4))
    starts = [s for s, _ in clips.video_timing(out)]
    assert starts == pytest.approx([s for s, _ in clips.vfr_times()], abs=0.002)
    assert [read_index(a) for a in clips.decode_all(out)] == list(range(20))


def test_mp4_constant_rate_and_content(box_mp4, tmp_path):
    out = write(tmp_path / "cfr.mp4", iter_frames(box_mp4))
    timing = clips.video_timing(out)
    assert len(timing) == 30
    assert [s for s, _ in timing] == pytest.approx([i / 10 for i in range(30)], abs=1e-3)
    assert [d for _, d in timing] == pytest.approx([0.1] * 30, abs=1e-3)
    decoded = clips.decode_all(out)
    assert [read_index(a) for a in decoded] == list(range(30))
    assert decoded[0].shape == (120, 160, 3)


def test_mp4_odd_size_is_padded_to_even(tmp_path):
    frames = [Frame(i, i / 10, 0.1, clips.picture(i, (81, 61))) for i in range(3)]
    out = write(tmp_path / "odd.mp4", frames)
    decoded = clips.decode_all(out)
    assert decoded[0].shape == (62, 82, 3)  # yuv420p needs even sides
    assert [read_index(a[:61, :81]) for a in decoded] == [0, 1, 2]


def test_mp4_composites_alpha_over_white_and_keeps_the_comment(tmp_path):
    out = write(tmp_path / "alpha.mp4", timed_frames(), comment="Steps: 20, Seed: 7")
    first = clips.decode_all(out)[0]
    assert (first[2:10, 2:14] > 235).all()  # the transparent corner became white
    with av.open(str(out)) as container:
        assert container.metadata.get("comment") == "Steps: 20, Seed: 7"


# -- WebP / APNG ---------------------------------------------------------------------------


def test_webp_per_frame_durations_exact_including_the_last(tmp_path):
    out = write(tmp_path / "anim.webp", timed_frames())
    durations, info = pillow_durations(out)
    assert durations == [100, 200, 50, 300]
    assert info.get("loop") == 0


def test_webp_keeps_alpha_and_content(tmp_path):
    out = write(tmp_path / "alpha.webp", timed_frames())
    frames = list(iter_frames(out))
    assert [read_index(f.image) for f in frames] == [0, 1, 2, 3]
    assert frames[0].has_alpha
    assert (frames[0].image[:12, :16, 3] == 0).all() and (frames[0].image[12:, :, 3] == 255).all()


def test_webp_loop_count(tmp_path):
    out = write(tmp_path / "loop.webp", timed_frames(), OutputOptions(loop=3))
    assert pillow_durations(out)[1].get("loop") == 3


@pytest.mark.parametrize("suffix", [".apng", ".png"])
def test_apng_per_frame_durations_exact_including_the_last(tmp_path, suffix):
    # FFmpeg's apng muxer alone would give the last frame the previous delay (50 ms).
    durations, info = pillow_durations(write(tmp_path / f"anim{suffix}", timed_frames()))
    assert durations == [100, 200, 50, 300]
    assert info.get("loop") == 0


def test_apng_loop_count_and_decode_back(tmp_path):
    out = write(tmp_path / "loop.apng", timed_frames(), OutputOptions(loop=3))
    assert pillow_durations(out)[1].get("loop") == 3
    frames = list(iter_frames(out))  # our own decoder (FFmpeg's apng demuxer) agrees
    assert [f.duration for f in frames] == pytest.approx(list(DURATIONS))


def test_apng_is_lossless_with_alpha(tmp_path):
    frames = timed_frames()
    out = write(tmp_path / "lossless.apng", frames)
    with Image.open(out) as image:
        for i, frame in enumerate(frames):
            image.seek(i)
            assert (np.asarray(image.convert("RGBA")) == frame.image).all()


def test_apng_from_rgb_frames_is_opaque(tmp_path):
    out = write(tmp_path / "rgb.apng", timed_frames(alpha=False))
    with Image.open(out) as image:
        assert (np.asarray(image.convert("RGBA"))[..., 3] == 255).all()


# -- PNG folder ----------------------------------------------------------------------------------


def test_png_folder_names_frames_00000_and_up(tmp_path):
    frames = timed_frames()
    write(f"{tmp_path / 'frames'}/", frames, comment="Steps: 20")
    folder = tmp_path / "frames"
    assert leftovers(folder) == ["00000.png", "00001.png", "00002.png", "00003.png"]
    for frame in frames:
        with Image.open(folder / f"{frame.index:05d}.png") as image:
            assert (np.asarray(image) == frame.image).all()  # lossless, alpha kept
            assert image.info.get("parameters") == "Steps: 20"


def test_existing_folder_is_a_png_folder_output(tmp_path):
    write(tmp_path, [Frame(12, 1.2, 0.1, clips.picture(12, (32, 24)))])
    assert leftovers(tmp_path) == ["00012.png"]  # named by the frame's index


def test_png_folder_with_frames_needs_overwrite(tmp_path):
    folder = tmp_path / "frames"
    write(f"{folder}/", timed_frames()[:2])
    with pytest.raises(OutputError, match="already holds PNG frames; pass --overwrite"):
        open_writer(f"{folder}/", OutputOptions())
    write(f"{folder}/", timed_frames()[2:], OutputOptions(overwrite=True))
    assert leftovers(folder) == ["00002.png", "00003.png"]  # replaced whole: no frame of the old clip is left


# -- files appear only when complete --------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.gif", "out.mp4", "out.webp", "out.apng"])
def test_nothing_at_the_target_after_an_error_mid_write(tmp_path, name):
    target = tmp_path / name
    with pytest.raises(RuntimeError, match="boom"):
        with Outputs([open_writer(target, OutputOptions())]) as outputs:
            for i, frame in enumerate(timed_frames()):
                outputs.write(frame)
                if i == 1:
                    assert not target.exists()  # not before close()
                    raise RuntimeError("boom")
    assert leftovers(tmp_path) == []  # neither the target nor a temp file


def test_all_outputs_of_a_pass_vanish_together_on_error(tmp_path):
    names = ["a.gif", "a.mp4", "a.webp", "a.apng"]
    with pytest.raises(RuntimeError):
        with Outputs([open_writer(tmp_path / n, OutputOptions()) for n in names]) as outputs:
            for frame in timed_frames()[:2]:
                outputs.write(frame)
            raise RuntimeError("stylizer crashed")
    assert leftovers(tmp_path) == []


def test_png_folder_appears_whole_or_not_at_all(tmp_path):
    folder = tmp_path / "frames"
    with pytest.raises(RuntimeError):
        with Outputs([open_writer(f"{folder}/", OutputOptions())]) as outputs:
            for frame in timed_frames()[:2]:
                outputs.write(frame)
            assert leftovers(tmp_path) == [".frames.part"]  # frames go to a temp folder first
            raise RuntimeError("stylizer crashed")
    assert leftovers(tmp_path) == []  # neither the folder nor its temp


def test_one_pass_writes_every_format(box_mp4, tmp_path):
    names = ["x.gif", "x.mp4", "x.webp", "x.apng", "frames/"]
    with Outputs([open_writer(f"{tmp_path}/{n}", OutputOptions()) for n in names]) as outputs:
        for frame in iter_frames(box_mp4, MediaOptions(max_frames=5)):
            outputs.write(frame)
        written = outputs.close()
    assert len(written) == 5
    for name in names[:-1]:
        assert [read_index(f.image) for f in iter_frames(tmp_path / name)] == [0, 1, 2, 3, 4], name
    assert len(list((tmp_path / "frames").glob("*.png"))) == 5
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


# -- refusing to overwrite, unwritable places -------------------------------------------------------


@pytest.mark.parametrize("name", ["old.gif", "old.mp4", "old.webp", "old.apng"])
def test_existing_output_without_overwrite_is_refused(tmp_path, name):
    target = tmp_path / name
    target.write_bytes(b"the user's file")
    with pytest.raises(OutputError, match="already exists; pass --overwrite"):
        open_writer(target, OutputOptions())
    assert target.read_bytes() == b"the user's file"


def test_overwrite_replaces_only_when_complete(tmp_path):
    target = tmp_path / "old.mp4"
    target.write_bytes(b"the user's file")
    writer = open_writer(target, OutputOptions(overwrite=True))
    for frame in timed_frames():
        writer.write(frame)
    assert target.read_bytes() == b"the user's file"  # still intact while writing
    writer.close()
    assert len(clips.decode_all(target)) == 4


def test_output_under_a_file_is_an_output_error(tmp_path):
    blocker = tmp_path / "somefile.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create output folder"):
        open_writer(blocker / "x.gif", OutputOptions())
    with pytest.raises(OutputError, match="cannot create output folder"):
        open_writer(f"{blocker}/frames/", OutputOptions())


def test_unknown_extension_lists_the_known_ones(tmp_path):
    with pytest.raises(OptionError) as info:
        open_writer(tmp_path / "out.avi", OutputOptions())
    message = str(info.value)
    assert "unknown extension '.avi'" in message
    for known in (".gif", ".mp4", ".webp", ".apng", ".png", "folder ending in /"):
        assert known in message


@pytest.mark.parametrize("name", ["empty.gif", "empty.mp4", "empty.webp", "empty.apng", "empty/"])
def test_closing_with_no_frames_is_an_error_and_leaves_nothing(tmp_path, name):
    path = f"{tmp_path}/{name}"
    writer = open_writer(path, OutputOptions())
    with pytest.raises(OutputError, match=r"(?i)no frames"):
        writer.close()
    assert not Path(path).is_file()
