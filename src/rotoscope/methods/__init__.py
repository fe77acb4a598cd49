"""Methods by name: each turns source frames into stylised frames through a Stylizer."""

from __future__ import annotations

from ..errors import OptionError
from .base import Method, MethodContext
from .animatediff import AnimateDiff
from .ebsynth import EbSynth
from .gif2gif import Gif2Gif
from .img2vid import Img2Vid
from .keyframes import Keyframes

METHODS: dict[str, type] = {"gif2gif": Gif2Gif, "animatediff": AnimateDiff, "img2vid": Img2Vid,
                            "keyframes": Keyframes, "ebsynth": EbSynth}
#: methods whose model sees many frames at once (VideoOptions; their own stylizers)
VIDEO_METHODS = ("animatediff", "img2vid")
#: methods that stylise keyframes and propagate them along the flow (KeyOptions; every source frame)
KEYFRAME_METHODS = ("keyframes", "ebsynth")


def get_method(name: str) -> Method:
    try:
        return METHODS[name]()
    except KeyError:
        raise OptionError(f"--method {name!r} is not known; use one of {', '.join(METHODS)}.") from None


__all__ = ["KEYFRAME_METHODS", "METHODS", "VIDEO_METHODS", "Method", "MethodContext", "get_method"]
