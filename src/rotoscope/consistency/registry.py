"""The technique registry and how a job's techniques are built and run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from .base import History, Step, Technique
from .options import NOISE_NAMES, ConsistencyOptions, parse_consistency
from .techniques import ColorMatch, CrossFrameAttention, Deflicker, FlowWarp, Loopback, PerFrameNoise, SharedNoise

#: every technique by its --consistency name, cheapest first
TECHNIQUES: dict[str, type[Technique]] = {
    cls.name: cls
    for cls in (SharedNoise, PerFrameNoise, ColorMatch, Loopback, FlowWarp, CrossFrameAttention, Deflicker)
}


def build_techniques(options: ConsistencyOptions, noise: str = "shared", stage: str = "stylize") -> list[Technique]:
    """The job's techniques for one stage, in the order given; the noise mode comes first (stylize stage)."""
    chosen = [TECHNIQUES[name](options) for name in options.techniques if TECHNIQUES[name].stage == stage]
    if stage == "stylize":
        noise_name = next(n for n, v in NOISE_NAMES.items() if v == noise)
        chosen.insert(0, TECHNIQUES[noise_name](options))
    return chosen


def post_filter(frames: Iterable, options: ConsistencyOptions, source: Callable[[int], np.ndarray | None],
                shots=None) -> Iterator:
    """The encode-stage techniques (deflicker) over finished frames, streamed; the frames on disk stay untouched.
    ``shots`` (media/shots.py ``Shots``): each restarts at a cut."""
    techniques = build_techniques(options, stage="encode")
    if not techniques:
        yield from frames
        return
    history = History(source=source)
    for frame in frames:
        src = source(frame.index)
        step = Step(frame.index, src[..., :3] if src is not None else frame.image[..., :3], 0, history, flow=options.flow,
                    shot_start=shots.start_of(frame.index) if shots is not None else 0)
        step.output = frame.image[..., :3]
        for technique in techniques:
            technique.finish(step)
        history.remember(frame.index, step.source, step.output)
        yield frame.with_image(step.output)

