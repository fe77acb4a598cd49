"""The runner follows the methods' declared capabilities, and reports what a run did in words people read."""

from __future__ import annotations

import re
from pathlib import Path

from rotoscope.jobs.runner import run_job
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.store import JobDir
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.methods.catalog import METHOD_NAMES
from rotoscope.methods.keys import KeyOptions
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.options import StyleOptions

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"
JOBS = Path(__file__).resolve().parents[2] / "src" / "rotoscope" / "jobs"


class RecordedProgress:
    """A Progress that keeps what a run reported: [stage, total, advanced] per stage, in order."""

    def __init__(self) -> None:
        self.stages: list[list] = []

    def start(self, stage: str, total: int | None) -> None:
        self.stages.append([stage, total, 0])

    def advance(self, count: int = 1) -> None:
        self.stages[-1][2] += count

    def finish(self) -> None:
        pass

    def stage(self, name: str) -> list | None:
        return next((s for s in self.stages if s[0] == name), None)


def classic(tmp_path: Path, method: str = "gif2gif", frames: int = 12, **fields) -> JobSpec:
    return JobSpec(source=str(SAMPLE), method=method, media=MediaOptions(fps=10, width=96, max_frames=frames),
                   model=ModelOptions(model="classic:watercolor"), style=StyleOptions(seed=5),
                   output=OutputOptions(outputs=[str(tmp_path / "out.gif")]), **fields)


def test_a_resumed_run_shows_no_empty_decode_stage(tmp_path):
    job = tmp_path / "job"
    first = RecordedProgress()
    run_job(classic(tmp_path), job_dir=job, progress=first)
    assert first.stage("decode")[2] == 12  # every frame decoded is counted
    again = RecordedProgress()
    run_job(classic(tmp_path), job_dir=job, progress=again)
    assert again.stage("decode") is None  # the frames are on disk: nothing to decode, no "decoding 0/0"
    assert again.stage("stylize") is None and again.stage("encode")[2] == 12


def test_the_summary_counts_in_words(tmp_path):
    job = tmp_path / "job"
    whole = run_job(classic(tmp_path), job_dir=job)
    assert whole.summary() == "12 frames stylised, 0 resumed, seed 5"
    assert (whole.keys_generated, whole.frames_propagated) == (None, None)  # gif2gif has no keys
    JobDir(job).clear_outputs([3])
    one = run_job(classic(tmp_path), job_dir=job)
    assert one.summary() == "1 frame stylised, 11 resumed, seed 5"


def test_keyframe_runs_count_keys_generated_and_frames_propagated(tmp_path):
    job = tmp_path / "job"
    spec = classic(tmp_path, "keyframes", keys=KeyOptions(keys="every:4", plate="1x1"))
    first = run_job(spec, job_dir=job)
    assert (first.frames_computed, first.keys_generated, first.frames_propagated) == (12, 3, 9)  # keys 0, 4, 8
    assert first.summary() == "12 frames stylised (3 keys generated, 9 propagated), 0 resumed, seed 5"
    redo = run_job(spec, job_dir=job, frames="4")  # a key: the frames carried from it (1-3, 5-7) follow
    assert (redo.frames_computed, redo.keys_generated, redo.frames_propagated) == (7, 1, 6)
    assert redo.summary().startswith("7 frames stylised (1 key generated, 6 propagated), 5 resumed")
    between = run_job(spec, job_dir=job, frames="9")  # no key: only that frame is carried again
    assert (between.frames_computed, between.keys_generated, between.frames_propagated) == (1, 0, 1)
    done = run_job(spec, job_dir=job)
    assert (done.frames_computed, done.keys_generated, done.frames_propagated) == (0, 0, 0)


def test_the_job_layer_never_tests_a_method_name():
    """What differs between methods is read from their capabilities (methods/catalog.py), not their names."""
    quoted = re.compile("[\"'](" + "|".join(METHOD_NAMES) + ")[\"']")
    for name in ("runner.py", "store.py", "frames.py", "fixup.py", "preview.py", "keys.py"):
        assert not quoted.findall((JOBS / name).read_text()), name
