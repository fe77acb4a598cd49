"""Methods by name: each turns source frames into stylised frames through a Stylizer."""

from __future__ import annotations

from ..errors import OptionError
from .base import Method, MethodContext
from .gif2gif import Gif2Gif

METHODS: dict[str, type] = {"gif2gif": Gif2Gif}


def get_method(name: str) -> Method:
    try:
        return METHODS[name]()
    except KeyError:
        raise OptionError(f"--method {name!r} is not known; use one of {', '.join(METHODS)}.") from None


__all__ = ["METHODS", "Method", "MethodContext", "get_method"]
