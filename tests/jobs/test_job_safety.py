"""Nothing lost: a job resumes only its own folder and its own source, checks before it works, redoes
frames reproducibly, keeps every output in step, and does not trust a frame file it cannot read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rotoscope.api as api
from rotoscope.errors import JobError, OutputError
from rotoscope.jobs.store import JobDir
from tests import clips
from tests.frames import frame_digests as digests

LOOK = {"model": "classic:cartoon", "seed": 4}


@pytest.fixture(scope="module")
def clip8(tmp_path_factory) -> Path:
    """8 frames, 64×48."""
    return clips.moving_box_clip(tmp_path_factory.mktemp("safety") / "box8.mp4", frames=8, size=(64, 48))




def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def record(job: Path) -> dict:
    return json.loads((job / "job.json").read_text())


# -- 9: only a folder rotoscope made is resumed ---------------------------------------------------


def test_a_folder_without_job_json_is_not_resumed(clip8, tmp_path):
    job = tmp_path / "mine"
    (job / "frames").mkdir(parents=True)
    Image.new("RGB", (64, 48), "red").save(job / "frames" / "00000.png")  # someone's picture, not a job frame
    before = tree(job)
    with pytest.raises(JobError, match=r"not a rotoscope job \(no job.json\) and is not empty \(frames\)"):
        api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    assert tree(job) == before and not (tmp_path / "out.gif").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    result = api.stylize(clip8, tmp_path / "out.gif", job_dir=empty, **LOOK)
    assert (result.frames_computed, result.frames_resumed) == (8, 0)
    assert (empty / "job.json").exists()


def test_a_broken_job_json_is_one_line_before_any_work(clip8, tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    (job / "job.json").write_text("{not json")
    with pytest.raises(JobError, match="cannot be read"):
        api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    assert tree(job) == ["job.json"]


# -- 10: a job knows its source by content ----------------------------------------------------------


def test_a_replaced_source_is_refused_and_overwrite_starts_again(tmp_path):
    source = tmp_path / "clip.mp4"
    clips.moving_box_clip(source, frames=8, size=(64, 48))
    job = tmp_path / "job"
    api.stylize(source, tmp_path / "out.gif", job_dir=job, **LOOK)
    first = digests(job / "frames")
    recorded = record(job)["source_id"]
    assert recorded["size"] == source.stat().st_size and len(recorded["blake2b"]) == 32

    clips.moving_box_clip(source, frames=8, size=(80, 48))  # another video at the same path
    with pytest.raises(JobError, match=r"source .*clip.mp4 changed since job .* was made \(size \d+ → \d+ bytes\); "
                                       r"pass --overwrite .* or use a new --job"):
        api.stylize(source, tmp_path / "out.gif", job_dir=job, **LOOK)
    assert digests(job / "frames") == first  # nothing touched

    again = api.stylize(source, tmp_path / "out.gif", job_dir=job, overwrite=True, **LOOK)
    assert again.frames_computed == 8
    assert Image.open(job / "frames" / "00000.png").size == (80, 48)
    assert record(job)["source_id"]["size"] == source.stat().st_size


def test_a_job_json_without_the_source_identity_keeps_working(clip8, tmp_path):
    job = tmp_path / "job"
    api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    old = record(job)
    del old["source_id"]
    (job / "job.json").write_text(json.dumps(old))
    result = api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    assert result.frames_computed == 0
    assert record(job)["source_id"]["size"] == clip8.stat().st_size


def test_identity_is_by_content_and_a_big_file_is_sampled(tmp_path, monkeypatch):
    from rotoscope.jobs import checks
    from rotoscope.jobs.checks import source_change, source_identity

    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"x" * 5000)
    b.write_bytes(b"x" * 2500 + b"y" + b"x" * 2499)
    same_size = source_change(source_identity(str(a)), source_identity(str(b)))
    assert same_size and same_size.startswith("same size, different content")
    assert source_change(source_identity(str(a)), source_identity(str(a))) is None
    folder = clips.png_sequence(tmp_path / "seq", frames=3, size=(16, 12))
    ident = source_identity(str(folder))
    (folder / "frame1.png").unlink()
    assert source_change(ident, source_identity(str(folder))) == "3 → 2 files"
    # past the whole-file limit: size + first/last MiB + samples between, so a change at the start is found
    monkeypatch.setattr(checks, "WHOLE_HASH_LIMIT", 1 << 20)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(5 << 20))
    ident = source_identity(str(big))
    with open(big, "r+b") as handle:
        handle.write(b"\1")
    assert "different content" in source_change(ident, source_identity(str(big)))


# -- 11 / 16: every check before any work -------------------------------------------------------------


def test_an_output_check_that_fails_creates_nothing(clip8, tmp_path):
    mine = tmp_path / "mine.gif"
    mine.write_bytes(b"mine")
    job = tmp_path / "new" / "job"
    with pytest.raises(OutputError, match="already exists; pass --overwrite"):
        api.stylize(clip8, [tmp_path / "a" / "ok.gif", mine], job_dir=job, **LOOK)
    with pytest.raises(OutputError, match="is the source"):
        api.stylize(clip8, str(clip8), job_dir=job, **LOOK)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        api.stylize(clip8, tmp_path / "file" / "x.gif", job_dir=job, **LOOK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine.gif"]  # no job folder, no output folder
    assert mine.read_bytes() == b"mine"


def test_a_missing_source_fails_before_a_job_folder_or_a_model(clip8, tmp_path):
    """The source is checked first: no job folder, no model load (the default model is a hub id this machine
    cannot reach, whose error would otherwise come first) — and a job whose source frames are stored resumes
    with the source gone."""
    from rotoscope.errors import InputError

    for missing, says in ((tmp_path / "nope.mp4", "does not exist"), (tmp_path, "holds no images")):
        with pytest.raises(InputError, match=says):
            api.stylize(missing, tmp_path / "out.gif", job_dir=tmp_path / "job", prompt="x")
    assert list(tmp_path.iterdir()) == []
    moved = tmp_path / "clip.mp4"
    shutil.copy(clip8, moved)
    api.stylize(moved, tmp_path / "out.gif", job_dir=tmp_path / "job", **LOOK)
    moved.unlink()
    again = api.stylize(moved, tmp_path / "out.gif", job_dir=tmp_path / "job", **LOOK)
    assert again.frames_computed == 0 and again.frames_resumed == again.frames_total


def test_a_redo_checks_its_outputs_before_touching_a_frame(clip8, tmp_path):
    job = tmp_path / "job"
    api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    before = digests(job / "frames")
    mine = tmp_path / "mine.gif"
    mine.write_bytes(b"mine")
    with pytest.raises(OutputError, match="already exists"):
        api.stylize(clip8, mine, job_dir=job, frames="2-3", model="classic:pencil", seed=4)
    assert digests(job / "frames") == before


def test_the_same_fixup_twice_gives_the_same_frames(clip8, tmp_path):
    job, gif = tmp_path / "job", tmp_path / "out.gif"
    api.stylize(clip8, gif, job_dir=job, **LOOK)
    plain = digests(job / "frames")
    fix = dict(model="classic:pencil", seed=4, frames="2-3", mask_rect=["0,0,32,48"], mask_blur=0)
    api.stylize(clip8, gif, job_dir=job, **fix)
    once = digests(job / "frames")
    assert [n for n in once if once[n] != plain[n]] == ["00002.png", "00003.png"]
    api.stylize(clip8, gif, job_dir=job, **fix)
    assert digests(job / "frames") == once  # from the kept pictures, not over its own result
    redone = record(job)["redone"]
    assert set(redone) == {"2", "3"} and redone["2"]["kind"] == "fix-up" and redone["2"]["model"] == "classic:pencil"
    # another fix-up stacks on the fixed frame
    api.stylize(clip8, gif, job_dir=job, **{**fix, "mask_rect": ["32,0,32,48"]})
    stacked = digests(job / "frames")
    assert stacked["00002.png"] != once["00002.png"]
    assert stacked["00002.png"] != plain["00002.png"]


# -- 18: a redo keeps every output of the job in step --------------------------------------------------


def test_a_redo_reencodes_every_output_and_records_the_redone_frames(clip8, tmp_path):
    job, gif, mp4 = tmp_path / "job", tmp_path / "out.gif", tmp_path / "out.mp4"
    api.stylize(clip8, [gif, mp4], job_dir=job, colors=4, **LOOK)
    gif_before = gif.read_bytes()
    outputs = {Path(o["path"]).name: o["options"] for o in record(job)["outputs"]}
    assert set(outputs) == {"out.gif", "out.mp4"} and outputs["out.gif"]["colors"] == 4

    api.stylize(clip8, mp4, job_dir=job, frames="2-3", model="classic:pencil", seed=4, prompt="pencil")
    assert gif.read_bytes() != gif_before  # the GIF was not on this command, and is in step all the same
    frames, _, _ = clips.gif_frames(gif)
    assert len(frames) == 8
    assert len(np.unique(frames[3].reshape(-1, 4), axis=0)) <= 4  # re-encoded with the settings it was made with
    with Image.open(gif) as image:
        comment = image.info["comment"].decode()
    assert comment.startswith("\n")  # the job's own (empty) prompt, not the redo's
    assert "Model: \"classic:cartoon\"" in comment and "Redone frames: 2-3 (see job.json)" in comment
    data = record(job)
    assert data["spec"]["model"]["model"] == "classic:cartoon"  # the job's own settings stay
    assert data["redone"]["3"]["prompt"] == "pencil" and data["redone"]["3"]["seed"] == 4
    assert "Model: \"classic:pencil\"" in Image.open(job / "frames" / "00003.png").info["parameters"]
    # the first command resumes the job as before
    assert api.stylize(clip8, [gif, mp4], job_dir=job, colors=4, **LOOK).frames_computed == 0
    # redone with the job's own settings, a frame leaves the list
    api.stylize(clip8, gif, job_dir=job, frames="2", **LOOK)
    assert set(record(job)["redone"]) == {"3"}


# -- resume trusts only whole frame files --------------------------------------------------------------


def test_empty_or_unreadable_frames_are_computed_again(clip8, tmp_path, caplog):
    job = tmp_path / "job"
    api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    good = digests(job / "frames")
    (job / "frames" / "00003.png").write_bytes(b"")  # renamed into place, data lost in a power cut
    (job / "frames" / "00005.png").write_bytes(bytes(300))
    result = api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    assert (result.frames_computed, result.frames_resumed) == (2, 6)
    assert digests(job / "frames") == good
    assert "frame(s) 3, 5 were empty or unreadable" in caplog.text


def test_an_unreadable_source_frame_is_decoded_again(clip8, tmp_path):
    job = tmp_path / "job"
    api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    source = digests(job / "source")
    (job / "source" / "00002.png").write_bytes(b"")
    JobDir(job).clear_outputs([2])
    assert api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK).frames_computed == 1
    assert digests(job / "source") == source


def test_a_job_folder_copied_with_its_frames_is_its_own(clip8, tmp_path):
    """A job made by rotoscope and copied elsewhere still resumes (job.json travels with it)."""
    job = tmp_path / "job"
    api.stylize(clip8, tmp_path / "out.gif", job_dir=job, **LOOK)
    shutil.copytree(job, tmp_path / "copy")
    assert api.stylize(clip8, tmp_path / "out2.gif", job_dir=tmp_path / "copy", **LOOK).frames_computed == 0


def test_redone_frames_in_the_infotext_are_ranges_the_reader_skips():
    from rotoscope.jobs.infotext import apply_infotext, format_infotext, parse_infotext, with_redone
    from rotoscope.jobs.spec import JobSpec

    base = format_infotext(JobSpec(source="x.mp4"), seed=1, size=(64, 48))
    text = with_redone(base, [2, 3, 4, 7])
    assert text == base + ', Redone frames: "2-4,7 (see job.json)"'
    assert parse_infotext(text)[2]["Redone frames"] == "2-4,7 (see job.json)"
    assert apply_infotext(JobSpec(source="y.mp4"), text) == apply_infotext(JobSpec(source="y.mp4"), base)  # --from
    assert with_redone(base, []) == base
