"""Choosing the Stylizer for a job: classic filters need no weights, anything else is a diffusers model."""

from __future__ import annotations

from ..models.options import ModelOptions
from .base import Stylizer
from .mask_options import MaskOptions
from .options import StyleOptions


def is_classic(model: str) -> bool:
    return model.startswith("classic:")


def build_stylizer(model: ModelOptions, style: StyleOptions, mask: "MaskOptions | None" = None, *,
                   method: str = "gif2gif", video=None, control=None) -> Stylizer:
    """The job's Stylizer (see :func:`_build_stylizer`); with ``control`` (stylize/control.py ControlOptions units)
    its img2img / inpaint pipeline becomes the ControlNet variant of the same components."""
    stylizer = _build_stylizer(model, style, mask, method=method, video=video)
    if control:
        from .control import attach

        if is_classic(model.model) or not hasattr(stylizer, "loaded"):
            from ..errors import OptionError

            raise OptionError(f"--control needs a diffusion model (--model) and img2img or inpainting; not {model.model} / --method {method}.")
        attach(stylizer, control, model)
    return stylizer


def _build_stylizer(model: ModelOptions, style: StyleOptions, mask: "MaskOptions | None" = None, *,
                    method: str = "gif2gif", video=None) -> Stylizer:
    """Load the model once for the whole job; with an active ``mask``, the inpaint stylizer;
    for ``method`` animatediff / img2vid, their video stylizer (stylize/video.py, ``video``: VideoOptions)."""
    if method in ("animatediff", "img2vid"):
        from ..methods.video_options import VideoOptions
        from .video import build_video_stylizer

        return build_video_stylizer(method, model, style, video or VideoOptions())
    inpaint = mask is not None and mask.active
    if is_classic(model.model):
        from .classic import ClassicStylizer

        classic = ClassicStylizer(model.model.split(":", 1)[1], style.strength)
        if inpaint:
            from .inpaint import ClassicInpaint

            return ClassicInpaint(classic, mask)
        return classic
    from ..models.loader import load_pipeline

    if inpaint:
        from .inpaint import DiffusersInpaint

        return DiffusersInpaint(load_pipeline(model, kind="inpaint"), style, mask)
    from .img2img import DiffusersImg2Img

    return DiffusersImg2Img(load_pipeline(model, kind="img2img"), style)
