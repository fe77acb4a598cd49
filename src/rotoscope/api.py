"""The API facade: what every face (CLI, web page, HTTP) imports, and nothing below it.

    import rotoscope
    result = rotoscope.stylize("clip.mp4", "out.gif", prompt="ink drawing", model="tiny", seed=7,
                               duration=3, fps=10, width=320)
    print(result.outputs, result.seed)

Keyword arguments are the option model's names (``rotoscope.options_table()`` lists them with their
help; docs/options.md is generated from the same declarations): ``width``/``height`` scale the
frames (the output size, as ffmpeg's scale), ``process_width``/``process_height`` are the size the
model works at. ``consistency="flow-warp,color-match"`` as ``--consistency``; ControlNet units as
``--control`` writes them: ``control="canny, tile:0.5:0-0.6"`` (or a list).

Every job is validated whole (:meth:`JobSpec.validate`) before anything is decoded or loaded.
Heavy libraries (torch, diffusers, PyAV) are imported only by the functions that need them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OptionError, writes
from .progress import Cancelled  # noqa: F401  (faces catch it; progress is light)

if TYPE_CHECKING:
    from .jobs.preview import PreviewResult, PreviewTile
    from .jobs.runner import RunResult
    from .jobs.spec import JobSpec
    from .media.convert import ConvertResult
    from .media.probe import ProbeInfo
    from .options import Option
    from .progress import Progress


def options_table() -> tuple["Option", ...]:
    """Every job option (name, flag, type, default, range or choices, help, panel, owner, infotext key)."""
    from .jobs.table import job_options

    return job_options()


def option(name: str) -> "Option":
    """One job option by its name; old spellings and typos raise OptionError naming the fix."""
    from .jobs.table import lookup

    return lookup(name)


def where_options() -> list["Option"]:
    """The options saying where a job runs (--executor/--workers/--ray/--ray-token): the ones ``ui`` and ``serve``
    take for the jobs they start."""
    from .jobs.table import WHERE, lookup

    return [lookup(k) for k in WHERE]


def convert_options() -> list["Option"]:
    """The options ``convert`` takes: the media and output options (no model, so no interpolation)."""
    from .media.options import MediaOptions, OutputOptions
    from .options import declared

    return [o for o in declared(MediaOptions, "media") + declared(OutputOptions, "output") if o.key not in ("interpolate", "shots")]


def default_output(source: str) -> str:
    """Where ``convert`` writes when no -o is given."""
    from .media.convert import default_output as _default

    return str(_default(source))


def parse_size(text: str) -> int:
    """'1.5MB', '900KB' → bytes."""
    from .media.options import parse_size as _parse

    return _parse(text)


def choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of every option that has a fixed set (methods, samplers, techniques, presets, …)."""
    return {o.key: o.choice_list() for o in options_table() if o.choices is not None}


def _outputs(output: str | Path | list | tuple | None) -> list[str] | None:
    if output is None:
        return None
    if isinstance(output, (str, Path)):
        return [str(output)]
    return [str(o) for o in output]


def build_spec(source: str | Path | None, output: str | Path | list | None = None, **options: Any) -> "JobSpec":
    """A validated JobSpec from option names → values (``None`` = not given); raises OptionError naming the fix."""
    from .jobs.build import build_spec as _build

    if output is not None:
        options["output"] = _outputs(output)
    return _build(str(source) if source is not None else None, options)


@writes
def stylize(source: str | Path | None, output: str | Path | list | None = None, *, job_dir: str | Path | None = None,
            frames: str | None = None, progress: "Progress | None" = None, cancel: threading.Event | None = None,
            **options: Any) -> "RunResult":
    """Stylise ``source`` into ``output`` (one path or a list; format from the extension). Resumable: the same
    call again continues the job; ``frames="12-18"`` redoes those frames. ``method=`` picks the method
    (gif2gif, keyframes, ebsynth, animatediff, img2vid); ``preset="fast"`` sets the speed options not given."""
    from .executors import Where, open_executor
    from .jobs.runner import run_job

    where = Where.take(options)  # executor / workers / ray / ray_token: where it runs, not what it is
    spec = build_spec(source, output, **options)
    where.check(spec)  # before a cluster is started: a job that cannot be split is refused in a moment
    with open_executor(where, threads=spec.model.threads) as executor:
        return run_job(spec, job_dir=Path(job_dir) if job_dir else None, frames=frames, overwrite=spec.output.overwrite,
                       progress=progress, cancel=cancel, executor=executor)


run = stylize


@writes
def batch(jobs: list[dict[str, Any]], *, progress: "Progress | None" = None, cancel: threading.Event | None = None,
          executor: str | None = None, workers: int | None = None, ray: str | None = None,
          ray_token: str | None = None) -> list[dict[str, Any]]:
    """Run many jobs (each a dict of option names → values, with ``source``, ``output`` and optionally
    ``job_dir``) one after another over the same executor: on Ray the same actors, which keep their model
    for the next job with the same model settings. Resumable as a whole: each job resumes from its job dir.
    Returns one row per job: source, job, status ("done" | "failed: …"), computed, resumed, seconds, outputs."""
    import time

    from .errors import RotoscopeError
    from .executors import Where, open_executor
    from .jobs.runner import run_job
    from .progress import Cancelled

    where = Where.take({"executor": executor, "workers": workers, "ray": ray, "ray_token": ray_token})
    specs = []
    for job in jobs:  # every job checked before any work
        options = dict(job)
        source, job_dir, output = options.pop("source", None), options.pop("job_dir", None), options.pop("output", None)
        spec = build_spec(source, output, **options)
        where.check(spec)
        specs.append((spec, job_dir))
    rows = []
    with open_executor(where, threads=max((s.model.threads for s, _ in specs), default=0)) as runner:
        for spec, job_dir in specs:
            start = time.perf_counter()
            row: dict[str, Any] = {"source": spec.source, "job": None, "status": "done", "computed": 0, "resumed": 0}
            try:
                result = run_job(spec, job_dir=Path(job_dir) if job_dir else None, overwrite=spec.output.overwrite,
                                 progress=progress, cancel=cancel, executor=runner)
                row.update(job=str(result.job_dir), computed=result.frames_computed, resumed=result.frames_resumed,
                           outputs=[str(p) for p in result.outputs])
            except Cancelled:
                raise
            except RotoscopeError as exc:  # one job's error does not stop the batch; the table shows it
                row["status"] = f"failed: {exc}"
            row["seconds"] = round(time.perf_counter() - start, 2)
            rows.append(row)
    return rows


@writes
def preview(source: str | Path, output: str | Path = "out/preview.png", *, frame: int = 0, seeds: int = 4,
            strengths: list[float] | str | None = None, cancel: threading.Event | None = None,
            **options: Any) -> "PreviewResult":
    """One frame with several seeds (× strengths) into a labelled grid; then run with the chosen seed.
    ``cancel``: once set, the tile being made stops within one denoising step (``Cancelled``)."""
    from .jobs.preview import preview as _preview

    if isinstance(strengths, str):
        try:
            strengths = [float(s) for s in strengths.split(",")]
        except ValueError:
            raise OptionError(f"--strengths {strengths!r} is not understood; write e.g. 0.2,0.3,0.4.") from None
    spec = build_spec(source, **options)
    return _preview(spec, frame=frame, seeds=seeds, strengths=strengths, output=Path(output), cancel=cancel)


@writes
def txt2img(output: str | Path, *, count: int = 1, cancel: threading.Event | None = None,
            **options: Any) -> list["PreviewTile"]:
    """``count`` images from the prompt alone (seeds seed, seed+1, …; -1 draws the first), each a PNG with its
    infotext next to ``output``; the look options as for a job (``process_width``/``process_height`` = size)."""
    import random

    from .jobs.txt2img import txt2img as _txt2img
    from .stylize.options import MAX_SEED

    spec = build_spec(None, method="img2vid", **options)  # img2vid is the method that starts from a prompt alone
    first = spec.style.seed if spec.style.seed != -1 else random.randint(0, MAX_SEED)
    seeds = [(first + i) % (MAX_SEED + 1) for i in range(count)]
    return _txt2img(spec, seeds, Path(output), cancel=cancel)


def sampler_names() -> tuple[str, ...]:
    """The web-UI sampler names ("Euler a", "DPM++ 2M Karras", …)."""
    return option("sampler").choice_list()


@writes
def keys(source: str | Path, sheet: str | Path = "out/keys.png", **options: Any):
    """Which frames the keyframe methods would stylise (0-based, after the media options), and a contact sheet."""
    from .jobs.keys import keys_of_clip

    options.setdefault("method", "keyframes")
    spec = build_spec(source, **options)
    return keys_of_clip(str(source), spec.media, spec.keys, Path(sheet), overwrite=spec.output.overwrite)


@writes
def score(output: str | Path, source: str | Path, *, flow: str = "dis", clip_model: str | None = None,
          plot: str | Path | None = None, clip: bool = True, **media: Any):
    """Flicker of a stylised clip: warp error along the source's flow, SSIM/PSNR to source, CLIP consistency
    (``clip=False`` skips CLIP). A job's ``frames/`` against its ``source/`` folder pair exactly. ``plot``
    replaces an existing file only with ``overwrite=True``."""
    from .jobs.checks import check_output
    from .jobs.table import lookup
    from .metrics import plot_score, score_clip

    lookup("flow").check(flow)
    spec = build_spec(source, **media)
    if plot is not None:
        check_output(plot, overwrite=spec.output.overwrite, source=str(source), what="--plot")
    result = score_clip(str(output), str(source), source_media=spec.media, flow=flow, clip=clip,
                        clip_model=clip_model)
    if plot is not None:
        plot_score(result, Path(plot), title=Path(output).name)
    return result


@writes
def convert(source: str | Path, output: str | Path | list, *, progress: "Progress | None" = None,
            **options: Any) -> "ConvertResult":
    """Cut / resample / scale / encode without a model (media and output options only)."""
    from .media.convert import convert as _convert
    from .media.options import MediaOptions, OutputOptions

    table = {o.key: o for o in convert_options()}
    values: dict[str, dict[str, Any]] = {"media": {}, "output": {"outputs": _outputs(output) or []}}
    for name, value in options.items():
        info = table.get(name)
        if info is None:
            raise OptionError(f"convert does not take {name!r}; it takes {', '.join(sorted(table))}.")
        if value is not None:
            values[info.group][info.field] = info.read(value) if isinstance(value, str) and info.base_type is not str else value
    media, out = MediaOptions(**values["media"]), OutputOptions(**values["output"])
    media.validate()
    out.validate()
    return _convert(str(source), media, out, progress)


@writes
def run_spec(spec: "JobSpec", job_dir: str | Path | None = None, *, frames: str | None = None,
             progress: "Progress | None" = None, cancel: threading.Event | None = None, executor=None) -> "RunResult":
    """Run (or resume) a job from a spec already built (the page builds it first to show it). ``executor``: one
    from :func:`executor` (the page's and the server's, open for their lifetime); a job it cannot split runs here."""
    from .jobs.runner import run_job
    from .notices import notice

    reason = executor.refusal(spec) if executor is not None else None
    if reason:
        notice(f"{reason.split('; ', 1)[1].split(':')[0]}: running this job here, not on the Ray workers.")
        executor = None
    return run_job(spec, job_dir=Path(job_dir) if job_dir else None, frames=frames, overwrite=spec.output.overwrite,
                   progress=progress, cancel=cancel, executor=executor)


@contextmanager
def executor(*, executor: str | None = None, workers: int | str | None = None, ray: str | None = None,
             ray_token: str | None = None, threads: int = 0) -> Iterator[Any]:
    """Where the jobs of a long-lived face run (``rotoscope ui`` / ``serve`` with --workers / --ray): None for
    here, or Ray actors kept for the block (their models stay loaded between jobs). Pass it to :func:`run_spec`."""
    from .executors import Where, open_executor

    where = Where.take({"executor": executor, "workers": workers, "ray": ray, "ray_token": ray_token})
    with open_executor(where, threads=threads) as found:
        yield found


def jobs_root() -> Path:
    """Where jobs live unless told otherwise."""
    from .jobs.runner import JOBS_ROOT

    return JOBS_ROOT


def job_folder(spec: "JobSpec", root: str | Path | None = None) -> Path:
    """The folder a job gets by default: same source and look → same folder, so a rerun resumes."""
    from .jobs.runner import default_job_dir

    return default_job_dir(spec, Path(root) if root is not None else jobs_root())


def job_spec(job_dir: str | Path) -> "JobSpec":
    """The spec a job folder was made with."""
    from .jobs.store import JobDir

    return JobDir(Path(job_dir)).read_spec()


def source_frame(source: str | Path, index: int = 0, **options: Any):
    """Frame ``index`` (0-based, after the media options) as an RGB array."""
    from .jobs.preview import pick_frame

    spec = build_spec(source, **options)
    return pick_frame(spec.source, spec.media, int(index))


def preset_look(name: str, model: str = "") -> dict[str, Any]:
    """The look options (sampler, steps, CFG, …) a speed preset sets for ``model``."""
    from .models.speed import is_turbo_model
    from .stylize.presets import get_preset

    preset = get_preset(name)
    return dict(preset.turbo_style if preset.turbo_style is not None and is_turbo_model(model or "") else preset.style)


def mask_overlay(frame, mask, spec: "JobSpec"):
    """``frame`` with ``mask`` tinted as the job will use it (invert, blur) and, for "only masked", the crop box."""
    from .stylize.masking import blur_mask, mask_overlay as overlay, only_masked_region
    from .stylize.resize import processing_size

    opts = spec.mask
    if opts.invert_mask:
        mask = 255 - mask
    blurred = blur_mask(mask, opts.mask_blur)
    size = processing_size(frame.shape[1], frame.shape[0], spec.style.width, spec.style.height)
    region = only_masked_region(blurred, opts.padding, size)
    only = opts.inpaint_area == "only-masked"
    return overlay(frame, mask, blurred, region if only else None, label=f"crop box {region}" if only and region else "")


def model_choices() -> list[str]:
    """Models that need no download choice: the default hub model, the tiny test model, the classic styles."""
    from .models.options import DEFAULT_MODEL
    from .stylize.classic import STYLES

    return [DEFAULT_MODEL, "tiny", *(f"classic:{s}" for s in STYLES)]


def output_formats() -> tuple[str, ...]:
    """The formats outputs can have (from their extension), e.g. gif, mp4, webp, apng."""
    from .media.options import OUTPUT_FORMATS

    return tuple(dict.fromkeys(OUTPUT_FORMATS.values()))


def shots(source: str | Path, **media: Any) -> list[dict]:
    """The clip's shots (``shots="auto"``: found by change; ``"none"``; or ``"24,51"``) after the media options:
    [{shot, start_frame, end_frame, frames, start, end}] (times in seconds)."""
    from .media.decode import iter_frames
    from .media.options import MediaOptions
    from .media.shots import Detector, find_shots

    values = MediaOptions(**media)
    values.validate()
    detector, times, end = Detector(), [], 0.0
    for frame in iter_frames(str(source), values):
        times.append(frame.time)
        end = frame.time + frame.duration
        if values.shots == "auto":
            detector.add(frame.image)
    found = detector.shots() if values.shots == "auto" else find_shots([], len(times), values.shots)
    return found.to_list(times, end)


def probe(source: str | Path) -> "ProbeInfo":
    from .media.probe import probe as _probe

    return _probe(str(source))


__all__ = ["Cancelled", "shots", "sampler_names", "txt2img", "build_spec", "choices", "convert", "convert_options", "default_output", "job_folder", "job_spec", "jobs_root",
           "mask_overlay", "model_choices", "option", "output_formats", "parse_size", "preset_look", "run_spec", "source_frame", "keys", "options_table", "preview", "probe", "run", "score", "stylize"]


# --- http: controlnet ---
def control_modules() -> dict[str, str | None]:
    """The ControlNet extension's module names served (``canny``, ``tile_resample``, ``depth_midas``, …) → our
    control type; ``"none"`` → None (the image given is the control map)."""
    from .stylize.control import WEBUI_MODULES

    return dict(WEBUI_MODULES)


def control_models() -> dict[str, str]:
    """The ControlNet model names a client may ask for (``control_v11p_sd15_canny``, …) → their control type; the
    model that serves each is the type's default (the tiny ControlNet with the tiny model)."""
    from .models.controlnet import DEFAULT_CONTROLNETS

    return {hub.split("/")[-1]: kind for kind, hub in DEFAULT_CONTROLNETS.items()}


def control_map(image, kind: str):
    """The control map of ``kind`` (canny, tile, depth, softedge) for an RGB array, at its size; ModelError when the
    annotator's weights are not here."""
    from .stylize.control import load_annotator

    return load_annotator(kind)(image)


def pipeline_cache_stats() -> dict[str, int]:
    """Pipelines loaded and reused by preview / txt2img (``builds``, ``hits``, ``kept``)."""
    from .stylize.factory import PIPELINES

    return PIPELINES.stats()


def model_files(models_dir: str | Path, *, follow_links: bool = True, compute_hashes: bool = True) -> list:
    """Every model file in a web-UI models folder (A1111 / ComfyUI layout): kind, family and A1111 short hash
    (``rotoscope models``, the page's pickers and the HTTP API read the same list). ``follow_links=False``: links
    out of the folder are not offered (servers); ``compute_hashes=False``: only hashes already cached ("" otherwise)."""
    from .models.files import scan

    return scan(models_dir, follow_links=follow_links, compute_hashes=compute_hashes)


# --- http: video jobs ---


def job_frames(job_dir: str | Path) -> tuple[int, int | None, Path | None]:
    """A job folder's finished output frames, its frame total (None until the source is decoded) and the
    finished frame written last (None before the first)."""
    from .jobs.runner import method_timeline
    from .jobs.store import JobDir

    job = JobDir(Path(job_dir))
    done = sorted(job.frames_dir.glob("[0-9]*.png")) if job.frames_dir.is_dir() else []
    timeline = job.timeline()
    total = len(method_timeline(job.read_spec(), timeline)) if timeline is not None and job.exists() else None
    latest = max(done, key=lambda p: (p.stat().st_mtime_ns, p.name)) if done else None
    return len(done), total, latest


def job_frame_paths(job_dir: str | Path) -> tuple[list[Path], Path]:
    """A job folder's finished output frame PNGs (by index) and the folder of its decoded source frames:
    the pair ``score`` compares frame by frame."""
    from .jobs.store import JobDir

    job = JobDir(Path(job_dir))
    frames = sorted(job.frames_dir.glob("[0-9]*.png")) if job.frames_dir.is_dir() else []
    return frames, job.source_dir
