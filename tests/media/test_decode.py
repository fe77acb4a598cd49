"""iter_frames: trimming, fps resampling by presentation time, every-nth, max-frames, scaling,
rotation, alpha, image folders and streaming — checked by *content* (each test picture carries
its frame number as a barcode, see tests/clips.py), on clips PyAV writes here."""

from __future__ import annotations

import inspect
import logging
import os

import av
import numpy as np
import pytest
from PIL import Image

from rotoscope.errors import InputError, OptionError
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from tests import clips
from tests.clips import read_index


def frames_of(source, **options):
    return list(iter_frames(source, MediaOptions(**options)))


def sources(frames):
    return [read_index(f.image) for f in frames]


def assert_continuous(frames, start_index: int = 0):
    """index 0, 1, 2 …; time starts at 0; each frame starts where the previous one ends."""
    assert [f.index for f in frames] == list(range(start_index, start_index + len(frames)))
    assert frames[0].time == pytest.approx(0.0, abs=1e-6)
    for a, b in zip(frames, frames[1:]):
        assert b.time == pytest.approx(a.time + a.duration, abs=1e-6), (a, b)
    assert all(f.duration > 0 for f in frames)


# -- defaults -------------------------------------------------------------------


def test_every_source_frame_in_order_with_its_timing(box_mp4):
    frames = frames_of(box_mp4)
    assert len(frames) == 30
    assert sources(frames) == list(range(30))
    assert [f.time for f in frames] == pytest.approx([i / 10 for i in range(30)])
    assert [f.duration for f in frames] == pytest.approx([0.1] * 30)
    assert_continuous(frames)
    first = frames[0]
    assert first.image.dtype == np.uint8 and first.image.shape == (120, 160, 3)
    assert not first.has_alpha


def test_frames_match_the_pictures_written(box_mp4):
    """Colours survive decode (crf 12): the decoded frame is close to the picture PyAV encoded."""
    frame = frames_of(box_mp4, max_frames=4)[3]
    diff = np.abs(frame.image.astype(int) - clips.picture(3).astype(int))
    assert diff.mean() < 4


# -- fps resampling by presentation time ------------------------------------------


def test_fps_raised_repeats_the_frame_on_screen(box_mp4):
    frames = frames_of(box_mp4, fps=25)
    assert len(frames) == 75  # 3.0 s × 25
    # Output frame k is shown at k/25 s: the source frame on screen then is floor(k × 10/25).
    assert sources(frames) == [(k * 10) // 25 for k in range(75)]
    assert [f.duration for f in frames] == pytest.approx([0.04] * 75)
    assert_continuous(frames)


def test_fps_lowered_drops_by_time(box_mp4):
    frames = frames_of(box_mp4, fps=4)
    assert len(frames) == 12
    assert sources(frames) == [(k * 10) // 4 for k in range(12)]  # 0, 2, 5, 7, 10 …
    assert [f.time for f in frames] == pytest.approx([k * 0.25 for k in range(12)])
    assert [f.duration for f in frames] == pytest.approx([0.25] * 12)


def test_vfr_source_to_cfr_shows_the_frame_on_screen_at_each_time(vfr_mp4):
    with av.open(str(vfr_mp4)) as container:  # where the source frames really are
        stream = container.streams.video[0]
        starts = sorted(float(p.pts * p.time_base) for p in container.demux(stream) if p.size)
    assert starts == pytest.approx([s for s, _ in clips.vfr_times()])  # 40/120 ms alternating
    frames = frames_of(vfr_mp4, fps=25)
    expected = []
    for k in range(len(frames)):
        t = k * 0.04
        expected.append(max(j for j, s in enumerate(starts) if s <= t + 1e-6))
    assert sources(frames) == expected
    assert expected[:6] == [0, 1, 1, 1, 2, 3]  # the 120 ms frames are shown three times
    assert len(frames) == 39  # the clip lasts 1.56 s (the muxer gives the last frame 80 ms)
    assert_continuous(frames)


def test_vfr_source_without_fps_keeps_each_frames_own_duration(vfr_mp4):
    frames = frames_of(vfr_mp4)
    assert sources(frames) == list(range(20))
    # Every frame but the last (its duration is the muxer's guess) keeps its 40/120 ms.
    assert [f.duration for f in frames[:-1]] == pytest.approx([d for _, d in clips.vfr_times()][:-1])
    assert_continuous(frames)


# -- every-nth, max-frames, trimming --------------------------------------------------


def test_every_nth_kept_frame_lasts_n_intervals(box_mp4):
    frames = frames_of(box_mp4, every_nth=4)
    assert sources(frames) == [0, 4, 8, 12, 16, 20, 24, 28]
    # 30 is not a multiple of 4: the last kept frame stands for the 2 frames left.
    assert [f.duration for f in frames] == pytest.approx([0.4] * 7 + [0.2])
    assert_continuous(frames)
    assert frames[-1].time + frames[-1].duration == pytest.approx(3.0)


def test_every_nth_applies_after_fps(box_mp4):
    frames = frames_of(box_mp4, start=1.5, fps=4, every_nth=2)
    # 4 fps from 1.5 s: 1.5, 1.75, 2.0 … 2.75; every 2nd of those, each lasting 0.5 s.
    assert sources(frames) == [15, 20, 25]
    assert [f.duration for f in frames] == pytest.approx([0.5, 0.5, 0.5])
    assert_continuous(frames)


def test_max_frames_stops_early(box_mp4):
    frames = frames_of(box_mp4, max_frames=5)
    assert sources(frames) == [0, 1, 2, 3, 4]
    frames = frames_of(box_mp4, fps=20, max_frames=3)
    assert sources(frames) == [0, 0, 1]
    assert [f.duration for f in frames] == pytest.approx([0.05] * 3)


def test_start_and_duration_trim_on_frame_boundaries(box_mp4):
    frames = frames_of(box_mp4, start=1.0, duration=1.0)
    assert sources(frames) == list(range(10, 20))
    assert_continuous(frames)
    assert sum(f.duration for f in frames) == pytest.approx(1.0)


def test_start_inside_a_frame_keeps_it_when_mostly_inside(box_mp4):
    # [1.02, 2.02): 80 ms of frame 10 are inside (kept, shortened), 20 ms of frame 20 (dropped).
    frames = frames_of(box_mp4, start=1.02, duration=1.0)
    assert sources(frames) == list(range(10, 20))
    assert frames[0].duration == pytest.approx(0.08)
    assert [f.duration for f in frames[1:]] == pytest.approx([0.1] * 9)
    assert_continuous(frames)


def test_start_with_fps_samples_from_start(box_mp4):
    frames = frames_of(box_mp4, start=2.0, fps=5)
    assert sources(frames) == [20, 22, 24, 26, 28]
    assert frames[0].time == 0.0


def test_start_past_the_end_says_how_long_the_clip_is(clip_dir):
    short = clips.moving_box_clip(clip_dir / "short_24.mp4", frames=24)  # 2.4 s
    with pytest.raises(InputError) as info:
        frames_of(short, start=5)
    assert "clip is 2.4 s long; --start 5 is past its end" in str(info.value)


@pytest.mark.parametrize(("fixture", "length"), [("rgba_pngs", "0.5"), ("rgba_gif", "0.6"), ("webp_anim", "0.7")])
def test_start_past_the_end_of_images_and_animations(request, fixture, length):
    with pytest.raises(InputError, match=rf"clip is {length} s long; --start 9 is past its end"):
        frames_of(request.getfixturevalue(fixture), start=9)


# -- scaling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "shape"),
    [(80, None, (60, 80)), (None, 60, (60, 80)), (100, 50, (50, 100)), (81, None, (61, 81)), (320, None, (240, 320))],
)
def test_width_height_keep_aspect_unless_both_given(box_mp4, width, height, shape):
    frames = frames_of(box_mp4, width=width, height=height, max_frames=3)
    assert {f.image.shape for f in frames} == {shape + (3,)}
    assert sources(frames) == [0, 1, 2]  # the content survives scaling


def test_scaling_applies_to_image_sequences_too(rgba_pngs):
    frames = frames_of(rgba_pngs, width=32)
    assert {f.image.shape for f in frames} == {(24, 32, 4)}


# -- rotation ---------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_display_rotation_gives_upright_frames(clip_dir, rotation):
    path = clips.rotated_clip(clip_dir / f"rot{rotation}.mp4", rotation=rotation, frames=4)
    frames = frames_of(path)
    assert len(frames) == 4
    for i, frame in enumerate(frames):
        assert frame.image.shape == (160, 96, 3)  # portrait, as the phone showed it
        # The green marker is at the top-left of the upright picture.
        assert tuple(frame.image[4, 4]) == pytest.approx((0, 255, 0), abs=24)
        assert frame.image[4, 4, 1] > 200 and frame.image[-30, -4, 1] < 120
        assert read_index(frame.image) == i


def test_rotated_clip_scaled_by_display_width(rotated_mp4):
    frames = frames_of(rotated_mp4, width=48, max_frames=2)
    assert frames[0].image.shape == (80, 48, 3)  # 48 wide as displayed, aspect kept
    assert frames[0].image[2, 2, 1] > 200  # still upright


# -- alpha -------------------------------------------------------------------------------


ALPHA_SOURCES = ["rgba_gif", "rgba_pngs", "webp_anim", "apng_anim"]


@pytest.mark.parametrize("fixture", ALPHA_SOURCES)
def test_alpha_is_kept_as_rgba(request, fixture):
    source = request.getfixturevalue(fixture)
    frames = frames_of(source)
    for i, frame in enumerate(frames):
        assert frame.has_alpha and frame.image.shape == (48, 64, 4)
        alpha = frame.image[..., 3]
        assert (alpha[:12, :16] == 0).all()  # the transparent top-left quarter
        assert (alpha[12:, :] == 255).all() and (alpha[:, 16:] == 255).all()
        assert read_index(frame.image) == i


@pytest.mark.parametrize("fixture", ALPHA_SOURCES)
def test_background_composites_alpha_away(request, fixture):
    source = request.getfixturevalue(fixture)
    rgba = frames_of(source, max_frames=2)
    flat = frames_of(source, max_frames=2, background="#00ff00")
    for a, b in zip(rgba, flat):
        assert b.image.shape == (48, 64, 3) and not b.has_alpha
        assert (b.image[:12, :16] == (0, 255, 0)).all()  # transparent → the background colour
        assert (b.image[12:] == a.image[12:, :, :3]).all()  # opaque pixels untouched


def test_background_on_an_opaque_video_changes_nothing(box_mp4):
    plain = frames_of(box_mp4, max_frames=1)[0].image
    flat = frames_of(box_mp4, max_frames=1, background="black")[0].image
    assert (plain == flat).all()


def test_bad_background_colour_is_an_option_error(box_mp4):
    with pytest.raises(OptionError, match="colour 'purplish' is not understood"):
        frames_of(box_mp4, background="purplish")


# -- image folders, globs, stills, animations -----------------------------------------------


def test_image_folder_is_sorted_naturally(rgba_pngs):
    names = sorted(p.name for p in rgba_pngs.iterdir())
    assert names[:3] == ["frame0.png", "frame1.png", "frame10.png"]  # what plain sorting would give
    frames = frames_of(rgba_pngs)
    assert sources(frames) == list(range(12))  # frame2 before frame10
    # No timing of their own: 25 fps, like ffmpeg's image2.
    assert [f.duration for f in frames] == pytest.approx([0.04] * 12)
    assert_continuous(frames)


def test_image_folder_fps_sets_its_rate(rgba_pngs):
    frames = frames_of(rgba_pngs, fps=10)
    assert sources(frames) == list(range(12))
    assert [f.duration for f in frames] == pytest.approx([0.1] * 12)


def test_glob_selects_and_sorts_naturally(rgba_pngs):
    assert sources(frames_of(str(rgba_pngs / "frame*.png"))) == list(range(12))
    assert sources(frames_of(str(rgba_pngs / "frame1*.png"))) == [1, 10, 11]


def test_folder_ignores_files_that_are_not_images(tmp_path):
    folder = clips.png_sequence(tmp_path / "frames", frames=3)
    (folder / "notes.txt").write_text("not a frame")
    assert sources(frames_of(folder)) == [0, 1, 2]


def test_empty_folder_and_unmatched_glob_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="holds no images"):
        frames_of(tmp_path)
    with pytest.raises(InputError, match="no image files match"):
        frames_of(str(tmp_path / "nothing*.png"))


def test_unreadable_image_in_a_folder_is_named(tmp_path):
    folder = clips.png_sequence(tmp_path / "frames", frames=3)
    (folder / "frame1.png").write_bytes(b"not a png")
    with pytest.raises(InputError) as info:
        frames_of(folder)
    assert "frame1.png (image 2 of 3)" in str(info.value)


def test_one_frame_input_gives_one_frame(one_png):
    frames = frames_of(one_png)
    assert len(frames) == 1
    assert frames[0].image.shape == (48, 64, 3)
    assert read_index(frames[0].image) == 7
    assert frames[0].duration > 0
    with_fps = frames_of(one_png, fps=5)
    assert len(with_fps) == 1 and with_fps[0].duration == pytest.approx(0.2)


def test_one_frame_folder(tmp_path):
    folder = clips.png_sequence(tmp_path / "one", frames=1)
    frames = frames_of(folder)
    assert len(frames) == 1 and frames[0].duration == pytest.approx(0.04)


@pytest.mark.parametrize("fixture", ["webp_anim", "apng_anim"])
def test_animated_webp_and_apng_keep_per_frame_durations(request, fixture):
    frames = frames_of(request.getfixturevalue(fixture))
    assert sources(frames) == [0, 1, 2, 3]
    assert [f.duration for f in frames] == pytest.approx([0.1, 0.2, 0.1, 0.3])
    assert_continuous(frames)


def test_gif_frames_and_delays(rgba_gif):
    frames = frames_of(rgba_gif)
    assert sources(frames) == list(range(6))
    assert [f.duration for f in frames] == pytest.approx([0.1] * 6)


def test_webp_with_fps_resamples(webp_anim):
    # 0–0.1 frame 0, 0.1–0.3 frame 1, 0.3–0.4 frame 2, 0.4–0.7 frame 3; sampled every 0.1 s.
    assert sources(frames_of(webp_anim, fps=10)) == [0, 1, 1, 2, 3, 3, 3]


# -- streaming ---------------------------------------------------------------------------------


def test_iter_frames_is_a_lazy_generator(box_mp4):
    frames = iter_frames(box_mp4, MediaOptions(fps=0))
    assert inspect.isgenerator(frames)  # nothing is decoded (or even validated) until asked
    with pytest.raises(OptionError):
        next(frames)


def test_taking_two_frames_does_not_decode_the_whole_clip(tmp_path):
    """Cut the file off under the open decoder after two frames: a streaming decoder only
    ever sees the first part, one that had read everything up front would still give all 300."""
    path = clips.moving_box_clip(tmp_path / "long.mp4", frames=300)
    frames = iter_frames(path)
    first_two = [next(frames), next(frames)]
    assert sources(first_two) == [0, 1]
    os.truncate(path, path.stat().st_size // 3)
    rest = list(frames)
    assert 2 + len(rest) < 300
    assert sources(rest) == list(range(2, 2 + len(rest)))


def test_image_folder_is_read_one_file_at_a_time(tmp_path):
    folder = clips.png_sequence(tmp_path / "frames", frames=60, size=(16, 16))
    (folder / "frame50.png").write_bytes(b"broken")
    frames = iter_frames(folder)
    assert [f.index for f in (next(frames), next(frames))] == [0, 1]  # the broken file is not touched yet
    with pytest.raises(InputError, match="frame50.png"):
        list(frames)


# -- bad sources ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        frames_of(tmp_path / "nope.mp4")


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\)"):
        frames_of(empty)


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video\n" * 20)
    with pytest.raises(InputError, match="is not a video, GIF or image that can be read") as info:
        frames_of(fake)
    assert isinstance(info.value.__cause__, av.error.FFmpegError)  # what FFmpeg said, for --debug


def test_audio_only_file(tmp_path):
    path = tmp_path / "tone.m4a"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "mono"
        clips._mux_tone(container, stream, 0.5)
    with pytest.raises(InputError, match="has no video stream"):
        frames_of(path)


def test_cut_off_mp4_without_faststart_is_unreadable(box_mp4, tmp_path):
    """moov (the index) is at the end: the first half alone cannot be opened at all."""
    cut = clips.truncated_mp4(box_mp4, tmp_path / "cut.mp4")
    with pytest.raises(InputError, match="is not a video, GIF or image that can be read"):
        frames_of(cut)


@pytest.fixture(scope="module")
def cut_faststart(clip_dir):
    full = clips.moving_box_clip(clip_dir / "fs60.mp4", frames=60, faststart=True)
    return clips.truncated_mp4(full, clip_dir / "fs60_cut.mp4")


def test_cut_off_mp4_with_faststart_gives_the_frames_before_the_cut(cut_faststart):
    """moov first: the readable half decodes, in order, and stops where the data ends."""
    frames = frames_of(cut_faststart)
    assert 15 <= len(frames) < 60
    assert sources(frames) == list(range(len(frames)))
    assert_continuous(frames)


def test_cut_off_mp4_notes_where_decoding_stopped(cut_faststart, caplog):
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        frames = frames_of(cut_faststart)
    notes = [r.getMessage() for r in caplog.records if r.name == "rotoscope"]
    assert len(notes) == 1, notes
    # Where it stopped, against the 6 s the header promises.
    assert "is damaged or cut off" in notes[0]
    assert f"stopped after source frame {len(frames)} ({len(frames) / 10:.2f} s of 6.00 s)" in notes[0]


def test_image_that_is_not_an_image(tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_text("not a jpeg")
    with pytest.raises(InputError, match="is not a video, GIF or image that can be read"):
        frames_of(fake)


def test_jpeg_still(tmp_path):
    path = tmp_path / "still.jpg"
    Image.fromarray(clips.picture(5, (64, 48))).save(path, quality=95)
    frames = frames_of(path)
    assert len(frames) == 1 and read_index(frames[0].image) == 5


# -- option validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fps": 0}, "--fps 0 must be in (0, 240]"),
        ({"fps": -2}, "--fps -2 must be in (0, 240]"),
        ({"fps": 500}, "--fps 500 must be in (0, 240]"),
        ({"width": 0}, "--width 0 must be between 1 and 8192"),
        ({"height": -5}, "--height -5 must be between 1 and 8192"),
        ({"width": 20000}, "--width 20000 must be between 1 and 8192; choose a smaller size"),
        ({"start": -1}, "--start -1 must be 0 or more"),
        ({"duration": 0}, "--duration 0 must be more than 0"),
        ({"every_nth": 0}, "--every-nth 0 must be 1 or more"),
        ({"max_frames": 0}, "--max-frames 0 must be 1 or more"),
    ],
)
def test_impossible_options_are_refused_before_decoding(box_mp4, options, message):
    with pytest.raises(OptionError) as info:
        frames_of(box_mp4, **options)
    assert message in str(info.value)


def test_upscale_past_the_limit_is_refused(box_mp4):
    with pytest.raises(InputError, match="above the limit of 8192 pixels"):
        frames_of(box_mp4, height=8000)  # 8000 high → 10667 wide
