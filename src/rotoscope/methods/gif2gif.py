"""gif2gif: every frame through img2img with the same prompt, seed and low strength.

The workflow users run by hand in the web UI, frame by frame. With the default
``noise="shared"`` every frame starts from the same initial noise (what one
fixed seed gives); ``per-frame`` uses seed + frame index. Consistency
techniques (``--consistency``, consistency/) run around each model call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from ..consistency import History, Step, Technique, build_techniques
from ..core.frames import Frame
from .base import MethodContext
from .catalog import capabilities


class Gif2Gif:
    name = "gif2gif"
    capabilities = capabilities("gif2gif")

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]:
        iterator = iter(frames)
        techniques = build_techniques(context.consistency, context.style.noise)
        if len(techniques) > 1:  # more than the noise mode: frames go one at a time through the techniques
            yield from self._run_steps(iterator, context, techniques)
            return
        size = context.style.batch_size
        while batch := list(islice(iterator, size)):
            masks = [context.mask(f.index, f.image) for f in batch] if context.mask is not None else None
            images = context.stylizer.stylize(
                [f.image for f in batch], seed=context.seed, indices=[f.index for f in batch], mask=masks
            )
            for frame, image in zip(batch, images):
                yield frame.with_image(image)

    def _run_steps(self, frames: Iterator[Frame], context: MethodContext, techniques: list[Technique]) -> Iterator[Frame]:
        """One frame per model call: each technique prepares the init and finishes the output.

        Earlier frames come from this run or, after a kill, from the job store
        (``context.previous`` / ``context.source``), so sequential techniques resume.
        """
        history = History(source=context.source, output=context.previous)
        for frame in frames:
            source = frame.image[..., :3]
            step = Step(frame.index, source, context.seed, history, stylizer=context.stylizer,
                        flow=context.consistency.flow, shot_start=context.shot_start(frame.index))
            for technique in techniques:
                technique.prepare(step)
            mask = [context.mask(frame.index, frame.image)] if context.mask is not None else None
            init = [step.init] if step.init is not None else None
            step.output = context.stylizer.stylize([frame.image], seed=context.seed, indices=[frame.index],
                                                   init=init, mask=mask)[0]
            for technique in techniques:
                technique.finish(step)
            history.remember(frame.index, source, step.output)
            yield frame.with_image(step.output)
