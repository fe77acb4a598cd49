"""Methods by name: each turns source frames into stylised frames through a Stylizer.

Importing this package is light (the catalog only): the method classes and
``MethodContext`` (numpy, OpenCV, the stylizer seam) load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .catalog import METHOD_NAMES, Capabilities, capabilities, method_class, methods_with

if TYPE_CHECKING:
    from .base import Method, MethodContext

_LAZY = {"Method": ".base", "MethodContext": ".base", "AnimateDiff": ".animatediff", "EbSynth": ".ebsynth",
         "Gif2Gif": ".gif2gif", "Img2Vid": ".img2vid", "Keyframes": ".keyframes"}


def get_method(name: str) -> Method:
    """A fresh instance of method ``name`` (OptionError for an unknown name)."""
    return method_class(name)()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["METHOD_NAMES", "Capabilities", "Method", "MethodContext", "capabilities", "get_method", "method_class",
           "methods_with"]
