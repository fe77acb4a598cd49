"""The CLI with the inputs users really give it: each mistake exits 2 with one line saying what was
wrong and what to do; the awkward-but-valid inputs (spaces, non-ASCII, portrait phone video, alpha,
VFR, one frame) just work. Run in-process through typer's CliRunner, on real clips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import rotoscope
from rotoscope.cli import app
from rotoscope.media.decode import iter_frames
from tests import clips
from tests.clips import read_index


def error_line(result) -> str:
    """The single 'error: …' line, which must be the last thing on stderr."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0], result.stderr  # nothing after it: one line, then exit
    assert not result.stdout.strip()
    return errors[0]


def flat(text: str) -> str:
    """Output with rich's line wrapping (80 columns when not a terminal) undone."""
    return " ".join(text.split())


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert "error:" not in result.stderr
    return result


# -- bad sources ------------------------------------------------------------------------


def test_missing_file(cli, tmp_path):
    line = error_line(cli("convert", tmp_path / "holiday.mp4", "-o", tmp_path / "x.gif"))
    assert "holiday.mp4 does not exist" in line and "check the path" in line
    assert not (tmp_path / "x.gif").exists()


def test_text_file_named_mp4(cli, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("shopping list\n" * 40)
    line = error_line(cli("convert", fake, "-o", tmp_path / "x.gif"))
    assert "notes.mp4 is not a video, GIF or image that can be read" in line
    assert "re-export it as MP4/GIF" in line


def test_zero_byte_file(cli, tmp_path):
    empty = tmp_path / "download.mp4"
    empty.write_bytes(b"")
    line = error_line(cli("convert", empty, "-o", tmp_path / "x.gif"))
    assert "download.mp4 is empty (0 bytes)" in line and "not fully copied or downloaded" in line


def test_probe_of_a_zero_byte_file(cli, tmp_path):
    empty = tmp_path / "download.mp4"
    empty.write_bytes(b"")
    assert "is empty (0 bytes)" in error_line(cli("probe", empty))


def test_mp4_cut_in_half_without_faststart_is_an_error(cli, box_clip, tmp_path):
    """moov (the index) sits at the end, so the first half has nothing readable."""
    cut = clips.truncated_mp4(box_clip, tmp_path / "cut.mp4")
    line = error_line(cli("convert", cut, "-o", tmp_path / "x.gif"))
    assert "cut.mp4 is not a video, GIF or image that can be read" in line
    assert not (tmp_path / "x.gif").exists()


@pytest.fixture(scope="module")
def cut_faststart(cli_clips):
    full = clips.moving_box_clip(cli_clips / "fs.mp4", frames=60, faststart=True)
    return clips.truncated_mp4(full, cli_clips / "fs_cut.mp4")


def test_mp4_cut_in_half_with_faststart_converts_the_readable_part(cli, cut_faststart, tmp_path):
    """moov first: what was downloaded decodes; the output holds those frames, in order."""
    out = tmp_path / "part.gif"
    result = ok(cli("convert", cut_faststart, "-o", out))
    images, delays, _ = clips.gif_frames(out)
    n = len(images)
    assert 15 <= n < 60
    assert [read_index(a) for a in images] == list(range(n))
    assert delays == [100] * n
    assert f"{n} frames, 160x120" in flat(result.stdout)


def test_mp4_cut_in_half_notes_where_it_stopped(cli, cut_faststart, tmp_path):
    result = ok(cli("convert", cut_faststart, "-o", tmp_path / "part.gif"))
    n = len(clips.gif_frames(tmp_path / "part.gif")[0])
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, result.stderr
    assert "fs_cut.mp4 is damaged or cut off" in notes[0]
    assert f"decoding stopped after source frame {n} (" in notes[0] and "of 6.00 s)" in notes[0]


# -- bad options ----------------------------------------------------------------------------


def test_start_past_the_end(cli, box_clip, tmp_path):
    line = error_line(cli("convert", box_clip, "--start", "5", "-o", tmp_path / "x.gif"))
    assert "clip is 2.4 s long; --start 5 is past its end" in line
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_fps_zero_or_negative(cli, box_clip, tmp_path, value):
    line = error_line(cli("convert", box_clip, "--fps", value, "-o", tmp_path / "x.gif"))
    assert f"--fps {value} must be in (0, 240]" in line and "e.g. --fps 10" in line


def test_width_zero(cli, box_clip, tmp_path):
    line = error_line(cli("convert", box_clip, "--width", "0", "-o", tmp_path / "x.gif"))
    assert "--width 0 must be between 1 and 8192" in line


def test_width_20000_names_the_limit(cli, box_clip, tmp_path):
    line = error_line(cli("convert", box_clip, "--width", "20000", "-o", tmp_path / "x.gif"))
    assert "--width 20000 must be between 1 and 8192" in line and "choose a smaller size" in line


def test_unknown_output_extension_lists_the_known_ones(cli, box_clip, tmp_path):
    line = error_line(cli("convert", box_clip, "-o", tmp_path / "x.avi"))
    assert "unknown extension '.avi'" in line
    for known in (".apng", ".gif", ".mp4", ".png", ".webp", "a folder ending in /"):
        assert known in line


def test_bad_max_size(cli, box_clip, tmp_path):
    line = error_line(cli("convert", box_clip, "--max-size", "lots", "-o", tmp_path / "x.gif"))
    assert "size 'lots' is not understood" in line and "1.5MB" in line


def test_existing_output_needs_overwrite(cli, box_clip, tmp_path):
    out = tmp_path / "mine.gif"
    out.write_bytes(b"precious")
    line = error_line(cli("convert", box_clip, "-o", out))
    assert "mine.gif already exists; pass --overwrite" in line
    assert out.read_bytes() == b"precious"
    ok(cli("convert", box_clip, "--max-frames", "2", "--overwrite", "-o", out))
    assert len(clips.gif_frames(out)[0]) == 2


# -- outputs that cannot be written ------------------------------------------------------------


def test_output_folder_under_a_file(cli, box_clip, tmp_path):
    """Fails even as root (where chmod does not stop writes): the 'folder' is a file."""
    blocker = tmp_path / "somefile.txt"
    blocker.write_text("not a folder")
    line = error_line(cli("convert", box_clip, "-o", blocker / "x.gif"))
    assert "cannot create output folder" in line and "somefile.txt" in line and "choose another -o" in line
    assert blocker.read_text() == "not a folder"


def test_png_frames_folder_under_a_file(cli, box_clip, tmp_path):
    blocker = tmp_path / "somefile.txt"
    blocker.write_text("not a folder")
    line = error_line(cli("convert", box_clip, "-o", f"{blocker}/frames/"))
    assert "cannot create output folder" in line and "choose another -o" in line


# -- awkward but valid inputs ---------------------------------------------------------------------


def test_spaces_and_non_ascii_in_paths(cli, box_clip, tmp_path):
    source = tmp_path / "clip ü é.mp4"
    source.write_bytes(box_clip.read_bytes())
    out = tmp_path / "sortie été" / "résultat 1.gif"
    result = ok(cli("convert", source, "--max-frames", "3", "-o", out))
    assert out.exists() and len(clips.gif_frames(out)[0]) == 3
    assert "résultat 1.gif" in flat(result.stdout)
    assert json.loads(ok(cli("probe", source, "--json")).stdout)["frame_count"] == 24


def test_brackets_in_paths_are_printed_verbatim(cli, box_clip, tmp_path):
    source = tmp_path / "movie [1080p].mp4"
    source.write_bytes(box_clip.read_bytes())
    out = tmp_path / "out [v2].gif"
    result = ok(cli("convert", source, "--max-frames", "2", "-o", out))
    assert "out [v2].gif" in flat(result.stdout)
    missing = error_line(cli("convert", tmp_path / "other [1080p].mp4", "-o", tmp_path / "y.gif"))
    assert "other [1080p].mp4 does not exist" in missing


def test_portrait_phone_clip_with_rotation_90(cli, tmp_path):
    source = clips.rotated_clip(tmp_path / "phone.mp4", rotation=90, frames=5)
    out = tmp_path / "phone.gif"
    result = ok(cli("convert", source, "-o", out))
    images = clips.gif_frames(out)[0]
    assert images[0].shape[:2] == (160, 96)  # portrait, 96 wide
    assert images[0][4, 4, 1] > 200 and images[0][4, 4, 0] < 60  # the green marker is top-left: upright
    assert [read_index(a) for a in images] == [0, 1, 2, 3, 4]
    assert "96x160" in flat(result.stdout)
    info = json.loads(ok(cli("probe", source, "--json")).stdout)
    assert (info["width"], info["height"], info["rotation"]) == (96, 160, 90)


def test_rgba_gif_input(cli, tmp_path):
    source = clips.rgba_gif(tmp_path / "sticker.gif")
    out = tmp_path / "out.gif"
    ok(cli("convert", source, "-o", out))
    images = clips.gif_frames(out)[0]
    assert len(images) == 6
    assert (images[0][:12, :16, 3] == 0).all()  # still transparent


def test_rgba_png_folder_input(cli, tmp_path):
    folder = clips.rgba_png_sequence(tmp_path / "frames")
    out = tmp_path / "out.apng"
    ok(cli("convert", folder, "--fps", "12", "-o", out))
    frames = list(iter_frames(out))
    assert [read_index(f.image) for f in frames] == list(range(12))  # natural order
    assert frames[0].has_alpha and (frames[0].image[:12, :16, 3] == 0).all()


def test_rgba_png_glob_with_background(cli, tmp_path):
    folder = clips.rgba_png_sequence(tmp_path / "frames")
    out = tmp_path / "out.mp4"
    ok(cli("convert", str(folder / "frame*.png"), "--background", "#00ff00", "-o", out))
    first = clips.decode_all(out)[0]
    assert first[4, 4, 1] > 200 and first[4, 4, 0] < 60  # transparent corner → green


def test_vfr_clip(cli, tmp_path):
    source = clips.vfr_clip(tmp_path / "screen recording.mp4")
    info = json.loads(ok(cli("probe", source, "--json")).stdout)
    assert info["variable_frame_rate"] is True
    assert info["frame_count"] == 20
    out = tmp_path / "vfr.gif"
    ok(cli("convert", source, "-o", out))
    delays = clips.gif_frames(out)[1]
    assert delays[:4] == [40, 120, 40, 120]  # the source's own timing survives
    ok(cli("convert", source, "--fps", "25", "-o", tmp_path / "cfr.gif"))
    assert set(clips.gif_frames(tmp_path / "cfr.gif")[1]) == {40}
    assert "(variable frame rate)" in ok(cli("probe", source)).stdout


def test_one_frame_input(cli, tmp_path):
    source = clips.one_frame_png(tmp_path / "still.png")
    out = tmp_path / "still.gif"
    result = ok(cli("convert", source, "-o", out))
    assert len(clips.gif_frames(out)[0]) == 1
    assert "1 frames, 64x48" in flat(result.stdout)


# -- --debug, --json, --help ------------------------------------------------------------------------


def test_debug_raises_the_user_error_in_process(cli, tmp_path):
    result = cli("--debug", "convert", tmp_path / "missing.mp4", "-o", tmp_path / "x.gif")
    assert result.exit_code != 0 and result.exit_code != 2
    assert type(result.exception).__name__ == "InputError"
    assert "does not exist" in str(result.exception)


def test_debug_prints_a_traceback(tmp_path):
    src = str(Path(rotoscope.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    missing = str(tmp_path / "missing.mp4")
    debug = subprocess.run([sys.executable, "-m", "rotoscope.cli", "--debug", "probe", missing],
                           capture_output=True, text=True, env=env, timeout=120)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "InputError" in debug.stderr and "does not exist" in debug.stderr
    plain = subprocess.run([sys.executable, "-m", "rotoscope.cli", "probe", missing],
                           capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr
    assert plain.stderr.strip().splitlines() == [f"error: {missing} does not exist; check the path (quote it if it has spaces)."]


def test_probe_json_parses(cli, box_clip):
    info = json.loads(ok(cli("probe", box_clip, "--json")).stdout)
    assert info["frame_count"] == 24
    assert info["duration"] == pytest.approx(2.4)
    assert (info["width"], info["height"]) == (160, 120)
    assert info["variable_frame_rate"] is False and info["audio"] is None


def _commands() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


def test_the_commands_we_document_exist():
    assert {"probe", "convert", "run"} <= set(_commands())


@pytest.mark.parametrize("command", [None, *_commands()])
def test_every_help_has_an_example(cli, command):
    args = ["--help"] if command is None else [command, "--help"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
