"""Load diffusion pipelines (hub id, local folder, single file, tiny test model); samplers."""

from .loader import LoadedModel, detect_family, load_pipeline, resolve_device, resolve_dtype
from .options import ModelOptions, parse_lora
from .samplers import SAMPLERS, make_scheduler, sampler_name_of, sampler_names
from .tiny import TINY_VERSION, build_tiny_inpaint_pipeline, build_tiny_pipeline, ensure_tiny_folder

__all__ = [
    "LoadedModel",
    "ModelOptions",
    "SAMPLERS",
    "TINY_VERSION",
    "build_tiny_inpaint_pipeline",
    "build_tiny_pipeline",
    "detect_family",
    "ensure_tiny_folder",
    "load_pipeline",
    "make_scheduler",
    "parse_lora",
    "resolve_device",
    "resolve_dtype",
    "sampler_name_of",
    "sampler_names",
]
