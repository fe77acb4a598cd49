"""The methods by name and what each one needs from a job: the one place that lists them.

Standard library only, so the job spec, the option model, the faces and the docs can ask
about methods without loading numpy, OpenCV, torch or diffusers::

    from rotoscope.methods.catalog import METHOD_NAMES, capabilities, methods_with

    METHOD_NAMES                           # ("gif2gif", "animatediff", "img2vid", "keyframes", "ebsynth")
    capabilities("gif2gif").per_frame      # True: takes masks and per-frame consistency techniques
    capabilities("img2vid").needs_source   # False: a prompt alone makes its still
    methods_with(options="video")          # ("animatediff", "img2vid"): VideoOptions apply
    methods_with(options="keys")           # ("keyframes", "ebsynth"): KeyOptions apply
    methods_with(control=True)             # ("gif2gif", "keyframes", "ebsynth"): ControlNet units

Each method class holds its entry (``Gif2Gif.capabilities is capabilities("gif2gif")``), and
:func:`method_class` imports a class only when it is asked for. The job runner branches on
these fields, never on a method's name.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from ..errors import OptionError


class Timeline(str, Enum):
    """Which frames, at which times, the method outputs."""

    SOURCE = "source"  # one output frame per source frame, with its time and duration
    # the method's own frames and timing (img2vid: video_frames × segments at video_fps); the
    # class's ``output_timeline(video) -> [(time, duration)]`` gives them
    OWN = "own"


class Sources(str, Enum):
    """Which source frames the method reads."""

    TODO = "todo"  # only those of the frames still to do, passed to ``run`` with their pictures
    # every source frame, read when needed through ``context.source(i)`` (i < ``context.count``);
    # the frames passed to ``run`` carry only their index and timing
    ALL = "all"
    # none frame by frame: the frames passed carry only the output timing, and the method
    # starts from what the job prepares for it (``Prepares``)
    NONE = "none"


class Redo(str, Enum):
    """What ``--frames 12-18`` redoes."""

    FRAMES = "frames"  # just those frames (animatediff anchors them on the finished frames around)
    # those frames, and every frame carried along the flow from a redone key (the stretches on its sides)
    KEY_SEGMENT = "key-segment"
    CLIP = "clip"  # the whole clip: one generation makes every frame, so a part alone would not fit the rest


class Prepares(str, Enum):
    """What the job makes for the method before it runs."""

    NOTHING = "nothing"
    # one still, the job's only source frame: the source's first frame, or with no source one
    # txt2img from the prompt (the class's ``make_still(stylizer, style)``)
    STILL = "still"
    # the keyframe selection over every source frame (KeyOptions), made once per run and given as
    # ``context.selection``; ``--frames`` expands with it and the run result counts keys with it
    KEYS = "keys"


#: the option group a method takes besides the common ones: VideoOptions ("video"), KeyOptions ("keys"), none
OptionGroup = Literal["video", "keys"] | None


@dataclass(frozen=True)
class Capabilities:
    """What a method needs from the job, declared once; the runner and the option checks read it."""

    summary: str  # one line for help texts and the docs
    timeline: Timeline = Timeline.SOURCE
    sources: Sources = Sources.TODO
    redo: Redo = Redo.FRAMES
    prepares: Prepares = Prepares.NOTHING
    per_frame: bool = False  # stylises frame by frame: takes masks and per-frame (stylize-stage) consistency techniques
    control: bool = False  # takes ControlNet units
    options: OptionGroup = None
    diffusion_only: bool = False  # needs a diffusion model (--model): a classic style cannot run it
    strength: bool = True  # uses the denoising strength (img2vid starts from noise: it has none)

    @property
    def needs_source(self) -> bool:
        """False where the method can start from the prompt alone (it prepares its still by txt2img)."""
        return self.prepares is not Prepares.STILL


@dataclass(frozen=True)
class _Entry:
    implementation: str  # "module:Class" under rotoscope.methods, imported only when asked for
    capabilities: Capabilities


_CATALOG: dict[str, _Entry] = {
    "gif2gif": _Entry("gif2gif:Gif2Gif", Capabilities(
        "every frame through img2img with the same prompt, seed and noise",
        per_frame=True, control=True)),
    "animatediff": _Entry("animatediff:AnimateDiff", Capabilities(
        "AnimateDiff video-to-video: a motion module over overlapping windows of frames",
        options="video", diffusion_only=True)),
    "img2vid": _Entry("img2vid:Img2Vid", Capabilities(
        "a still (the first frame, or txt2img from the prompt) brought to life by Stable Video Diffusion",
        timeline=Timeline.OWN, sources=Sources.NONE, redo=Redo.CLIP, prepares=Prepares.STILL,
        options="video", diffusion_only=True, strength=False)),
    "keyframes": _Entry("keyframes:Keyframes", Capabilities(
        "keyframes stylised together in plates, carried to the frames between along the optical flow",
        sources=Sources.ALL, redo=Redo.KEY_SEGMENT, prepares=Prepares.KEYS, control=True, options="keys")),
    "ebsynth": _Entry("ebsynth:EbSynth", Capabilities(
        "ControlNet-guided keyframes, guided propagation to the frames between (the EbSynth workflow)",
        sources=Sources.ALL, redo=Redo.KEY_SEGMENT, prepares=Prepares.KEYS, control=True, options="keys")),
}

#: every method, the default (gif2gif) first
METHOD_NAMES: tuple[str, ...] = tuple(_CATALOG)


def capabilities(name: str) -> Capabilities:
    """What method ``name`` declares; an unknown name is the user's mistake (OptionError naming the known ones)."""
    return _entry(name).capabilities


def methods_with(**fields: Any) -> tuple[str, ...]:
    """The methods whose capabilities have these field values, in METHOD_NAMES order,
    e.g. ``methods_with(per_frame=True)`` or ``methods_with(options="keys")``."""
    known = {f.name for f in dataclasses.fields(Capabilities)} | {"needs_source"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise TypeError(f"Capabilities has no field {', '.join(unknown)}")
    return tuple(n for n in METHOD_NAMES if all(getattr(capabilities(n), k) == v for k, v in fields.items()))


def method_class(name: str) -> type:
    """The class implementing method ``name`` (imports its module: numpy, OpenCV, …)."""
    module, cls = _entry(name).implementation.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), cls)


def _entry(name: str) -> _Entry:
    try:
        return _CATALOG[name]
    except KeyError:
        raise OptionError(f"--method {name!r} is not known; use one of {', '.join(METHOD_NAMES)}.") from None
