"""What every method shares: the context it runs in and its signature.

A method takes the frames still to do, a Stylizer and the job's options, and
yields stylised frames. Which source frames it reads, which timeline it
outputs and what the job prepares for it are declared in its
``capabilities`` (catalog.py), which the runner follows. It neither decodes,
encodes nor writes files, and knows nothing of the CLI or the job store;
``previous`` gives it the finished output of an earlier frame (sequential
techniques resume from it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..consistency.options import ConsistencyOptions
from ..core.frames import Frame
from ..media.shots import Shots
from ..stylize.base import Stylizer
from ..stylize.options import StyleOptions
from .catalog import Capabilities
from .keys import KeyOptions, KeySelection
from ..stylize.video_options import VideoOptions


@dataclass
class MethodContext:
    stylizer: Stylizer
    style: StyleOptions
    seed: int  # the job's seed, drawn once if the user gave -1
    previous: Callable[[int], np.ndarray | None]  # finished output of frame i, or None
    # the mask of frame (index, source image), H×W uint8 255 = change; None = no mask (plain img2img)
    mask: Callable[[int, np.ndarray], np.ndarray] | None = None
    # temporal-consistency techniques (consistency/); the noise mode stays style.noise
    consistency: ConsistencyOptions = field(default_factory=ConsistencyOptions)
    source: Callable[[int], np.ndarray | None] = lambda i: None  # source frame i (flow needs the previous one)
    # options of the model-side video methods (animatediff windows, img2vid segments); gif2gif ignores them
    video: VideoOptions = field(default_factory=VideoOptions)
    # the clip's length in output frames (Sources.ALL: every source frame is ``source(i)``, i < count)
    count: int = 0
    # KeyOptions of the methods that take them (keyframes, ebsynth)
    keys: KeyOptions = field(default_factory=KeyOptions)
    # Prepares.KEYS: the keys the job chose once for this run (None: the method chooses them itself)
    selection: KeySelection | None = None
    # the clip's shots (media/shots.py): nothing is carried across a cut; None = one shot
    shots: Shots | None = None

    def shot_start(self, index: int) -> int:
        """The first frame of the shot holding frame ``index``."""
        return self.shots.start_of(index) if self.shots is not None else 0


class Method(Protocol):
    name: str
    capabilities: Capabilities  # its entry in the catalog

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]: ...
