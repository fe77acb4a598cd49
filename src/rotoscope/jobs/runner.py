"""Running a job: extract source frames, stylise what is not finished, encode the outputs.

Every finished frame is on disk before the next starts, so a run that is
killed (even with SIGKILL) resumes where it stopped and recomputes nothing.
What differs between methods (their timeline, the source frames they read,
what a redo takes in, what the job prepares for them) comes from their
declared capabilities (methods/catalog.py); nothing here tests a method's name.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..core.frames import Frame
from ..errors import JobError
from ..media.atomic import check_outputs
from ..media.convert import audio_span
from ..media.encode import Outputs, open_writer
from ..media.fit import fit_gif
from ..media.options import OutputOptions, output_format
from ..media.sources import check_source
from ..methods import get_method
from ..methods.base import MethodContext
from ..methods.catalog import Capabilities, Prepares, Redo, Sources, Timeline, capabilities
from ..methods.keys import KeySelection, expand_keys_redo
from ..notices import notice
from ..progress import NullProgress, Progress, check_cancel
from ..stylize.factory import build_stylizer
from ..stylize.options import MAX_SEED
from ..stylize.resize import processing_size
from .checks import check_job_folder, source_change, source_identity
from .fixup import redone_entry, run_fixup, with_mask_fields
from .frames import parse_frame_range
from .infotext import format_infotext, with_redone
from .keys import job_keys
from .shots import job_shots
from .spec import JobSpec
from .store import JobDir, Timing

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
    # methods that stylise keys and propagate them (Prepares.KEYS): of the frames computed, the keys
    # the model made and the frames carried from them along the flow; None for the other methods
    keys_generated: int | None = None
    frames_propagated: int | None = None

    def summary(self) -> str:
        """One line for people, e.g. "1 frame stylised, 19 resumed, seed 5", or for the keyframe methods
        "12 frames stylised (3 keys generated, 9 propagated), 0 resumed, seed 5"."""
        text = f"{_count(self.frames_computed, 'frame')} stylised"
        if self.keys_generated is not None:
            text += f" ({_count(self.keys_generated, 'key')} generated, {self.frames_propagated} propagated)"
        return f"{text}, {self.frames_resumed} resumed, seed {self.seed}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def default_job_dir(spec: JobSpec, root: Path = JOBS_ROOT) -> Path:
    """Same source and look → same job dir, so running the same command again resumes."""
    stem = Path(spec.source.rstrip("/")).stem or "job"
    return root / f"{stem}-{spec.look_key()}"


def _reconcile(job: JobDir, spec: JobSpec, redo: bool, overwrite: bool, identity: dict | None,
               base: JobSpec | None = None) -> JobSpec:
    """Settle the spec the job runs with: a resumed job keeps its drawn seed; a changed look needs --frames or
    --overwrite; a changed source (by content) needs --overwrite. ``base``: the job's own settings, which
    job.json keeps when frames are redone with others (default: ``spec``)."""
    if job.exists():
        record = job.read_record()
        recorded = JobSpec.from_dict(record["spec"])
        if recorded.frames_key() != spec.frames_key():
            if not overwrite:
                raise JobError(f"job {job.path} was made from other source frames (source or media options differ); use another --job, or --overwrite to start it again.")
            job.clear_outputs()
            _clear_source(job)
        else:
            change = source_change(record["source_id"], identity) if record.get("source_id") else None
            if change and (job.timeline() is not None or any(job.frames_dir.glob("*.png"))):
                if not overwrite:
                    raise JobError(f"source {spec.source} changed since job {job.path} was made ({change}); pass "
                                   "--overwrite to start the job again from it, or use a new --job.")
                job.clear_outputs()
                _clear_source(job)
            if spec.style.seed == -1:
                spec = replace(spec, style=replace(spec.style, seed=recorded.style.seed))
        changed = replace(recorded, output=spec.output).look_key() != spec.look_key()
        # A job with no finished frame (e.g. its model failed to load) takes the new settings freely.
        if changed and not redo and any(job.frames_dir.glob("*.png")):
            if not overwrite:
                raise JobError(f"job {job.path} was made with other settings; add --frames to redo some frames with the new ones, --overwrite to redo all, or use another --job.")
            job.clear_outputs()
    if spec.style.seed == -1:
        seed = random.randint(0, MAX_SEED)
        notice(f"seed drawn: {seed} (pass --seed {seed} to get this look again)")
        spec = replace(spec, style=replace(spec.style, seed=seed))
    job.write_spec(base or spec, source_id=identity)
    return spec


def _clear_source(job: JobDir) -> None:
    for path in job.source_dir.glob("*"):
        path.unlink()


def run_job(spec: JobSpec, *, job_dir: Path | None = None, frames: str | None = None, overwrite: bool = False,
            progress: Progress | None = None, cancel: threading.Event | None = None, executor=None) -> RunResult:
    """``executor``: where the frames still to do are stylised (executors/; None = here, one after another)."""
    spec.validate()
    progress = progress or NullProgress()
    caps = capabilities(spec.method)
    method = get_method(spec.method)
    # --frames with a mask is a fix-up (jobs/fixup.py): those frames are inpainted with this command's
    # settings over the job's frames; the job keeps its own recorded settings.
    fix = spec.mask if frames is not None and spec.mask.active else None
    fix_spec = spec
    if fix is not None:
        spec = replace(spec, mask=type(fix)())
    job = JobDir(job_dir or default_job_dir(spec))
    # Every check before any work: a run that fails one creates nothing and prints nothing but its error.
    check_job_folder(job.path, spec.source)
    if spec.source and job.timeline() is None:  # a job with its source frames stored resumes without the source
        check_source(spec.source)
    targets = _targets(job, spec, redo=frames is not None or overwrite)
    check_outputs([p for p, _ in targets], source=spec.source, owned=[_key(p) for p, o in targets if o.overwrite],
                  prepare=False)
    identity = source_identity(spec.source)
    with job.lock():
        base = None  # a redo keeps the job's own settings as its base; the frames it redoes are recorded apart
        if frames is not None and job.exists():
            recorded = job.read_spec()
            if recorded.frames_key() == spec.frames_key():
                base = recorded
                if fix is not None:
                    spec = replace(recorded, output=spec.output)
        spec = _reconcile(job, spec, redo=frames is not None, overwrite=overwrite, identity=identity, base=base)
        base = base or spec
        job.drop_unreadable()  # a frame file cut short (a power cut) counts as missing
        if fix_spec.style.seed == -1:
            fix_spec = replace(fix_spec, style=replace(fix_spec.style, seed=spec.style.seed))
        # Load the model before decoding (a missing or unreachable model fails
        # in seconds, not after the clip is cut), unless the job is already finished.
        stylizer = None if _finished(job, frames, spec) or fix is not None or executor is not None else build_stylizer(
            spec.model, spec.style, spec.mask, method=spec.method, video=spec.video, control=spec.control, cancel=cancel)
        if caps.prepares is Prepares.STILL and not spec.source and job.timeline() is None:
            # no source: txt2img makes the still first, kept as the job's one source frame
            stylizer = stylizer or build_stylizer(spec.model, spec.style, method=spec.method, video=spec.video, cancel=cancel)
            lasts = method_timeline(spec, [Timing(0.0, 1.0)])[0].duration  # one output frame
            job.write_still(method.make_still(stylizer, spec.style), lasts)
        fixer = build_stylizer(fix_spec.model, fix_spec.style, fix, control=fix_spec.control, cancel=cancel) if fix is not None else None
        decoding = job.timeline() is None  # a resumed job has its source frames: no decode stage to show
        if decoding:
            progress.start("decode", None)
        timeline = method_timeline(spec, job.extract(_extract_spec(spec), on_frame=lambda _: progress.advance()))
        if decoding:
            progress.finish()
        redo = parse_frame_range(frames, len(timeline)) if frames is not None else []
        selection: KeySelection | None = None
        if redo and fix is None:
            redo, selection = _expand_redo(caps, redo, job, spec, len(timeline))
            job.clear_outputs(redo)
        skip = set(redo) if fix is not None and fix.inpaint_base == "source" else set()
        todo = [i for i in range(len(timeline)) if not job.is_done(i) and i not in skip]
        first = job.source_image(0)
        size = _output_size(spec, first.shape[1], first.shape[0])
        infotext = with_mask_fields(format_infotext(spec, seed=spec.style.seed, size=size), spec.mask)
        if todo:
            shots = job_shots(job, spec, len(timeline))  # nothing is carried across a cut
            if caps.prepares is Prepares.KEYS and selection is None:
                selection = job_keys(job, len(timeline), spec.keys, shots)
        if todo and executor is not None:  # its workers hold the model and stylise; this process alone writes the store
            executor.stylize(job, spec, todo, timeline, infotext=infotext, progress=progress, cancel=cancel,
                             shots=shots, selection=selection)
            _record_redone(job, base, spec, todo, infotext)
        elif todo:
            stylizer = stylizer or build_stylizer(spec.model, spec.style, spec.mask, method=spec.method, video=spec.video,
                                                  control=spec.control, cancel=cancel)
            context = MethodContext(stylizer, spec.style, spec.style.seed, previous=job.output_image,
                                    consistency=spec.consistency, source=job.source_image, video=spec.video,
                                    count=len(timeline), keys=spec.keys, selection=selection, shots=shots)
            if caps.per_frame and spec.mask.active:
                from ..media.masks import FrameMasks

                context.mask = FrameMasks(spec.mask, len(timeline))
            progress.start("stylize", len(todo))
            tick = time.perf_counter()
            for frame in method.run(_method_frames(job, caps, todo, timeline), context):
                now = time.perf_counter()
                job.save_output(frame.index, frame.image, infotext, now - tick)
                tick = now
                progress.advance()
                check_cancel(cancel)
            progress.finish()
            _record_redone(job, base, spec, todo, infotext)
        if fix is not None:
            run_fixup(job, fix, redo, timeline, stylizer=fixer, seed=fix_spec.style.seed, batch_size=fix_spec.style.batch_size,
                      infotext=format_infotext(fix_spec, seed=fix_spec.style.seed, size=size), progress=progress, cancel=cancel,
                      key=fix_spec.look_key(), spec=fix_spec)
        base_text = with_mask_fields(format_infotext(base, seed=base.style.seed, size=size), base.mask)
        base_text = with_redone(base_text, sorted(int(i) for i in job.redone()))
        outputs = _encode(job, base, timeline, base_text, progress, targets)
    computed = len(set(todo) | set(redo if fix is not None else []))
    keys_generated = frames_propagated = None
    if caps.prepares is Prepares.KEYS:
        keys_generated = len(set(todo) & set(selection.keys)) if selection is not None else 0
        frames_propagated = len(todo) - keys_generated
    return RunResult(job.path, outputs, spec.style.seed, len(timeline), computed, len(timeline) - computed, base_text,
                     keys_generated=keys_generated, frames_propagated=frames_propagated)


def _record_redone(job: JobDir, base: JobSpec, spec: JobSpec, done: list[int], infotext: str) -> None:
    """Frames stylised with other settings than the job's own are listed in job.json ("redone"), with
    those settings; a frame stylised again with the job's own settings leaves the list."""
    redone = job.redone()
    other = spec.look_key() != base.look_key()
    for i in done:
        if other:
            redone[str(i)] = redone_entry(spec, "redo", infotext)
        else:
            redone.pop(str(i), None)
    job.update(redone=redone or None)


def _expand_redo(caps: Capabilities, redo: list[int], job: JobDir, spec: JobSpec,
                 count: int) -> tuple[list[int], KeySelection | None]:
    """The frames ``--frames`` really redoes (and the keys, where choosing them was needed to know)."""
    if caps.redo is Redo.CLIP:
        return list(range(count)), None
    if caps.redo is Redo.KEY_SEGMENT:  # frames carried from a redone key follow it
        selection = job_keys(job, count, spec.keys, job_shots(job, spec, count))
        return expand_keys_redo(redo, count, selection.keys, selection.cuts), selection
    return redo, None


def _method_frames(job: JobDir, caps: Capabilities, todo: list[int], timeline: list[Timing]) -> Iterator[Frame]:
    """The frames still to do as the method takes them: with their source pictures (Sources.TODO), or
    only their index and timing (the method reads what it needs through the context)."""
    for i in todo:
        timing = timeline[i]
        if caps.sources is Sources.TODO:
            yield job.source_frame(i, timing)
        else:
            yield Frame(i, timing.time, timing.duration, _NO_PICTURE)


_NO_PICTURE = np.empty((0, 0, 3), np.uint8)


def _finished(job: JobDir, frames: str | None, spec: JobSpec | None = None) -> bool:
    timeline = job.timeline()
    if timeline is not None and spec is not None:
        timeline = method_timeline(spec, timeline)
    return frames is None and timeline is not None and all(job.is_done(i) for i in range(len(timeline)))


def method_timeline(spec: JobSpec, timeline: list[Timing]) -> list[Timing]:
    """The output frames' timing: the source's, unless the method makes its own (Timeline.OWN)."""
    if capabilities(spec.method).timeline is Timeline.OWN:
        return [Timing(t, d) for t, d in get_method(spec.method).output_timeline(spec.video)]
    return timeline


def _extract_spec(spec: JobSpec) -> JobSpec:
    """A method that starts from a still (Prepares.STILL) needs only the source's first frame extracted."""
    if capabilities(spec.method).prepares is Prepares.STILL:
        return replace(spec, media=replace(spec.media, max_frames=1))
    return spec


def _output_size(spec: JobSpec, width: int, height: int) -> tuple[int, int]:
    from ..stylize.factory import is_classic

    if is_classic(spec.model.model):
        return width, height
    return processing_size(width, height, spec.style.width, spec.style.height)


def _targets(job: JobDir, spec: JobSpec, *, redo: bool) -> list[tuple[str, OutputOptions]]:
    """What this run encodes, each with its encode settings: the outputs given now; on a redo (or
    --overwrite, or when none is given) also the job's other recorded outputs still on disk, with the
    settings they were made with. A job's own outputs may be replaced; a user's file only with --overwrite."""
    recorded = _recorded_outputs(job, spec.output)
    owned = {path for path, _ in recorded}
    given = [(p, replace(spec.output, outputs=[p], overwrite=spec.output.overwrite or _key(p) in owned))
             for p in spec.output.outputs]
    present = [(p, replace(o, outputs=[p], overwrite=True)) for p, o in recorded if Path(p).exists()]
    keys = {_key(p) for p, _ in given}
    if redo or not given:
        given += [(p, o) for p, o in present if p not in keys]
    if not given:
        default = str(job.path / "output.gif")
        given = [(default, replace(spec.output, outputs=[default], overwrite=True))]
    return given


def _key(path: str) -> str:
    return str(Path(path).resolve())


#: encode settings recorded per output (the rest of OutputOptions is not about one file)
_NOT_RECORDED = ("outputs", "overwrite")


def _recorded_outputs(job: JobDir, fallback: OutputOptions) -> list[tuple[str, OutputOptions]]:
    """The job's outputs (absolute paths) with their encode settings, from job.json; a job made before
    outputs were recorded there lists them in outputs.txt (their settings: ``fallback``)."""
    record = job.read_record() if job.exists() else {}
    found = []
    for item in record.get("outputs") or []:
        fields = {k: v for k, v in item.get("options", {}).items() if k not in _NOT_RECORDED}
        try:
            options = replace(fallback, **fields)
        except TypeError:  # a field this version does not know
            options = fallback
        found.append((item["path"], options))
    old = job.path / "outputs.txt"
    if not found and old.exists():
        found = [(line, fallback) for line in old.read_text().split("\n") if line]
    return found


def _encode(job: JobDir, spec: JobSpec, timeline, infotext: str, progress: Progress,
            targets: list[tuple[str, OutputOptions]]) -> list[Path]:
    """Encode every target from the finished frames (one pass per --interpolate factor)."""
    end = timeline[-1].time + timeline[-1].duration
    # the source's sound fits only the source's timeline
    span = audio_span(spec.source, spec.media, end) if spec.source and capabilities(spec.method).timeline is Timeline.SOURCE and any(
        output_format(p) == "mp4" for p, _ in targets) else None
    groups: dict[int, list[tuple[str, OutputOptions]]] = {}
    for p, options in targets:
        groups.setdefault(options.interpolate, []).append((p, options))
    written: list[Path] = []
    # every output passed its checks: the job owns them from now, so a run killed after one is renamed
    # into place (and before the rest are) is finished by the same command, not refused
    _record_outputs(job, targets, planned=True)
    progress.start("encode", sum(len(timeline) * factor for factor in groups))
    for factor, group in groups.items():
        fitted = [(p, o) for p, o in group if o.max_size and output_format(p) == "gif"]
        direct = [(p, o) for p, o in group if (p, o) not in fitted]
        writers = [open_writer(p, o, comment=infotext, audio=span) for p, o in direct]
        with Outputs(writers) as outs:
            for frame in _finished_frames(job, spec, timeline, factor):
                outs.write(frame)
                progress.advance()
            written += outs.close() if writers else []
        for p, o in fitted:
            fit_gif(lambda: _finished_frames(job, spec, timeline, factor), Path(p), o, comment=infotext)
            written.append(Path(p))
    progress.finish()
    _record_outputs(job, targets)
    return written


def _finished_frames(job: JobDir, spec: JobSpec, timeline, factor: int):
    """Finished frames as they are encoded: encode-stage consistency (deflicker) filters them; the PNGs on disk stay as they are."""
    from ..consistency import post_filter
    from ..media.interpolate import interpolate_frames

    shots = job_shots(job, spec, len(timeline))  # deflicker and --interpolate restart at a cut
    filtered = post_filter(job.output_frames(timeline), spec.consistency, job.source_image, shots)
    return interpolate_frames(filtered, factor, shots.cuts)  # --interpolate N: N× the frame rate, same timing


def _record_outputs(job: JobDir, targets: list[tuple[str, OutputOptions]], planned: bool = False) -> None:
    """job.json lists the job's outputs with their encode settings, so a redo encodes them all again.
    ``planned``: recorded before they are written (they need not exist yet)."""
    outputs = {}
    for p, options in [*_recorded_outputs(job, OutputOptions()), *targets]:
        if Path(p).exists() or (planned and (p, options) in targets):
            fields = {k: v for k, v in asdict(options).items() if k not in _NOT_RECORDED}
            outputs[_key(p)] = {"path": _key(p), "options": fields}
    job.update(outputs=[outputs[k] for k in sorted(outputs)] or None)
