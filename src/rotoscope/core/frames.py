"""The unit that flows through every stage: one picture plus its timing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One frame of a clip.

    ``time`` and ``duration`` are in seconds, measured from the start of the
    clip *after* trimming, so a frame keeps its place on the timeline through
    every stage (stylising, masking, encoding) and outputs play at the
    source's speed.
    """

    index: int  # 0-based position in the processed clip
    time: float  # presentation time (s)
    duration: float  # how long it is shown (s)
    image: np.ndarray  # H×W×3 (RGB) or H×W×4 (RGBA), uint8
    # The lossless PNG this picture was read from, unchanged (a job's finished
    # frame): a PNG writer copies its bytes instead of encoding the picture again.
    png: Path | None = field(default=None, compare=False)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def has_alpha(self) -> bool:
        return self.image.ndim == 3 and self.image.shape[2] == 4

    def with_image(self, image: np.ndarray) -> "Frame":
        """The same frame (index and timing) with another picture."""
        return replace(self, image=image, png=None)
