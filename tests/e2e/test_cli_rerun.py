"""Running again from the command line loses nothing: checks come first (one line, nothing created, no seed
note), a redo keeps every output in step, a fix-up run twice gives the same frames, and preview / keys /
score replace a file only with --overwrite. Classic looks on a 6-frame 64-px clip: fast."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests import clips

LOOK = ["--model", "classic:cartoon", "--seed", "2"]


@pytest.fixture(scope="module")
def clip6(tmp_path_factory) -> Path:
    return clips.moving_box_clip(tmp_path_factory.mktemp("rerun") / "box6.mp4", frames=6, size=(64, 48))


def error_line(result) -> str:
    """The single 'error: …' line (exit code 2), with no note printed before it."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def test_a_failed_output_check_is_one_line_creates_nothing_and_draws_no_seed(cli, clip6, tmp_path):
    mine = tmp_path / "mine.gif"
    mine.write_bytes(b"mine")
    result = cli("run", clip6, "--model", "classic:cartoon", "--job", tmp_path / "jobs" / "j", "-o",
                 tmp_path / "new" / "a.gif", "-o", mine)
    assert "already exists; pass --overwrite" in error_line(result)  # no "note: seed drawn" before it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.gif"]
    same = cli("run", clip6, *LOOK, "--job", tmp_path / "j", "-o", clip6)
    assert "is the source" in error_line(same) and not (tmp_path / "j").exists()


def test_a_folder_that_is_no_job_is_refused(cli, clip6, tmp_path):
    folder = tmp_path / "photos"
    (folder / "frames").mkdir(parents=True)
    Image.new("RGB", (64, 48)).save(folder / "frames" / "00000.png")
    line = error_line(cli("run", clip6, *LOOK, "--job", folder, "-o", tmp_path / "a.gif"))
    assert "is not a rotoscope job (no job.json) and is not empty" in line and "new or empty folder" in line
    assert sorted(p.name for p in folder.rglob("*")) == ["00000.png", "frames"]


def test_a_replaced_source_is_one_line_naming_the_fix(cli, tmp_path):
    source = clips.moving_box_clip(tmp_path / "c.mp4", frames=6, size=(64, 48))
    args = ["run", source, *LOOK, "--job", tmp_path / "j", "-o", tmp_path / "a.gif"]
    assert cli(*args).exit_code == 0
    clips.moving_box_clip(source, frames=6, size=(64, 48), fps=5)  # same path, same frames asked for, other video
    line = error_line(cli(*args))
    assert "changed since job" in line and "--overwrite" in line and "new --job" in line
    again = cli(*args, "--overwrite", "--json")
    assert json.loads(again.stdout)["computed"] == 6


def test_a_redo_keeps_the_first_runs_mp4_in_step(cli, clip6, tmp_path):
    job, gif, mp4 = tmp_path / "j", tmp_path / "a.gif", tmp_path / "a.mp4"
    assert cli("run", clip6, "-p", "ink", *LOOK, "--job", job, "-o", gif, "-o", mp4).exit_code == 0
    before = clips.decode_all(mp4)
    redo = cli("run", clip6, "-p", "pencil", "--model", "classic:pencil", "--seed", "2", "--job", job,
               "--frames", "1,4", "-o", gif)
    assert redo.exit_code == 0, redo.output
    after = clips.decode_all(mp4)
    # the MP4 of the first run shows the redone frames too (H.264 moves its neighbours a little)
    diff = [float(np.abs(a.astype(int) - b.astype(int)).mean()) for a, b in zip(before, after)]
    assert min(diff[1], diff[4]) > 3 * max(diff[i] for i in (0, 2, 3, 5)), diff
    with av.open(str(mp4)) as container:
        comment = container.metadata["comment"]
    assert comment.startswith("ink\n") and 'Redone frames: "1,4 (see job.json)"' in comment
    redone = json.loads((job / "job.json").read_text())["redone"]
    assert sorted(redone) == ["1", "4"] and redone["4"]["prompt"] == "pencil"


def test_the_same_fixup_command_twice_gives_the_same_bytes(cli, clip6, tmp_path):
    job = tmp_path / "j"
    assert cli("run", clip6, *LOOK, "--job", job, "-o", tmp_path / "a.gif").exit_code == 0
    fix = ["run", clip6, "--model", "classic:oil", "--seed", "2", "--job", job, "-o", tmp_path / "a.gif",
           "--frames", "2-3", "--mask-rect", "8,8,32,24"]
    assert cli(*fix).exit_code == 0
    once, gif_once = digests(job / "frames"), (tmp_path / "a.gif").read_bytes()
    assert cli(*fix).exit_code == 0
    assert digests(job / "frames") == once and (tmp_path / "a.gif").read_bytes() == gif_once


@pytest.mark.parametrize("command", ["preview", "keys", "score"])
def test_preview_keys_and_score_replace_a_file_only_with_overwrite(cli, clip6, tmp_path, command):
    target = tmp_path / "mine.png"
    target.write_bytes(b"mine")
    if command == "score":
        gif = tmp_path / "a.gif"
        assert cli("convert", clip6, "-o", gif).exit_code == 0
        args = ["score", gif, "--source", clip6, "--plot", target]
    elif command == "keys":
        args = ["keys", clip6, "--sheet", target]
    else:
        args = ["preview", clip6, "--model", "classic:cartoon", "--seeds", "1", "--seed", "5", "-o", target]
    line = error_line(cli(*args))
    assert f"{target} already exists; pass --overwrite" in line
    assert target.read_bytes() == b"mine"
    done = cli(*args, "--overwrite")
    assert done.exit_code == 0, done.output
    with Image.open(target) as image:
        assert image.format == "PNG"
    if command == "preview":  # its tiles are files too: checked before any tile is made
        tile = tmp_path / "grid-seed5-s0.3.png"
        tile.write_bytes(b"mine")
        line = error_line(cli(*args[:-2], "-o", tmp_path / "grid.png"))
        assert "grid-seed5-s0.3.png already exists" in line
        assert tile.read_bytes() == b"mine" and not (tmp_path / "grid.png").exists()
