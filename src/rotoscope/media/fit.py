"""--max-size: find the best GIF settings that fit a byte budget.

Web UIs and chat apps reject uploads over a limit (~1.5 MB). Users cut by
hand: fewer colours, then a smaller frame, then a lower frame rate. We try
the same ladder, best first, and keep the first that fits.
"""

from __future__ import annotations

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

LOSSY_STEPS = (5.0, 8.0)  # cheapest first: ~30 % fewer bytes for ~0.006 SSIM (bench/gif_quality.py)
COLOR_STEPS = (256, 128, 64, 32)
SCALE_STEPS = (0.85, 0.7, 0.55, 0.4)
FPS_DIVISORS = (2, 3, 4)
SMALL_COLORS = 64  # colours used while shrinking: the colour steps already showed 256 doesn't fit


@dataclass(frozen=True)
class Attempt:
    colors: int
    scale: float = 1.0
    keep_every: int = 1
    lossy: float | None = None  # None: the user's --lossy

    def describe(self) -> str:
        parts = [f"{self.colors} colours"]
        if self.lossy is not None:
            parts.append(f"lossy {self.lossy:g}")
        if self.scale != 1.0:
            parts.append(f"{round(self.scale * 100)}% size")
        if self.keep_every != 1:
            parts.append(f"1/{self.keep_every} of the frame rate")
        return ", ".join(parts)


def ladder(start_colors: int, start_lossy: float) -> Iterator[Attempt]:
    yield Attempt(start_colors)
    strongest = max(start_lossy, LOSSY_STEPS[-1])
    for lossy in LOSSY_STEPS:
        if lossy > start_lossy:
            yield Attempt(start_colors, lossy=lossy)
    for colors in COLOR_STEPS:
        if colors < start_colors:
            yield Attempt(colors, lossy=strongest)
    small = min(SMALL_COLORS, start_colors)
    for scale in SCALE_STEPS:
        yield Attempt(small, scale, lossy=strongest)
    for every in FPS_DIVISORS:
        yield Attempt(small, SCALE_STEPS[-1], every, lossy=strongest)


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


def fit_gif(make_frames: Callable[[], Iterable[Frame]], path: Path, options: OutputOptions,
            comment: str | None = None) -> Attempt:
    """Encode to ``path`` with the best ladder step under ``options.max_size`` bytes; say what was chosen."""
    assert options.max_size is not None
    prepare_output(path, overwrite=options.overwrite)
    smallest = None
    for attempt in ladder(options.colors, options.lossy):
        temp = temp_path_for(path).with_suffix(".fit.gif")
        gif_options = GifOptions(colors=attempt.colors, dither=options.dither, palette=options.palette,
                                 loop=options.loop, comment=comment,
                                 lossy=options.lossy if attempt.lossy is None else attempt.lossy)
        with GifWriter(temp, gif_options) as writer:
            for frame in adjust(make_frames(), attempt):
                writer.write(frame)
        size = temp.stat().st_size
        smallest = size if smallest is None else min(smallest, size)
        if size <= options.max_size:
            commit(temp, path)
            if attempt != Attempt(options.colors):
                notice(f"{path.name}: {size / 1e6:.2f} MB with {attempt.describe()} to fit --max-size {options.max_size / 1e6:g} MB.")
            return attempt
        discard(temp)
    raise OutputError(
        f"{path.name} does not fit --max-size {options.max_size / 1e6:g} MB even at 40% size and a quarter of the frame rate "
        f"(smallest try: {smallest / 1e3:.0f} KB); shorten the clip with --duration or lower --fps/--width."
    )
