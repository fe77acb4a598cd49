"""The job store: resume after SIGKILL, --frames redo, settings checks, output protection."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.errors import JobError
from rotoscope.jobs.runner import run_job
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.store import JobDir
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.options import StyleOptions
from tests.frames import frame_digests as digests

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"


def spec_for(tmp_path: Path, **style) -> JobSpec:
    return JobSpec(
        source=str(SAMPLE),
        media=MediaOptions(duration=2, fps=10, width=160),
        model=ModelOptions(model="classic:watercolor"),
        style=StyleOptions(seed=5, **style),
        output=OutputOptions(outputs=[str(tmp_path / "out.gif")]),
    )




def test_second_run_resumes_everything(tmp_path):
    job = tmp_path / "job"
    first = run_job(spec_for(tmp_path), job_dir=job)
    assert (first.frames_total, first.frames_computed) == (20, 20)
    second = run_job(spec_for(tmp_path), job_dir=job)
    assert (second.frames_computed, second.frames_resumed) == (0, 20)
    assert JobDir(job).computed_count() == 20
    recorded = json.loads((job / "job.json").read_text())
    assert set(recorded["versions"]) == {"rotoscope", "torch", "diffusers", "av"}


def test_sigkill_then_rerun_recomputes_no_finished_frame(tmp_path):
    job = tmp_path / "job"
    # Full-size watercolor frames take long enough to kill the run midway.
    args = [sys.executable, "-m", "rotoscope.cli", "run", str(SAMPLE), "--model", "classic:watercolor", "--seed", "3",
            "--duration", "4", "--fps", "10", "--job", str(job), "-o", str(tmp_path / "out.gif")]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = job / "log.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 5):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted((job / "frames").glob("[0-9]*.png"))
    assert 5 <= len(finished) < 40, "the run should have been killed midway"
    assert not (tmp_path / "out.gif").exists()
    before = digests(job / "frames")
    done_before = JobDir(job).computed_count()
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # Every frame computed exactly once across both runs: nothing finished was redone.
    computed = [json.loads(line)["frame"] for line in log.read_text().splitlines()]
    assert sorted(computed) == list(range(40))
    assert JobDir(job).computed_count() - done_before == 40 - len(before)
    after = digests(job / "frames")
    assert all(after[name] == digest for name, digest in before.items())
    assert "40 frames" not in result.stdout and f"{len(before)} resumed" in result.stdout
    assert (tmp_path / "out.gif").exists()


def test_frames_redo_changes_only_those(tmp_path):
    job = tmp_path / "job"
    run_job(spec_for(tmp_path), job_dir=job)
    before = digests(job / "frames")
    changed = spec_for(tmp_path)
    changed.model.model = "classic:pencil"
    result = run_job(changed, job_dir=job, frames="12-18")
    assert result.frames_computed == 7
    after = digests(job / "frames")
    redone = {f"{i:05d}.png" for i in range(12, 19)}
    for name, digest in before.items():
        if name in redone:
            assert after[name] != digest
        else:
            assert after[name] == digest


def test_changed_settings_need_frames_or_overwrite(tmp_path):
    job = tmp_path / "job"
    run_job(spec_for(tmp_path), job_dir=job)
    with pytest.raises(JobError, match="other settings"):
        run_job(spec_for(tmp_path, strength=0.2), job_dir=job)
    result = run_job(spec_for(tmp_path, strength=0.2), job_dir=job, overwrite=True)
    assert result.frames_computed == 20


def test_user_file_is_not_overwritten(tmp_path):
    target = tmp_path / "out.gif"
    target.write_bytes(b"mine")
    result = CliRunner().invoke(app, ["run", str(SAMPLE), "--model", "classic:oil", "--duration", "0.5",
                                      "--job", str(tmp_path / "job"), "-o", str(target)])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--overwrite" in result.output
    assert target.read_bytes() == b"mine"


def test_seed_minus_one_is_drawn_once_and_kept(tmp_path):
    job = tmp_path / "job"
    first = run_job(spec_for(tmp_path), job_dir=job)
    assert first.seed == 5
    spec = spec_for(tmp_path)
    spec.style.seed = -1
    spec.output.outputs = [str(tmp_path / "drawn.gif")]
    drawn = run_job(spec, job_dir=tmp_path / "job2")
    assert 0 <= drawn.seed < 2**32
    again = run_job(spec, job_dir=tmp_path / "job2")
    assert again.seed == drawn.seed and again.frames_computed == 0


def test_png_folder_output_copies_the_finished_frames(tmp_path):
    """-o frames/ takes the job's PNGs byte for byte (infotext included), with no second encode."""
    from dataclasses import replace

    from rotoscope.consistency.options import ConsistencyOptions

    from rotoscope.media.encode import save_png

    spec = replace(spec_for(tmp_path), output=OutputOptions(outputs=[f"{tmp_path / 'frames'}/"]))
    run_job(spec, job_dir=tmp_path / "job")
    assert digests(tmp_path / "frames") == digests(tmp_path / "job" / "frames")
    assert len(digests(tmp_path / "frames")) == 20
    # A frame stored with its own infotext (as a redo with other settings leaves it) keeps it in the output.
    stored = tmp_path / "job" / "frames" / "00003.png"
    save_png(stored, JobDir(tmp_path / "job").output_image(3), "made with other settings")
    run_job(spec, job_dir=tmp_path / "job")
    assert (tmp_path / "frames" / "00003.png").read_bytes() == stored.read_bytes()

    # An encode-stage filter changes the pictures: those outputs are encoded, not copied.
    filtered = replace(spec, consistency=ConsistencyOptions(techniques=["deflicker"], deflicker_strength=0.7),
                       output=OutputOptions(outputs=[f"{tmp_path / 'filtered'}/"]))
    run_job(filtered, job_dir=tmp_path / "job2")
    from PIL import Image

    with Image.open(tmp_path / "filtered" / "00005.png") as out, Image.open(tmp_path / "job2" / "frames" / "00005.png") as kept:
        assert "Seed: 5" in out.info["parameters"]
        assert not np.array_equal(np.asarray(out), np.asarray(kept))
