"""img2vid: a still brought to life by Stable Video Diffusion; ``--segments N`` chains clips.

The still is the source image (or the first frame of a clip), or, with no source, one
txt2img makes from the prompt (:meth:`Img2Vid.make_still`; the job store keeps it as the
job's one source frame, so a resumed job reuses it). ``run`` reads the still as
``context.source(0)``: the frames it is given carry only the output timing. Each segment is ``video_frames`` frames conditioned on a
still: the first on the given one, every later one on the last frame of the segment before
(that frame is not repeated). Segments are the job-store units: a resumed job takes the seed
frame from the finished frames on disk. The output plays at ``video_fps``, each frame lasting
exactly 1/fps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import TYPE_CHECKING

import numpy as np

from ..core.frames import Frame
from ..errors import JobError
from .base import MethodContext
from .catalog import capabilities
from ..stylize.video_options import VideoOptions

if TYPE_CHECKING:
    from ..stylize.options import StyleOptions


def output_timeline(video: VideoOptions) -> list[tuple[float, float]]:
    """(time, duration) of every output frame."""
    fps = video.video_fps
    return [(i / fps, 1 / fps) for i in range(video.clip_frames())]


def segment_of(index: int, frames: int) -> int:
    return 0 if index < frames else 1 + (index - frames) // (frames - 1)


def segment_span(segment: int, frames: int) -> range:
    if segment == 0:
        return range(0, frames)
    start = frames + (segment - 1) * (frames - 1)
    return range(start, start + frames - 1)


class Img2Vid:
    name = "img2vid"
    capabilities = capabilities("img2vid")

    @staticmethod
    def output_timeline(video: VideoOptions) -> list[tuple[float, float]]:
        return output_timeline(video)

    @staticmethod
    def make_still(stylizer, style: StyleOptions) -> np.ndarray:
        """With no source: the still, made by txt2img from the prompt at :func:`still_size`."""
        return stylizer.make_still(style.seed, still_size(style))

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]:
        count = context.video.video_frames
        last: dict[int, np.ndarray] = {}  # last frame of the segment just made
        for segment, group in groupby(frames, key=lambda f: segment_of(f.index, count)):
            group = list(group)
            if segment == 0:
                still = context.source(0)
                if still is None:
                    raise JobError("img2vid has no still to start from; give a source image or a prompt.")
            else:
                seed_index = segment_span(segment - 1, count)[-1]
                still = last.get(seed_index)
                if still is None:
                    still = context.previous(seed_index)
                if still is None:
                    raise JobError(f"segment {segment} starts from frame {seed_index}, which is not finished; run the job without --frames first.")
            clip = context.stylizer.animate_still(still, seed=(context.seed + segment) % 2**32)
            outputs = clip if segment == 0 else clip[1:]
            span = segment_span(segment, count)
            last = {span[-1]: outputs[-1]}
            for frame in group:
                yield frame.with_image(outputs[frame.index - span.start])


def still_size(style: StyleOptions) -> tuple[int, int]:
    """txt2img size when there is no source: --width/--height (multiples of 8), else 512 square."""
    from ..stylize.resize import round8

    width, height = style.width, style.height
    if width and not height:
        height = width
    if height and not width:
        width = height
    return round8(width or 512), round8(height or 512)
