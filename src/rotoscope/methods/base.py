"""What every method shares: the signature and the registry by name.

A method takes source frames (only those still to do), a Stylizer and the
job's options, and yields stylised frames. It neither decodes nor encodes,
and knows nothing of the CLI or the job store; ``previous`` gives it the
finished output of an earlier frame (sequential techniques resume from it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..media.frames import Frame
from ..stylize.base import Stylizer
from ..stylize.options import StyleOptions


@dataclass
class MethodContext:
    stylizer: Stylizer
    style: StyleOptions
    seed: int  # the job's seed, drawn once if the user gave -1
    previous: Callable[[int], np.ndarray | None]  # finished output of frame i, or None


class Method(Protocol):
    name: str

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]: ...
