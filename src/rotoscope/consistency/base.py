"""What every consistency technique shares: one signature, small objects that keep state between frames.

A technique is built from the job's :class:`ConsistencyOptions` and sees each
frame as a :class:`Step`: ``prepare(step)`` runs before the model (it may set
``step.init``, the picture the model starts from), ``finish(step)`` after it
(it may change ``step.output``). Techniques run in the order the user listed
them. A technique reads nothing from before the current frame's shot (``step.shot_start``:
sequential techniques restart at a cut). State a technique needs from earlier frames comes from
``step.history`` — outputs computed in this run, or else the finished frames
in the job store — so a sequential technique resumes after a kill from the
last finished frame (the shape of StreamDiffusion's ``image_filter.py``
objects; the family/registry of k-diffusion's ``sampling.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .options import ConsistencyOptions


class History:
    """Earlier frames (source and output) by index: recent ones from memory, the rest from the job store.

    Holds the first frame and the last ``keep`` frames only, so memory stays flat.
    """

    def __init__(self, source: Callable[[int], np.ndarray | None] | None = None,
                 output: Callable[[int], np.ndarray | None] | None = None, keep: int = 2) -> None:
        self._load_source = source or (lambda i: None)
        self._load_output = output or (lambda i: None)
        self._sources: dict[int, np.ndarray] = {}
        self._outputs: dict[int, np.ndarray] = {}
        self.keep = keep

    def source(self, index: int) -> np.ndarray | None:
        if index < 0:
            return None
        found = self._sources.get(index)
        return found if found is not None else self._load_source(index)

    def output(self, index: int) -> np.ndarray | None:
        if index < 0:
            return None
        found = self._outputs.get(index)
        return found if found is not None else self._load_output(index)

    def remember(self, index: int, source: np.ndarray, output: np.ndarray) -> None:
        self._sources[index], self._outputs[index] = source, output
        for store in (self._sources, self._outputs):
            for old in [k for k in store if k != 0 and k <= index - self.keep]:
                del store[old]


@dataclass
class Step:
    """One frame on its way through the model."""

    index: int
    source: np.ndarray  # H×W×3 uint8 RGB source frame
    seed: int
    history: History
    stylizer: Any = None  # the job's Stylizer (cross-frame attention installs itself on it)
    flow: str = "dis"
    shot_start: int = 0  # the first frame of this frame's shot: nothing before it is read (``--shots``)
    init: np.ndarray | None = None  # what the model starts from; None = the source frame
    output: np.ndarray | None = None  # the stylised frame (after the model; techniques may change it)
    notes: dict[str, Any] = field(default_factory=dict)  # what a technique hands from prepare to finish
    _motion: tuple[np.ndarray, np.ndarray] | None = None

    def previous_output(self) -> np.ndarray | None:
        """The previous frame's output; None for the first frame of a shot."""
        return self.history.output(self.index - 1) if self.index > self.shot_start else None

    def motion(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(flow current → previous, occluded mask) between the previous and this source frame; None for the
        first frame of a shot."""
        if self.index <= self.shot_start:
            return None
        if self._motion is None:
            previous = self.history.source(self.index - 1)
            if previous is None:
                return None
            from ..core.flow import motion
            from ..core.resize import fit

            self._motion = motion(fit(previous, self.source.shape[:2]), self.source[..., :3], self.flow)
        return self._motion

    def warped_previous_output(self, shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The previous output moved onto this frame along the source flow, and the occluded mask; at ``shape``."""
        found = self.motion()
        previous = self.previous_output()
        if found is None or previous is None:
            return None
        from ..core.flow import warp_to
        from ..core.resize import fit

        backward, occluded = found
        warped = warp_to(np.ascontiguousarray(fit(previous, self.source.shape[:2])), backward)
        if shape is not None and tuple(shape) != warped.shape[:2]:
            import cv2

            warped = fit(warped, shape)
            occluded = cv2.resize(occluded.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        return warped, occluded


class Technique:
    """Base of the family: no-op hooks; subclasses set the class attributes and override what they need."""

    name: ClassVar[str] = ""
    #: what it costs, in words (shown by the README and --help)
    cost: ClassVar[str] = ""
    #: True when a frame depends on the previous frame's output (forces one frame per model call)
    sequential: ClassVar[bool] = False
    #: "stylize" (around each model call) or "encode" (a post-filter over finished frames, which stay untouched)
    stage: ClassVar[str] = "stylize"
    #: the StyleOptions.noise value this name stands for (noise modes only)
    noise: ClassVar[str | None] = None
    #: needs a diffusers model (hooks inside the UNet)
    needs_model: ClassVar[bool] = False

    def __init__(self, options: ConsistencyOptions) -> None:
        self.options = options

    def prepare(self, step: Step) -> None:
        """Before the model: may set ``step.init``."""

    def finish(self, step: Step) -> None:
        """After the model: may change ``step.output``."""


def blend(a: np.ndarray, b: np.ndarray, weight_b: float) -> np.ndarray:
    """(1 − w)·a + w·b on uint8 pictures, rounded."""
    mixed = a[..., :3].astype(np.float32) * (1 - weight_b) + b[..., :3].astype(np.float32) * weight_b
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def blend_where(a: np.ndarray, b: np.ndarray, weight_b: float, mask: np.ndarray) -> np.ndarray:
    """:func:`blend` where ``mask`` is True, ``a`` elsewhere."""
    out = a[..., :3].copy()
    out[mask] = blend(a[..., :3][mask], b[..., :3][mask], weight_b)
    return out
