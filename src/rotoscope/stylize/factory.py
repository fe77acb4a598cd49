"""Choosing the Stylizer for a job: classic filters need no weights, anything else is a diffusers model."""

from __future__ import annotations

from ..models.options import ModelOptions
from .base import Stylizer
from .options import StyleOptions


def is_classic(model: str) -> bool:
    return model.startswith("classic:")


def build_stylizer(model: ModelOptions, style: StyleOptions) -> Stylizer:
    """Load the model once for the whole job."""
    if is_classic(model.model):
        from .classic import ClassicStylizer

        return ClassicStylizer(model.model.split(":", 1)[1], style.strength)
    from ..models.loader import load_pipeline
    from .img2img import DiffusersImg2Img

    return DiffusersImg2Img(load_pipeline(model, kind="img2img"), style)
