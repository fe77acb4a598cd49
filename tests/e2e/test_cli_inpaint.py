"""Inpainting from the command line: the fix-up flow, masks on whole jobs, mask errors, preview overlay."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.store import JobDir
from rotoscope.stylize.mask_options import MaskOptions
from rotoscope.stylize.masking import blur_mask
from tests import clips

FAST = ["--steps", "3", "--strength", "0.67", "--cfg", "1"]  # 2 denoising steps, no CFG batch


@pytest.fixture(scope="module")
def clip30(tmp_path_factory) -> Path:
    """30 frames, 64×48, 10 fps."""
    return clips.moving_box_clip(tmp_path_factory.mktemp("inpaint_clips") / "box30.mp4", frames=30, size=(64, 48))


def square_mask(path: Path, size=(64, 48), box=(20, 10, 24, 20)) -> Path:
    x, y, w, h = box
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[y : y + h, x : x + w] = 255
    Image.fromarray(mask).save(path)
    return path


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def read(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_fixup_of_frames_12_18_changes_only_those_frames_and_reencodes(cli, clip30, tiny_model_dir, tmp_path):
    job, gif = tmp_path / "job", tmp_path / "out.gif"
    # the job: a cheap classic look; the fix-up: the tiny 9-channel inpainting model
    first = cli("run", clip30, "--model", "classic:watercolor", "--seed", "3", "--job", job, "-o", gif)
    assert first.exit_code == 0, first.output
    before, gif_before = digests(job / "frames"), hashlib.sha256(gif.read_bytes()).hexdigest()
    old = {i: read(job / "frames" / f"{i:05d}.png") for i in (12, 18)}
    assert len(before) == 30

    mask = square_mask(tmp_path / "m.png")
    fix = cli("run", clip30, "--model", "tiny-inpaint", "--seed", "3", *FAST, "--job", job, "-o", gif,
              "--frames", "12-18", "--mask", mask, "--inpaint-area", "only-masked", "--json")
    assert fix.exit_code == 0, fix.output
    report = json.loads(fix.stdout[fix.stdout.index("{"):])
    assert (report["computed"], report["resumed"]) == (7, 23)

    after = digests(job / "frames")
    changed = sorted(int(name[:5]) for name in after if after[name] != before[name])
    assert changed == list(range(12, 19))  # the other 23 files are byte-identical
    assert hashlib.sha256(gif.read_bytes()).hexdigest() != gif_before  # re-encoded
    frames, _, _ = clips.gif_frames(gif)
    assert len(frames) == 30
    # inside each fixed frame only the blurred mask's area changed
    keep = blur_mask(np.asarray(Image.open(mask)), 4) == 0
    for i in (12, 18):
        new = read(job / "frames" / f"{i:05d}.png")
        assert np.array_equal(new[keep], old[i][keep])
        assert not np.array_equal(new[~keep], old[i][~keep])
    # the job keeps its own settings: a plain run resumes everything, the fix-up mask is not recorded
    assert JobDir(job).read_spec().mask == MaskOptions()
    again = cli("run", clip30, "--model", "classic:watercolor", "--seed", "3", "--job", job, "-o", gif, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout[again.stdout.index("{"):])["computed"] == 0
    assert "Inpaint area: Only masked" in Image.open(job / "frames" / "00012.png").info["parameters"]


def test_fixup_over_source_frames(cli, clip30, tmp_path):
    job = tmp_path / "job"
    assert cli("run", clip30, "--model", "classic:cartoon", "--seed", "1", "--job", job, "-o", tmp_path / "a.gif").exit_code == 0
    before = digests(job / "frames")
    result = cli("run", clip30, "--model", "classic:pencil", "--seed", "1", "--job", job, "-o", tmp_path / "a.gif",
                 "--frames", "3", "--mask-rect", "0,0,32,48", "--inpaint-base", "source", "--mask-blur", "0")
    assert result.exit_code == 0, result.output
    after = digests(job / "frames")
    assert [n for n in after if after[n] != before[n]] == ["00003.png"]
    fixed, source = read(job / "frames" / "00003.png"), read(job / "source" / "00003.png")
    assert np.array_equal(fixed[:, 32:], source[:, 32:])  # right half: the source, not the cartoon
    assert not np.array_equal(fixed[:, :32], source[:, :32])


def test_whole_job_with_a_mask_inpaints_every_frame_and_empty_masks_pass_through(cli, clip30, tmp_path):
    job = tmp_path / "job"
    black = tmp_path / "black.png"
    Image.fromarray(np.zeros((24, 32), np.uint8)).save(black)  # empty, and another size
    result = cli("run", clip30, "--model", "classic:cartoon", "--seed", "1", "--max-frames", "3", "--job", job,
                 "-o", tmp_path / "b.gif", "--mask", black)
    assert result.exit_code == 0, result.output
    assert "is 32x24; resized to the frame size 64x48" in result.stderr
    assert "frame 0: the mask is empty" in result.stderr and "frame 2: the mask is empty" in result.stderr
    for i in range(3):
        assert np.array_equal(read(job / "frames" / f"{i:05d}.png"), read(job / "source" / f"{i:05d}.png"))
    assert JobSpec.from_json(JobDir(job).read_spec().to_json()).mask.mask == str(black)


def test_mask_count_mismatch_names_both_counts(cli, clip30, tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    for i in range(5):
        square_mask(folder / f"{i}.png")
    result = cli("run", clip30, "--model", "classic:cartoon", "--seed", "1", "--job", tmp_path / "job",
                 "-o", tmp_path / "c.gif", "--mask", folder)
    assert result.exit_code == 2
    assert "has 5 masks but the clip has 30 frames" in result.stderr
    held = cli("run", clip30, "--model", "classic:cartoon", "--seed", "1", "--job", tmp_path / "job2",
               "-o", tmp_path / "c.gif", "--mask", folder, "--mask-hold-last", "--max-frames", "8")
    assert held.exit_code == 0, held.output


def test_inpaint_settings_without_a_mask_are_refused(cli, clip30, tmp_path):
    result = cli("run", clip30, "--model", "classic:cartoon", "--mask-blur", "8", "-o", tmp_path / "d.gif")
    assert result.exit_code == 2
    assert "--mask-blur needs a mask" in result.stderr


def test_preview_with_a_mask_writes_an_overlay_with_outline_and_crop_box(cli, clip30, tmp_path):
    out = tmp_path / "p" / "preview.png"
    mask = square_mask(tmp_path / "m.png")
    result = cli("preview", clip30, "--model", "classic:cartoon", "--seed", "2", "--seeds", "1", "--frame", "4",
                 "--mask", mask, "--inpaint-area", "only-masked", "--padding", "4", "-o", out)
    assert result.exit_code == 0, result.output
    overlay = out.with_name("preview-mask.png")
    assert f"wrote {overlay}" in result.stdout
    shown = read(overlay)
    assert shown.shape == (48, 64, 3)
    assert np.all(shown == (255, 0, 0), axis=2).any()  # mask outline
    assert np.all(shown == (255, 230, 0), axis=2).any()  # crop box
    tile = read(next(out.parent.glob("preview-seed2-*.png")))
    frame = clips.picture(4, (64, 48))
    keep = blur_mask(np.asarray(Image.open(mask)), 4) == 0
    assert np.abs(tile[keep].astype(int) - frame[keep]).mean() < 6  # outside the mask: the (H.264) source frame
