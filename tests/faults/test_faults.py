"""Nothing lost, nothing leaked: disk full, a read-only target, SIGKILL / SIGTERM at random points, for
every output kind (GIF, MP4, WebP, APNG, PNG folder) and the job store. After each fault: exit 2 with
one line (or the kill), no temp file anywhere once the next run is done, the identical command then
succeeds, finished frames and the source are untouched (digests). Helpers: conftest.py."""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rotoscope.cli import app
from tests.faults.conftest import (FRAMES, KINDS, assert_one_line_error, digest, digests, frame_count, in_process,
                                   kill_when, on_small_disk, read_only_prefix, rotoscope, start, temps)

ALL_OUTPUTS = [arg for name in KINDS.values() for arg in ("-o", f"out/{name}")]
CLASSIC = ["--model", "classic:cartoon", "--seed", "3"]


def out_path(root: Path, kind: str) -> Path:
    return root / "out" / KINDS[kind].rstrip("/")


# -- disk full ---------------------------------------------------------------------------------------


def test_disk_full_each_kind_removes_its_temps_and_the_same_command_then_works(small_clip, tmp_path):
    """RLIMIT_FSIZE 500 bytes: every write past it fails with EFBIG, as on a full disk. For each kind the
    command fails with one line and leaves nothing; the identical command then works."""
    source = digest(small_clip)
    steps = []
    for name in KINDS.values():
        args = ["convert", small_clip, "-o", f"{name.rstrip('/')}-out/{name}", "--overwrite"]
        steps += [{"args": args, "file_limit": 500}, {"args": args}]
    results = in_process(steps, cwd=tmp_path)
    for kind, failed, again in zip(KINDS, results[::2], results[1::2]):
        assert failed["rc"] == 2 and not failed["crashed"], (kind, failed)
        assert_one_line_error(failed["output"], "disk full writing", "run the same command again")
        assert again["rc"] == 0, (kind, again)
        name = KINDS[kind]
        assert frame_count(tmp_path / f"{name.rstrip('/')}-out" / name.rstrip("/")) == FRAMES, kind
    assert temps(tmp_path) == [] and digest(small_clip) == source


@pytest.mark.parametrize("stage, size", [("stylising", "40k"), ("encoding", "100k")])
def test_full_disk_job_and_every_output(small_clip, tmp_path, stage, size):
    """A real full filesystem (tmpfs, ENOSPC) under the job store and all five outputs: the run stops with
    one line while stylising (the job's frames fill the disk) or while encoding (the outputs do); once
    space is freed the same command finishes, keeping every frame finished before."""
    if os.sysconf("SC_PAGE_SIZE") != 4096:
        pytest.skip("the disk sizes below count 4 KB tmpfs pages")
    source = digest(small_clip)
    disk = tmp_path / "disk"
    outputs = [arg.replace("out/", "disk/") for arg in ALL_OUTPUTS]
    failed, again = on_small_disk(disk, size, "16m", "run", small_clip, *CLASSIC, "--job", "disk/job", *outputs,
                                  cwd=tmp_path)
    assert failed["rc"] == 2, failed["stderr"]
    assert_one_line_error(failed["stderr"], "disk full writing", "run the same command again")
    stale = [name for name in failed["files"] if name.split("/")[-1].startswith(".") and "part" in name]
    assert stale == [], stale  # every writer removed its temps on the way out
    finished = {k: v for k, v in failed["files"].items() if k.startswith("job/frames/") and k.endswith(".png")}
    if stage == "stylising":
        assert len(finished) < FRAMES
    else:
        assert len(finished) == FRAMES
    assert again["rc"] == 0, again["stderr"]
    assert [n for n in again["files"] if n.split("/")[-1].startswith(".") and "part" in n] == []
    assert all(again["files"][name] == sha for name, sha in finished.items())  # finished frames untouched
    assert sum(n.startswith("job/frames/") and n.endswith(".png") for n in again["files"]) == FRAMES
    assert {n for n in again["files"] if n.startswith("x.") or n.startswith("frames/0")} >= {
        "x.gif", "x.mp4", "x.webp", "x.apng", "frames/00007.png"}
    assert digest(small_clip) == source


# -- read-only -----------------------------------------------------------------------------------------


def test_read_only_target_is_one_line_naming_the_folder(small_clip, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    results = in_process([{"args": ["convert", small_clip, "-o", f"ro/{name}"]} for name in KINDS.values()],
                         cwd=tmp_path, prefix=read_only_prefix(ro))
    for kind, failed in zip(KINDS, results):
        assert failed["rc"] == 2 and not failed["crashed"], (kind, failed)
        assert_one_line_error(failed["output"], "ro", "read-only" if os.geteuid() == 0 else "not writable")
    assert list(ro.iterdir()) == []


def test_job_on_a_read_only_filesystem_is_one_line_then_the_same_command_works(small_clip, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    args = ["run", small_clip, *CLASSIC, "--job", "ro/job", "-o", "out/x.gif"]
    failed = rotoscope(*args, cwd=tmp_path, prefix=read_only_prefix(ro))
    assert failed.returncode == 2, failed.stderr
    line = assert_one_line_error(failed.stderr, "ro/job", "--job")
    assert "read-only" in line or "permission denied" in line or "not writable" in line
    assert list(ro.iterdir()) == [] and not (tmp_path / "out" / "x.gif").exists()
    ro.chmod(0o755)
    again = rotoscope(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert frame_count(tmp_path / "out" / "x.gif") == FRAMES and temps(tmp_path) == []


# -- SIGKILL at random points ----------------------------------------------------------------------------


def test_sigkill_while_stylising_then_while_encoding(long_clip, tmp_path):
    """All five outputs and the job store (a weight-free look, 40 frames: quick enough for a test, slow
    enough to be killed midway): killed after a random number of frames, then (the job finished) killed
    at a random point while the outputs are encoded. Each time the identical command finishes the job,
    recomputes no finished frame, and leaves no temp; the outputs are whole at every moment."""
    rng = random.Random(17)
    source = digest(long_clip)
    job = tmp_path / "job"
    total = 40
    args = ["run", long_clip, "--model", "classic:watercolor", "--seed", "3", "--job", "job", *ALL_OUTPUTS]
    log = job / "log.jsonl"
    after = rng.randint(3, total - 10)
    proc = start(*args, cwd=tmp_path, stderr_path=tmp_path / "killed.txt")
    assert kill_when(proc, lambda: log.exists() and len(log.read_text().splitlines()) >= after, rng.uniform(0, 0.03))
    done = digests(job / "frames")
    assert 1 <= len(done) < total, "killed while stylising"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # outputs appear only when complete
    again = rotoscope(*args, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["resumed"] >= len(done)
    frames = digests(job / "frames")
    assert len(frames) == total and all(frames[n] == d for n, d in done.items())
    assert temps(tmp_path) == []
    outputs = {kind: frame_count(out_path(tmp_path, kind)) for kind in KINDS}
    assert outputs == dict.fromkeys(KINDS, total)
    files = {p: digest(p) for p in (tmp_path / "out").rglob("*") if p.is_file()}

    # encoding only now (every frame is finished): killed once a writer has opened its temp
    proc = start(*args, cwd=tmp_path, stderr_path=tmp_path / "killed2.txt")
    kill_when(proc, lambda: temps(tmp_path / "out") != [], rng.uniform(0, 0.02))
    for path, sha in files.items():  # each output is whole: the old one (or the new, identical one)
        assert not path.exists() or digest(path) == sha
    for kind in ("gif", "mp4", "webp", "apng"):
        assert out_path(tmp_path, kind).exists()
    again = rotoscope(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert temps(tmp_path) == []
    assert {p: digest(p) for p in (tmp_path / "out").rglob("*") if p.is_file()} == files
    assert digests(job / "frames") == frames and digest(long_clip) == source


def test_sigkill_while_encoding_each_kind(long_clip, tmp_path):
    """Each kind killed at a seeded random point after its writer opened its temp (spool, .part file, temp
    folder); then the identical commands (run in one process, for speed) all work and leave no temp."""
    rng = random.Random(23)
    source = digest(long_clip)
    commands = {kind: ["convert", long_clip, "-o", f"out/{name}", "--overwrite"] for kind, name in KINDS.items()}
    left = []
    for kind, args in commands.items():
        proc = start(*args, cwd=tmp_path, stderr_path=tmp_path / f"killed-{kind}.txt")
        landed = kill_when(proc, lambda: (tmp_path / "out").exists() and temps(tmp_path / "out") != [],
                           rng.uniform(0, 0.3))
        if landed and out_path(tmp_path, kind).exists():  # killed after the rename: the output is whole
            assert frame_count(out_path(tmp_path, kind)) == 40
        left += temps(tmp_path)
    assert left, "no kill landed while a temp was open"
    for kind, again in zip(KINDS, in_process([{"args": args} for args in commands.values()], cwd=tmp_path)):
        assert again["rc"] == 0, (kind, again)  # not "already holds PNG frames", no stale temp in the way
        assert frame_count(out_path(tmp_path, kind)) == 40
    assert temps(tmp_path) == [] and digest(long_clip) == source


def test_killed_between_two_outputs_the_same_command_finishes(small_clip, tmp_path):
    """x.gif is renamed into place, then the run is killed while --max-size fits y.gif: the job already
    owns x.gif, so the identical command replaces it instead of refusing ("already exists")."""
    args = ["run", small_clip, *CLASSIC, "--job", "job", "-o", "out/x.gif", "-o", "out/y.gif", "--max-size", "1MB"]
    fitting = lambda: any(p.name.startswith((".y.", "..y.")) for p in (tmp_path / "out").glob(".*")) \
        if (tmp_path / "out").exists() else False
    proc = start(*args, cwd=tmp_path, stderr_path=tmp_path / "killed.txt")
    kill_when(proc, fitting, 0)
    again = rotoscope(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert frame_count(tmp_path / "out" / "x.gif") == FRAMES and frame_count(tmp_path / "out" / "y.gif") == FRAMES
    assert temps(tmp_path) == []


def test_sigterm_is_a_clean_stop(long_clip, tmp_path):
    """SIGTERM is Ctrl-C: one line saying how to resume, exit 143, temps removed on the way out."""
    args = ["convert", long_clip, *[a for a in ALL_OUTPUTS], "--overwrite"]
    proc = start(*args, cwd=tmp_path, stderr_path=tmp_path / "stderr.txt")
    assert kill_when(proc, lambda: (tmp_path / "out").exists() and temps(tmp_path / "out") != [], 0.05, signal.SIGTERM)
    stderr = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr and "stopped;" in stderr and "run the same command again" in stderr
    assert temps(tmp_path) == []
    again = rotoscope(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert temps(tmp_path) == []


# -- outputs are checked before anything is opened -------------------------------------------------------


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def one_line(result, *words):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return assert_one_line_error(result.output, *words)


@pytest.mark.parametrize("same", ["src.mp4", "./x/../src.mp4", "hard.mp4"])
def test_the_source_is_never_an_output(small_clip, cli, tmp_path, same):
    source = tmp_path / "src.mp4"
    source.write_bytes(small_clip.read_bytes())
    os.link(source, tmp_path / "hard.mp4")
    before = digest(source)
    one_line(cli("convert", "src.mp4", "-o", same, "--overwrite"), "is the source", "choose another -o")
    one_line(cli("run", "src.mp4", *CLASSIC, "--job", "job", "-o", same, "--overwrite"), "is the source")
    assert digest(source) == before and not (tmp_path / "job").exists()


def test_a_png_folder_source_is_never_its_output(small_clip, cli, tmp_path):
    assert cli("convert", small_clip, "-o", "frames/").exit_code == 0
    before = digests(tmp_path / "frames")
    one_line(cli("convert", "frames/", "-o", "frames/", "--overwrite"), "is the source")
    one_line(cli("convert", "frames/*.png", "-o", "./frames/", "--overwrite"), "is the source")
    one_line(cli("preview", "frames/00000.png", *CLASSIC, "--seeds", "1", "-o", "frames/00000.png"), "is the source")
    assert digests(tmp_path / "frames") == before


def test_a_later_output_failing_its_check_leaks_nothing(small_clip, cli, tmp_path):
    (tmp_path / "mine.mp4").write_bytes(b"the user's file")
    one_line(cli("convert", small_clip, "-o", "a.gif", "-o", "mine.mp4"), "mine.mp4 already exists")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.mp4"]  # no spool, no a.gif


@pytest.mark.parametrize("target, words", [("d.gif", "is a folder"), ("/", "would replace"), ("~/", "would replace"),
                                           ("./", "would replace"), ("other/", "did not write")])
def test_folder_outputs_must_be_new_empty_or_ours(small_clip, cli, tmp_path, target, words):
    (tmp_path / "d.gif").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    one_line(cli("convert", small_clip, "-o", target, "--overwrite"), words)
    assert list((tmp_path / "d.gif").iterdir()) == [] and (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_a_png_folder_is_replaced_whole(small_clip, cli, tmp_path):
    assert cli("convert", small_clip, "-o", "frames/").exit_code == 0
    assert len(digests(tmp_path / "frames")) == FRAMES
    one_line(cli("convert", small_clip, "-o", "frames/"), "already holds PNG frames; pass --overwrite")
    assert cli("convert", small_clip, "--max-frames", "3", "-o", "frames/", "--overwrite").exit_code == 0
    assert sorted(digests(tmp_path / "frames")) == ["00000.png", "00001.png", "00002.png"]  # no old frame 3..7
    assert temps(tmp_path) == []


def test_a_live_writers_temp_is_not_taken_for_a_stale_one(tmp_path):
    """Fixed temp names are safe: a writer holds a lock on its temp; cleaning up skips it, a second
    writer for the same target is refused."""
    from rotoscope.core.frames import Frame
    from rotoscope.errors import OutputError
    from rotoscope.media.atomic import clear_stale
    from rotoscope.media.gif import GifWriter
    from tests import clips

    frame = Frame(0, 0.0, 0.1, clips.picture(0, (32, 24)))
    first = GifWriter(tmp_path / "x.gif")
    first.write(frame)
    clear_stale(tmp_path / "x.gif")
    assert first.spool_path.exists()
    second = GifWriter(tmp_path / "x.gif")
    with pytest.raises(OutputError, match="another rotoscope process is writing"):
        second.write(frame)
    assert first.spool_path.exists()
    first.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gif"]
