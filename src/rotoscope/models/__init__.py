"""Load diffusion pipelines (hub id, local folder, single file, tiny test model); samplers.

Names are imported lazily: ``from rotoscope.models import ModelOptions`` must
not pay for importing torch and diffusers (seconds) in commands that never
load a model, such as ``rotoscope probe`` and ``convert``.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "LoadedModel": "loader", "detect_family": "loader", "load_pipeline": "loader",
    "resolve_device": "loader", "resolve_dtype": "loader",
    "ModelOptions": "options", "parse_lora": "options",
    "SAMPLERS": "samplers", "make_scheduler": "samplers", "sampler_name_of": "samplers", "sampler_names": "samplers",
    "TINY_VERSION": "tiny", "build_tiny_inpaint_pipeline": "tiny", "build_tiny_pipeline": "tiny",
    "ensure_tiny_folder": "tiny",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'rotoscope.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
