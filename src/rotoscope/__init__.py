"""rotoscope: turn a short video or GIF into a stylised AI animation.

The public names are imported on first use (PEP 562), so ``import rotoscope``
and every command that does not need the model stack (``--help``, ``probe``,
``convert``) start fast: nothing here imports numpy, PyAV, torch or diffusers.
"""

from __future__ import annotations

import sys

__version__ = "0.1.0"

# public name → the module (relative to this package) that defines it
_LAZY = {
    "build_spec": "api",
    "choices": "api",
    "convert": "api",
    "keys": "api",
    "options_table": "api",
    "preview": "api",
    "probe": "api",
    "run": "api",
    "score": "api",
    "shots": "api",
    "stylize": "api",
    "RotoscopeError": "errors",
    "JobSpec": "jobs.spec",
    "MediaOptions": "media.options",
    "OutputOptions": "media.options",
    "ModelOptions": "models.options",
    "StyleOptions": "stylize.options",
}

__all__ = ["JobSpec", "MediaOptions", "ModelOptions", "OutputOptions", "RotoscopeError", "StyleOptions",
           "build_spec", "choices", "convert", "keys", "options_table", "preview", "probe", "run", "score", "shots", "stylize"]

# Not ``typing.TYPE_CHECKING``: importing typing alone costs about as much as starting python.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .api import build_spec, convert, probe, stylize
    from .errors import RotoscopeError
    from .jobs.spec import JobSpec
    from .media.options import MediaOptions, OutputOptions
    from .models.options import ModelOptions
    from .stylize.options import StyleOptions


def __getattr__(name: str) -> Any:  # PEP 562
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


_Module = type(sys)  # types.ModuleType, without importing types


class _Package(_Module):
    """``rotoscope.stylize`` is the API function, though a subpackage has the same name.

    Importing ``rotoscope.stylize.*`` makes the import system set the attribute
    ``stylize`` on this package to the subpackage; eager imports used to rebind
    it to the function afterwards. Lazily, the subpackage may be imported after
    the function was looked up, so the name is a property: it always answers the
    function (the subpackage stays in ``sys.modules``), unless code assigns
    something else that is not a module (a test's monkeypatch).
    """

    @property
    def stylize(self) -> Any:
        override = self.__dict__.get("_stylize_override")
        if override is not None:
            return override
        from .api import stylize

        return stylize

    @stylize.setter
    def stylize(self, value: Any) -> None:
        if not isinstance(value, _Module):
            self.__dict__["_stylize_override"] = value

    @stylize.deleter
    def stylize(self) -> None:
        self.__dict__.pop("_stylize_override", None)


sys.modules[__name__].__class__ = _Package
