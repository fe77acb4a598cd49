"""animatediff: AnimateDiff video-to-video, the motion inside the model, in overlapping context windows.

A motion module sees ``context_length`` frames at once (16 in training). Longer clips are
done window after window: each later window repeats the last ``context_overlap`` finished
frames as *anchors* (their output is pinned, the motion module reads across them) and adds
``context_length - overlap`` new frames. A window's frames are yielded, and saved by the job
store, as soon as it is done, so a kill loses at most the window in progress, memory stays
flat however long the clip is, and a resumed job takes its anchors from the finished frames
on disk. A redo of frames inside a finished clip (``--frames 12-18``) anchors both sides. A
window never spans a cut (``--shots``): each shot starts a fresh window, without anchors from
the shot before, and a short shot is a short window.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..core.frames import Frame
from .base import MethodContext
from .catalog import capabilities


class AnimateDiff:
    name = "animatediff"
    capabilities = capabilities("animatediff")

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]:
        video = context.video
        length, overlap = video.context_length, video.context_overlap
        recent: dict[int, np.ndarray] = {}  # the last window's outputs: anchors without a disk read

        def finished(i: int) -> np.ndarray | None:
            return recent[i] if i in recent else context.previous(i)

        iterator = iter(frames)
        pending: Frame | None = None
        while True:
            first = pending if pending is not None else next(iterator, None)
            pending = None
            if first is None:
                return
            # a window never spans a cut: anchors and new frames come from the shot of its first new frame
            start = context.shot_start(first.index)
            end = context.shots.end_of(first.index) if context.shots is not None else None
            left: list[tuple[int, np.ndarray]] = []
            j = first.index - 1
            while j >= start and len(left) < overlap and (image := finished(j)) is not None:
                left.insert(0, (j, image))
                j -= 1
            new = [first]
            while len(left) + len(new) < length:  # consecutive to-do frames fill the window
                frame = next(iterator, None)
                if frame is None:
                    break
                if frame.index != new[-1].index + 1 or (end is not None and frame.index > end):
                    pending = frame
                    break
                new.append(frame)
            right: list[tuple[int, np.ndarray]] = []
            k = new[-1].index + 1
            while (len(right) < overlap and len(left) + len(new) + len(right) < length
                   and (end is None or k <= end) and (pending is None or pending.index != k) and (image := finished(k)) is not None):
                right.append((k, image))
                k += 1
            # a short last window reaches further back, so the motion module still sees a full window
            while len(left) + len(new) + len(right) < length and j >= start and (image := finished(j)) is not None:
                left.insert(0, (j, image))
                j -= 1
            indices = [i for i, _ in left] + [f.index for f in new] + [i for i, _ in right]
            sources = [None] * len(left) + [f.image for f in new] + [None] * len(right)
            anchors = {p: image for p, (_, image) in enumerate(left)}
            anchors.update({len(left) + len(new) + p: image for p, (_, image) in enumerate(right)})
            outputs = context.stylizer.animate(sources, seed=context.seed, indices=indices, anchors=anchors)
            recent = {}
            for frame, image in zip(new, outputs):
                recent[frame.index] = image
                yield frame.with_image(image)
