"""Choosing the Stylizer for a job: classic filters need no weights, anything else is a diffusers model.

The factory builds each Stylizer whole: the pipeline (plain, inpaint, or their ControlNet variant), its
sampler and its speed pieces are chosen here, before the first frame, and nothing changes a diffusers
object afterwards (per-step work goes through diffusers' ``callback_on_step_end`` and attention processors).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict
from pathlib import Path

from ..models.options import ModelOptions
from .base import Stylizer
from .mask_options import MaskOptions
from .options import StyleOptions

#: methods whose stylizer is a video model (stylize/video.py), not img2img / inpaint
VIDEO_METHODS = ("animatediff", "img2vid")


def is_classic(model: str) -> bool:
    return model.startswith("classic:")


class PipelineCache:
    """The last few pipelines loaded (the model options and pipeline kind, plus the ControlNets), for callers that
    make one image after another with the same model (preview, txt2img: the HTTP face, the web page's preview).

    What is kept is never changed afterwards: each stylizer builds its own pipeline from the kept components
    (``pipeline_with``). Jobs do not use it (cross-frame attention installs processors on the UNet).
    ``builds`` and ``hits`` count loads and reuses, so a test can tell a reload without a clock."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.entries: OrderedDict[str, object] = OrderedDict()
        self.builds = 0
        self.hits = 0
        self.lock = threading.Lock()

    def get(self, key: str, build):
        with self.lock:  # one build at a time: two requests for the same model load it once
            if key in self.entries:
                self.entries.move_to_end(key)
                self.hits += 1
                return self.entries[key]
            value = build()
            self.builds += 1
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
            return value

    def stats(self) -> dict[str, int]:
        return {"builds": self.builds, "hits": self.hits, "kept": len(self.entries)}


PIPELINES = PipelineCache(2)


def _model_key(model: ModelOptions, kind: str, control=None) -> str:
    values = dataclasses.asdict(model)
    path = Path(model.model).expanduser()
    stamp = path.stat().st_mtime_ns if path.exists() else None  # a file replaced on disk is loaded again
    units = [(u.type, u.model) for u in control or []]
    return json.dumps([values, kind, stamp, units], sort_keys=True, default=str)


def cached_pipeline(model: ModelOptions, kind: str = "img2img"):
    """``load_pipeline(model, kind)``, kept in :data:`PIPELINES` for the next call with the same options."""
    from ..models.loader import load_pipeline

    return PIPELINES.get(_model_key(model, kind), lambda: load_pipeline(model, kind=kind))


def _prompt_loras(model: ModelOptions, style: StyleOptions) -> tuple[ModelOptions, StyleOptions]:
    """``<lora:NAME:W>`` in the prompt, as the web UI reads it: NAME from --models-dir joins the LoRAs and the
    tag leaves the prompt the text encoder sees (the job's infotext keeps it)."""
    if "<lora:" not in style.prompt and "<lyco:" not in style.prompt:
        return model, style
    from ..models.files import resolve_prompt_loras

    prompt, loras = resolve_prompt_loras(style.prompt, model.models_dir)
    return dataclasses.replace(model, loras=[*model.loras, *loras]), dataclasses.replace(style, prompt=prompt)


def build_stylizer(model: ModelOptions, style: StyleOptions, mask: "MaskOptions | None" = None, *,
                   method: str = "gif2gif", video=None, control=None, cancel: threading.Event | None = None,
                   cache: bool = False) -> Stylizer:
    """Load the model once for the whole job and build its Stylizer.

    With an active ``mask``, the inpaint stylizer; with ``control`` (stylize/control.py ControlOptions units),
    the ControlNet variant of the img2img / inpaint pipeline; for ``method`` animatediff / img2vid, their video
    stylizer (stylize/video.py, ``video``: VideoOptions). ``cancel``: when it is set, the stylizer raises
    ``Cancelled`` within one denoising step (checked by the pipeline's step callback). ``cache``: take the
    pipeline (and ControlNet pipeline) from :data:`PIPELINES` (img2img / inpaint only).
    """
    model, style = _prompt_loras(model, style)
    if control and (is_classic(model.model) or method in VIDEO_METHODS):
        from ..errors import OptionError

        # checked before any model is loaded
        raise OptionError(f"--control needs a diffusion model (--model) and img2img or inpainting; not {model.model} / --method {method}.")
    if method in VIDEO_METHODS:
        from .video_options import VideoOptions
        from .video import build_video_stylizer

        return build_video_stylizer(method, model, style, video or VideoOptions(), cancel=cancel)
    inpaint = mask is not None and mask.active
    if is_classic(model.model):
        from .classic import ClassicStylizer

        classic = ClassicStylizer(model.model.split(":", 1)[1], style.strength, cancel=cancel)
        if inpaint:
            from .inpaint import ClassicInpaint

            return ClassicInpaint(classic, mask)
        return classic
    from ..models.loader import load_pipeline

    kind = "inpaint" if inpaint else "img2img"
    loaded = cached_pipeline(model, kind) if cache else load_pipeline(model, kind=kind)
    units, pipe = None, None
    if control:
        from ..models.controlnet import controlnet_pipeline
        from .control import ControlUnits

        units = ControlUnits(control)  # annotators first: a missing one fails before the ControlNets load
        if cache:
            pipe = PIPELINES.get(_model_key(model, kind, control), lambda: controlnet_pipeline(loaded, control, model))
        else:
            pipe = controlnet_pipeline(loaded, control, model)
    if inpaint:
        from .inpaint import DiffusersInpaint

        return DiffusersInpaint(loaded, style, mask, pipe=pipe, control=units, cancel=cancel)
    from .img2img import DiffusersImg2Img

    return DiffusersImg2Img(loaded, style, pipe=pipe, control=units, cancel=cancel)
