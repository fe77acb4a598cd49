"""rotoscope: turn a short video or GIF into a stylised AI animation."""

from .api import build_spec, convert, probe, stylize
from .errors import RotoscopeError
from .jobs.spec import JobSpec
from .media.options import MediaOptions, OutputOptions
from .models.options import ModelOptions
from .stylize.options import StyleOptions

__all__ = ["JobSpec", "MediaOptions", "ModelOptions", "OutputOptions", "RotoscopeError", "StyleOptions",
           "build_spec", "convert", "probe", "stylize"]
__version__ = "0.1.0"
