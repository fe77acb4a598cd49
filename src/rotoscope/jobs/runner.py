"""Running a job: extract source frames, stylise what is not finished, encode the outputs.

Every finished frame is on disk before the next starts, so a run that is
killed (even with SIGKILL) resumes where it stopped and recomputes nothing.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import JobError
from ..media.convert import audio_span
from ..media.encode import Outputs, open_writer
from ..media.fit import fit_gif
from ..media.options import output_format
from ..methods import MethodContext, get_method
from ..notices import notice
from ..progress import NullProgress, Progress, check_cancel
from ..stylize.factory import build_stylizer
from ..stylize.options import MAX_SEED
from ..stylize.resize import processing_size
from .frames import parse_frame_range
from .infotext import format_infotext
from .spec import JobSpec
from .store import JobDir

JOBS_ROOT = Path("jobs")


@dataclass
class RunResult:
    job_dir: Path
    outputs: list[Path]
    seed: int
    frames_total: int
    frames_computed: int
    frames_resumed: int
    infotext: str


def default_job_dir(spec: JobSpec, root: Path = JOBS_ROOT) -> Path:
    """Same source and look → same job dir, so running the same command again resumes."""
    stem = Path(spec.source.rstrip("/")).stem or "job"
    return root / f"{stem}-{spec.look_key()}"


def _reconcile(job: JobDir, spec: JobSpec, redo: bool, overwrite: bool) -> JobSpec:
    """Settle the spec the job runs with: a resumed job keeps its drawn seed; a changed look needs --frames or --overwrite."""
    if job.exists():
        recorded = job.read_spec()
        if recorded.frames_key() != spec.frames_key():
            if not overwrite:
                raise JobError(f"job {job.path} was made from other source frames (source or media options differ); use another --job, or --overwrite to start it again.")
            job.clear_outputs()
            _clear_source(job)
        elif spec.style.seed == -1:
            spec = replace(spec, style=replace(spec.style, seed=recorded.style.seed))
        if replace(recorded, output=spec.output).look_key() != spec.look_key() and not redo:
            if not overwrite:
                raise JobError(f"job {job.path} was made with other settings; add --frames to redo some frames with the new ones, --overwrite to redo all, or use another --job.")
            job.clear_outputs()
    if spec.style.seed == -1:
        seed = random.randint(0, MAX_SEED)
        notice(f"seed drawn: {seed} (pass --seed {seed} to get this look again)")
        spec = replace(spec, style=replace(spec.style, seed=seed))
    job.write_spec(spec)
    return spec


def _clear_source(job: JobDir) -> None:
    for path in job.source_dir.glob("*"):
        path.unlink()


def run_job(spec: JobSpec, *, job_dir: Path | None = None, frames: str | None = None, overwrite: bool = False,
            progress: Progress | None = None, cancel: threading.Event | None = None) -> RunResult:
    spec.validate()
    progress = progress or NullProgress()
    job = JobDir(job_dir or default_job_dir(spec))
    with job.lock():
        spec = _reconcile(job, spec, redo=frames is not None, overwrite=overwrite)
        # Load the model before decoding (a missing or unreachable model fails
        # in seconds, not after the clip is cut), unless the job is already finished.
        stylizer = None if _finished(job, frames) else build_stylizer(spec.model, spec.style)
        progress.start("decode", None)
        timeline = job.extract(spec, on_frame=lambda _: progress.advance())
        progress.finish()
        if frames is not None:
            job.clear_outputs(parse_frame_range(frames, len(timeline)))
        todo = [i for i in range(len(timeline)) if not job.is_done(i)]
        first = job.source_image(0)
        size = _output_size(spec, first.shape[1], first.shape[0])
        infotext = format_infotext(spec, seed=spec.style.seed, size=size)
        if todo:
            stylizer = stylizer or build_stylizer(spec.model, spec.style)
            context = MethodContext(stylizer, spec.style, spec.style.seed, previous=job.output_image)
            progress.start("stylize", len(todo))
            sources = (job.source_frame(i, timeline[i]) for i in todo)
            tick = time.perf_counter()
            for frame in get_method(spec.method).run(sources, context):
                now = time.perf_counter()
                job.save_output(frame.index, frame.image, infotext, now - tick)
                tick = now
                progress.advance()
                check_cancel(cancel)
            progress.finish()
        outputs = _encode(job, spec, timeline, infotext, progress)
    return RunResult(job.path, outputs, spec.style.seed, len(timeline), len(todo), len(timeline) - len(todo), infotext)


def _finished(job: JobDir, frames: str | None) -> bool:
    timeline = job.timeline()
    return frames is None and timeline is not None and all(job.is_done(i) for i in range(len(timeline)))


def _output_size(spec: JobSpec, width: int, height: int) -> tuple[int, int]:
    from ..stylize.factory import is_classic

    if is_classic(spec.model.model):
        return width, height
    return processing_size(width, height, spec.style.width, spec.style.height)


def _encode(job: JobDir, spec: JobSpec, timeline, infotext: str, progress: Progress) -> list[Path]:
    """Encode every output from the finished frames; outputs this job wrote before may be replaced."""
    output = spec.output
    paths = output.outputs or [str(job.path / "output.gif")]
    owned = set(_owned_outputs(job))
    end = timeline[-1].time + timeline[-1].duration
    span = audio_span(spec.source, spec.media, end) if any(output_format(p) == "mp4" for p in paths) else None
    fitted = [p for p in paths if output.max_size and output_format(p) == "gif"]
    direct = [p for p in paths if p not in fitted]
    def options_for(p: str):
        return replace(output, overwrite=output.overwrite or str(Path(p).resolve()) in owned)

    writers = [open_writer(p, options_for(p), comment=infotext, audio=span) for p in direct]
    progress.start("encode", len(timeline))
    with Outputs(writers) as outs:
        for frame in job.output_frames(timeline):
            outs.write(frame)
            progress.advance()
        written = outs.close() if writers else []
    for p in fitted:
        fit_gif(lambda: job.output_frames(timeline), Path(p), options_for(p), comment=infotext)
        written.append(Path(p))
    progress.finish()
    _record_outputs(job, written)
    return written


def _owned_outputs(job: JobDir) -> list[str]:
    path = job.path / "outputs.txt"
    return path.read_text().split("\n") if path.exists() else []


def _record_outputs(job: JobDir, written: list[Path]) -> None:
    from ..media.atomic import write_bytes_atomic

    known = set(_owned_outputs(job)) | {str(p.resolve()) for p in written}
    write_bytes_atomic(job.path / "outputs.txt", "\n".join(sorted(k for k in known if k)).encode())
