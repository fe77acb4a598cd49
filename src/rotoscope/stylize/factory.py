"""Choosing the Stylizer for a job: classic filters need no weights, anything else is a diffusers model.

The factory builds each Stylizer whole: the pipeline (plain, inpaint, or their ControlNet variant), its
sampler and its speed pieces are chosen here, before the first frame, and nothing changes a diffusers
object afterwards (per-step work goes through diffusers' ``callback_on_step_end`` and attention processors).
"""

from __future__ import annotations

import threading

from ..models.options import ModelOptions
from .base import Stylizer
from .mask_options import MaskOptions
from .options import StyleOptions

#: methods whose stylizer is a video model (stylize/video.py), not img2img / inpaint
VIDEO_METHODS = ("animatediff", "img2vid")


def is_classic(model: str) -> bool:
    return model.startswith("classic:")


def build_stylizer(model: ModelOptions, style: StyleOptions, mask: "MaskOptions | None" = None, *,
                   method: str = "gif2gif", video=None, control=None, cancel: threading.Event | None = None) -> Stylizer:
    """Load the model once for the whole job and build its Stylizer.

    With an active ``mask``, the inpaint stylizer; with ``control`` (stylize/control.py ControlOptions units),
    the ControlNet variant of the img2img / inpaint pipeline; for ``method`` animatediff / img2vid, their video
    stylizer (stylize/video.py, ``video``: VideoOptions). ``cancel``: when it is set, the stylizer raises
    ``Cancelled`` within one denoising step (checked by the pipeline's step callback).
    """
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

    loaded = load_pipeline(model, kind="inpaint" if inpaint else "img2img")
    units, pipe = None, None
    if control:
        from ..models.controlnet import controlnet_pipeline
        from .control import ControlUnits

        units = ControlUnits(control)  # annotators first: a missing one fails before the ControlNets load
        pipe = controlnet_pipeline(loaded, control, model)
    if inpaint:
        from .inpaint import DiffusersInpaint

        return DiffusersInpaint(loaded, style, mask, pipe=pipe, control=units, cancel=cancel)
    from .img2img import DiffusersImg2Img

    return DiffusersImg2Img(loaded, style, pipe=pipe, control=units, cancel=cancel)
