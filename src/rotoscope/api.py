"""The Python API: the CLI's commands as functions, building the same JobSpec.

    import rotoscope
    result = rotoscope.stylize("clip.mp4", "out.gif", prompt="ink drawing", model="tiny", seed=7,
                               duration=3, fps=10, scale_width=320)
    print(result.outputs, result.seed)

Keyword arguments are the option dataclasses' field names (MediaOptions,
StyleOptions, ModelOptions, OutputOptions, MaskOptions: ``mask="m.png",
inpaint_area="only-masked"``; with ``frames="12-18"`` a mask fixes up those frames; ConsistencyOptions:
``consistency="flow-warp,color-match", flow_warp_fuse=0.7``, as ``--consistency``; VideoOptions; KeyOptions with
``method="keyframes"`` or ``"ebsynth"``: ``keys="auto", plate="2x2"``); ControlNet units as ``--control`` writes
them: ``control="canny, tile:0.5:0-0.6"`` (or a list), ``control_model="canny=path"``, ``control_image_dir=…``.
``width``/``height`` are the model's processing size, ``scale_width``/``scale_height`` scale the source.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

from .consistency.options import ConsistencyOptions, parse_consistency
from .errors import OptionError
from .jobs.runner import RunResult, run_job
from .jobs.spec import KEYFRAME_METHODS, JobSpec
from .media.convert import ConvertResult, convert as _convert
from .media.options import MediaOptions, OutputOptions
from .media.probe import ProbeInfo, probe as _probe
from .methods.keys import KeyOptions
from .methods.video_options import VideoOptions
from .models.options import ModelOptions
from .progress import Progress
from .stylize.control import ControlOptions, assign_control_extras, parse_control
from .stylize.mask_options import MaskOptions
from .stylize.options import StyleOptions

_MEDIA_RENAMES = {"scale_width": "width", "scale_height": "height"}
_CONTROL_KEYS = ("control", "control_image_dir", "control_model")


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _split(kwargs: dict[str, Any], groups: dict[str, type]) -> dict[str, dict[str, Any]]:
    """Route each keyword to the dataclass that has a field of that name."""
    routed: dict[str, dict[str, Any]] = {name: {} for name in groups}
    for key, value in kwargs.items():
        for name, cls in groups.items():
            if key in _fields(cls):
                routed[name][key] = value
                break
        else:
            known = sorted(set().union(*(_fields(c) for c in groups.values())))
            raise TypeError(f"unknown option {key!r}; known options: {', '.join(known)}")
    return routed


def _outputs(output: str | Path | list | None) -> list[str]:
    if output is None:
        return []
    if isinstance(output, (str, Path)):
        return [str(output)]
    return [str(o) for o in output]


def build_spec(source: str | Path | None, output: str | Path | list | None = None, *, method: str = "gif2gif",
               preset: str | None = None, **options: Any) -> JobSpec:
    """``preset="quality" | "balanced" | "fast"`` sets the speed options not given (stylize/presets.py)."""
    if preset:
        from .stylize.presets import apply_preset

        spec = build_spec(source, output, method=method, **options)
        return apply_preset(spec, preset, set(options))  # keywords given win over the preset
    media_kwargs = {_MEDIA_RENAMES[k]: options.pop(k) for k in list(options) if k in _MEDIA_RENAMES}
    control = {k: options.pop(k) for k in _CONTROL_KEYS if k in options}
    knobs = {k: options.pop(k) for k in list(options) if k in _fields(KeyOptions)}
    names = options.pop("consistency", None)  # "per-frame,flow-warp": the CLI's --consistency
    if names is not None:
        noise, techniques = parse_consistency(names if isinstance(names, str) else ",".join(names))
        options.setdefault("techniques", techniques)
        if noise is not None:
            options.setdefault("noise", noise)
    routed = _split(options, {"style": StyleOptions, "media": MediaOptions, "model": ModelOptions, "output": OutputOptions,
                              "mask": MaskOptions, "video": VideoOptions, "consistency": ConsistencyOptions})
    routed["media"].update(media_kwargs)
    output_kwargs = routed["output"]
    output_kwargs["outputs"] = _outputs(output) or output_kwargs.get("outputs", [])
    spec = JobSpec(source=str(source) if source is not None else "", method=method, media=MediaOptions(**routed["media"]),
                   model=ModelOptions(**routed["model"]), style=StyleOptions(**routed["style"]),
                   output=OutputOptions(**output_kwargs), mask=MaskOptions(**routed["mask"]),
                   video=VideoOptions(**routed["video"]), consistency=ConsistencyOptions(**routed["consistency"]))
    return apply_control_keys(spec, *(_items(control.get(k)) for k in _CONTROL_KEYS), **knobs)


def _items(value: str | list | None) -> list | None:
    """A repeatable option, given as a list or as one comma-separated string (as the web UI's text box sends it)."""
    if value is None or isinstance(value, list | tuple):
        return None if value is None else list(value)
    return [part.strip() for part in str(value).split(",") if part.strip()]


def apply_control_keys(spec: JobSpec, control: list | None, control_image_dir: list[str] | None = None,
                       control_model: list[str] | None = None, **knobs: Any) -> JobSpec:
    """ControlNet units (``TYPE[:WEIGHT[:START-END]]`` texts or ControlOptions) and the keyframe options into the spec.

    Key options need method keyframes or ebsynth; ebsynth with a diffusion model gets canny guidance unless
    ``control`` says otherwise.
    """
    units = [c if isinstance(c, ControlOptions) else parse_control(c) for c in control or []]
    if (control_image_dir or control_model) and not units:
        raise OptionError("--control-image-dir and --control-model need a --control unit.")
    if not units and spec.method == "ebsynth" and not spec.model.model.startswith("classic:"):
        units = [ControlOptions("canny")]
    units = assign_control_extras(units, control_image_dir, control_model)
    given = {k: v for k, v in knobs.items() if v is not None}
    if given and spec.method not in KEYFRAME_METHODS:
        raise OptionError(f"--{next(iter(given)).replace('_', '-')} needs --method keyframes or ebsynth.")
    return dataclasses.replace(spec, control=units or spec.control, keys=dataclasses.replace(spec.keys, **given))


def stylize(source: str | Path | None, output: str | Path | list | None = None, *, job_dir: str | Path | None = None,
            frames: str | None = None, overwrite: bool = False, progress: Progress | None = None,
            cancel: threading.Event | None = None, method: str = "gif2gif", **options: Any) -> RunResult:
    """Stylise ``source`` into ``output`` (one path or a list; format from the extension). Resumable.

    ``method="animatediff"`` (AnimateDiff video-to-video; ``motion_adapter``, ``context_length``, ``context_overlap``)
    or ``"img2vid"`` (Stable Video Diffusion; ``source=None`` with ``prompt=`` makes the still by txt2img;
    ``video_frames``, ``segments``, ``motion_bucket``, …: VideoOptions' fields); ``interpolate=2`` doubles any
    method's frame rate. ``preset="fast"`` (or "balanced", "quality") sets the speed options not given, e.g.
    ``rotoscope.stylize("clip.mp4", "out.gif", prompt="ink drawing", preset="fast", threads=2)``."""
    spec = build_spec(source, output, method=method, overwrite=overwrite, **options)
    return run_job(spec, job_dir=Path(job_dir) if job_dir else None, frames=frames, overwrite=overwrite,
                   progress=progress, cancel=cancel)


def convert(source: str | Path, output: str | Path | list, *, progress: Progress | None = None, **options: Any) -> ConvertResult:
    """Cut / resample / scale / encode without a model (``width``/``height`` scale the clip here)."""
    routed = _split(options, {"media": MediaOptions, "output": OutputOptions})
    return _convert(source, MediaOptions(**routed["media"]), OutputOptions(outputs=_outputs(output), **routed["output"]), progress)


def probe(source: str | Path) -> ProbeInfo:
    return _probe(source)
