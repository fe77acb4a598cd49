"""gif2gif: every frame through img2img with the same prompt, seed and low strength.

The workflow users run by hand in the web UI, frame by frame. With the default
``noise="shared"`` every frame starts from the same initial noise (what one
fixed seed gives); ``per-frame`` uses seed + frame index.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from ..media.frames import Frame
from .base import MethodContext


class Gif2Gif:
    name = "gif2gif"

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]:
        iterator = iter(frames)
        size = context.style.batch_size
        while batch := list(islice(iterator, size)):
            images = context.stylizer.stylize(
                [f.image for f in batch], seed=context.seed, indices=[f.index for f in batch]
            )
            for frame, image in zip(batch, images):
                yield frame.with_image(image)
