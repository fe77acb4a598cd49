"""--max-size: the best GIF settings that fit a byte budget, landing just under it.

Web UIs and chat apps reject uploads over a limit (~1.5 MB). A fixed ladder
of settings lands wherever its steps fall (1.01 MB for a 1.5 MB budget, at a
smaller frame size than needed); we search instead, cheapest loss first:

1. the *quality* path at full size and frame rate: ``lossy`` rises from the
   user's value to :data:`LOSSY_MAX`, then colours fall to :data:`MIN_COLORS`
   (one continuous knob ``t``, 1 = the user's settings, 0 = the least);
2. dithering off (when the user asked for it: it costs bytes, and ``lossy``
   has no effect under it), then 1/2, 1/3, 1/4 of the frame rate, each with
   the quality path again;
3. only then a smaller frame (scale down to :data:`MIN_SCALE`).

The first setting whose least quality fits is searched along its continuous
knob (``t``, or the scale; bisection with log-size interpolation) until the
file is within :data:`TARGET` of the budget (or :data:`MAX_BISECT` tries);
the largest file that fits is kept. What was used is returned and said.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..core.frames import Frame
from ..core.resize import resize
from ..errors import OutputError
from ..notices import notice
from .atomic import commit, discard, prepare_output, temp_path_for
from .gif import GifOptions, GifWriter
from .options import OutputOptions

LOSSY_MAX = 20.0  # bench/gif_quality.py: 8 costs ~0.005 SSIM; beyond 20 noise turns to flat blotches
MIN_COLORS = 32
FPS_DIVISORS = (2, 3, 4)
MIN_SCALE = 0.4  # as the old ladder: smaller than this is rarely worth having
TARGET = 0.9  # land between 90 % and 100 % of the budget
MAX_BISECT = 7  # tries per search: at least to 1/128 of the knob's range; more buys < 1 % of the budget


@dataclass(frozen=True)
class Attempt:
    colors: int
    scale: float = 1.0
    keep_every: int = 1
    lossy: float | None = None  # None: the user's --lossy
    dither: str | None = None  # None: the user's --dither

    def describe(self) -> str:
        parts = [f"{self.colors} colours"]
        if self.lossy is not None:
            parts.append(f"lossy {self.lossy:.3g}")
        if self.dither is not None:
            parts.append(f"dither {self.dither}")
        if self.keep_every != 1:
            parts.append(f"1/{self.keep_every} of the frame rate")
        if self.scale != 1.0:
            parts.append(f"{round(self.scale * 100)}% size")
        return ", ".join(parts)


def quality(t: float, colors: int, lossy: float) -> tuple[int, float | None]:
    """Colours and lossy at point ``t`` of the quality path (1: the user's, 0: the least)."""
    t = min(1.0, max(0.0, t))
    top = max(lossy, LOSSY_MAX)
    new_lossy = lossy + (top - lossy) * min(1.0, 2 * (1 - t))
    floor = min(colors, MIN_COLORS)
    share = max(0.0, 1 - 2 * t)  # 0 until t = 0.5, then 1 at t = 0
    new_colors = round(math.exp(math.log(colors) + (math.log(floor) - math.log(colors)) * share))
    return new_colors, (None if new_lossy == lossy else round(new_lossy, 3))


def settings(options: OutputOptions) -> Iterator[tuple[str | None, int]]:
    """(dither, keep_every) in the order they are given up: the user's dither, no dither, lower frame rates."""
    dithers = [None] if options.dither == "none" else [None, "none"]
    for dither in dithers:
        yield dither, 1
    for every in FPS_DIVISORS:
        yield dithers[-1], every


def adjust(frames: Iterable[Frame], attempt: Attempt) -> Iterator[Frame]:
    """Frames scaled and thinned as the attempt says; timing is kept (a kept frame lasts for those dropped)."""
    pending: Frame | None = None
    out_index = 0
    for frame in frames:
        if attempt.scale != 1.0:
            size = (max(1, round(frame.width * attempt.scale)), max(1, round(frame.height * attempt.scale)))
            frame = frame.with_image(resize(frame.image, size, "just-resize"))
        if attempt.keep_every == 1:
            yield frame
            continue
        if frame.index % attempt.keep_every == 0:
            if pending is not None:
                yield pending
                out_index += 1
            pending = replace(frame, index=out_index)
        elif pending is not None:
            pending = replace(pending, duration=frame.time + frame.duration - pending.time)
    if pending is not None:
        yield pending


class _Search:
    """Encodes attempts to temp files, keeping the largest that fits (and only it)."""

    def __init__(self, make_frames: Callable[[], Iterable[Frame]], path: Path, options: OutputOptions,
                 comment: str | None) -> None:
        self.make_frames, self.path, self.options, self.comment = make_frames, path, options, comment
        self.budget = options.max_size or 0
        self.best: tuple[int, Attempt, Path] | None = None
        self.smallest: int | None = None
        self.tries = 0

    def size(self, attempt: Attempt) -> int:
        self.tries += 1
        temp = temp_path_for(self.path).with_suffix(f".fit{self.tries}.gif")
        gif_options = GifOptions(colors=attempt.colors, palette=self.options.palette, loop=self.options.loop,
                                 comment=self.comment,
                                 dither=self.options.dither if attempt.dither is None else attempt.dither,
                                 lossy=self.options.lossy if attempt.lossy is None else attempt.lossy)
        try:
            with GifWriter(temp, gif_options) as writer:
                for frame in adjust(self.make_frames(), attempt):
                    writer.write(frame)
            size = temp.stat().st_size
        except BaseException:
            discard(temp)
            raise
        self.smallest = size if self.smallest is None else min(self.smallest, size)
        if size <= self.budget and (self.best is None or size > self.best[0]):
            if self.best is not None:
                discard(self.best[2])
            self.best = (size, attempt, temp)
        else:
            discard(temp)
        return size

    def close(self) -> None:
        if self.best is not None:
            discard(self.best[2])

    def done(self) -> bool:
        return self.best is not None and self.best[0] >= TARGET * self.budget

    def bisect(self, make: Callable[[float], Attempt], low: float, low_size: int, high: float,
               high_size: int | None = None) -> None:
        """``make(low)`` fits (``low_size`` bytes), ``make(high)`` does not (or is untried): find the
        largest value that fits, aiming at the middle of the window.

        Bytes grow about exponentially along a knob, so the next try interpolates
        log(size) between the ends (regula falsi), kept off the ends so each try
        at least narrows the interval by a tenth; a plain halving when the high
        end is untried.
        """
        aim = math.log((1 + TARGET) / 2 * self.budget)
        for _ in range(MAX_BISECT):
            if self.done():
                return
            if high_size is None or high_size <= low_size:
                value = (low + high) / 2
            else:
                share = (aim - math.log(low_size)) / (math.log(high_size) - math.log(low_size))
                value = low + (high - low) * min(0.9, max(0.1, share))
            size = self.size(make(value))
            if size <= self.budget:
                low, low_size = value, size
            else:
                high, high_size = value, size


def fit_gif(make_frames: Callable[[], Iterable[Frame]], path: Path, options: OutputOptions,
            comment: str | None = None) -> Attempt:
    """Encode to ``path`` with the best settings under ``options.max_size`` bytes (within 10 % when it
    has to cut); return and say what was used."""
    assert options.max_size is not None
    prepare_output(path, overwrite=options.overwrite)
    search = _Search(make_frames, path, options, comment)
    try:
        _search(search, options)
        if search.best is None:
            raise OutputError(
                f"{path.name} does not fit --max-size {options.max_size / 1e6:g} MB even at {MIN_COLORS} colours, "
                f"1/{FPS_DIVISORS[-1]} of the frame rate and {round(MIN_SCALE * 100)}% size (smallest try: "
                f"{_bytes(search.smallest or 0)}); shorten the clip with --duration or lower --fps/--width."
            )
        size, attempt, temp = search.best
        commit(temp, path)
        search.best = None
    finally:
        search.close()
    if attempt != Attempt(options.colors):
        notice(f"{path.name}: {_bytes(size)} ({size / options.max_size:.0%} of --max-size {_bytes(options.max_size)}) "
               f"with {attempt.describe()}.")
    return attempt


def _bytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


def _search(search: _Search, options: OutputOptions) -> None:
    colors, lossy = options.colors, options.lossy

    def at(t: float, dither: str | None, every: int, scale: float = 1.0) -> Attempt:
        c, lossy_t = quality(t, colors, lossy)
        return Attempt(c, scale, every, lossy_t, dither)

    full = search.size(Attempt(colors))
    if full <= search.budget:
        return  # fits as asked: nothing is lowered
    dither, every, above = None, 1, full
    for dither, every in settings(options):
        least = search.size(at(0.0, dither, every))
        if least <= search.budget:
            # The user's settings are the top of the first setting's path (already tried).
            search.bisect(lambda t: at(t, dither, every), 0.0, least, 1.0, full if dither is None and every == 1 else None)
            return
        above = least
    # Not even the least quality at 1/4 of the frame rate fits: a smaller frame.
    smallest = search.size(at(0.0, dither, every, MIN_SCALE))
    if smallest <= search.budget:
        search.bisect(lambda s: at(0.0, dither, every, s), MIN_SCALE, smallest, 1.0, above)
