"""Shots: where a clip's hard cuts are, found on the frames we decode (``--shots auto|none|LIST``).

A cut is a frame whose change from the frame before it stands out from the changes around it:
the rule of PySceneDetect's ``AdaptiveDetector`` (a rolling ratio), on a content score like its
``ContentDetector``'s (mean absolute change of hue, saturation and value, 0-255, on a small
blurred copy) averaged with its ``HistogramDetector``'s (how far the colour histogram moved:
a pan or a moving object barely moves it, a cut to another scene does). Frame ``i`` starts a new shot when

- its score is at least ``MIN_CHANGE`` (a cut changes the picture a lot), and
- its score is at least ``RATIO`` × the median score of the ``WINDOW`` frames on each side
  (not counting itself): busy footage or a low sampling fps raises every score alike, so the
  ratio, not the level, tells a cut from fast motion, and
- it is at least ``MIN_SHOT`` frames after the previous cut.

Repeated frames (a clip sampled above its own rate) are not counted as neighbours.

Why our own rule rather than ``scenedetect``: its wheel requires ``opencv-python``, which would be
installed over (and fight with) the ``opencv-python-headless`` the project uses; the rule is a
dozen lines over the frames that are decoded anyway. Frame indices are 0-based, after the media
options; ``Shots.cuts`` are the first frames of shots 2…n.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import OptionError

if TYPE_CHECKING:
    import numpy as np

WINDOW = 2
RATIO = 3.0
MIN_CHANGE = 12.0
MIN_SHOT = 2
#: a change this small is a repeated frame: it is skipped when the neighbours are counted
DUPLICATE = 0.5
#: pictures are compared at this width (a cut is a change of the whole picture)
MEASURE_WIDTH = 96
#: hue × saturation × value bins of the colour histogram
HIST_BINS = (8, 4, 4)


@dataclass(frozen=True)
class Shots:
    """A clip of ``count`` frames split at ``cuts`` (each the first frame of a shot after the first)."""

    count: int
    cuts: tuple[int, ...] = ()
    scores: tuple[float, ...] = ()  # auto: each frame's change from the one before (0-255; frame 0: 0)

    @property
    def starts(self) -> list[int]:
        return [0, *self.cuts]

    def spans(self) -> list[tuple[int, int]]:
        """(first, last) frame of every shot, inclusive."""
        ends = [c - 1 for c in self.cuts] + [self.count - 1]
        return list(zip(self.starts, ends))

    def start_of(self, index: int) -> int:
        """The first frame of the shot holding frame ``index``."""
        pos = bisect.bisect_right(self.cuts, index)
        return self.cuts[pos - 1] if pos else 0

    def end_of(self, index: int) -> int:
        """The last frame of the shot holding frame ``index``."""
        pos = bisect.bisect_right(self.cuts, index)
        return self.cuts[pos] - 1 if pos < len(self.cuts) else self.count - 1

    def same_shot(self, a: int, b: int) -> bool:
        return self.start_of(a) == self.start_of(b)

    def to_list(self, times: list[float] | None = None, end: float | None = None) -> list[dict]:
        """Each shot as {shot, start_frame, end_frame, frames[, start, end]} (times in seconds when given)."""
        out = []
        for n, (a, b) in enumerate(self.spans()):
            item = {"shot": n + 1, "start_frame": a, "end_frame": b, "frames": b - a + 1}
            if times is not None:
                item["start"] = round(times[a], 4)
                item["end"] = round(times[b + 1] if b + 1 < len(times) else (end if end is not None else times[b]), 4)
            out.append(item)
        return out


def one_shot(count: int) -> Shots:
    return Shots(count)


def parse_shots(text: str) -> tuple[str, list[int]]:
    """``auto`` → ("auto", []); ``none`` → ("none", []); ``24,51`` → ("list", [24, 51]) (first frames of shots)."""
    text = (text or "").strip().lower()
    if text in ("auto", "none"):
        return text, []
    try:
        cuts = sorted({int(p) for p in text.replace(" ", "").split(",") if p})
    except ValueError:
        cuts = []
    if not cuts or cuts[0] < 0:
        raise OptionError(f"--shots {text!r} is not understood; write auto, none, or the first frames of shots, e.g. 24,51.")
    return "list", cuts


def check_shots(text: str) -> None:
    parse_shots(text)


def signature(image: "np.ndarray") -> tuple["np.ndarray", "np.ndarray"]:
    """A small blurred HSV copy of a frame and its normalised HSV histogram (what :func:`change` compares)."""
    import cv2
    import numpy as np

    rgb = np.ascontiguousarray(image[..., :3])
    h, w = rgb.shape[:2]
    if w > MEASURE_WIDTH:
        rgb = cv2.resize(rgb, (MEASURE_WIDTH, max(1, round(h * MEASURE_WIDTH / w))), interpolation=cv2.INTER_AREA)
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 256, 0, 256, 0, 256]).ravel()
    return hsv.astype(np.float32), hist / max(float(hist.sum()), 1.0)


def change(a: tuple["np.ndarray", "np.ndarray"], b: tuple["np.ndarray", "np.ndarray"]) -> float:
    """The mean of two changes, each 0-255: the pictures' (mean absolute change of hue, saturation and
    value: motion moves it too) and their colour histograms' (half the L1 distance: motion barely moves it)."""
    import numpy as np

    if a[0].shape != b[0].shape:
        return 255.0
    content = float(np.abs(a[0] - b[0]).mean())
    colours = float(np.abs(a[1] - b[1]).sum()) * 127.5
    return (content + colours) / 2


def cuts_from_scores(scores: list[float]) -> list[int]:
    """The adaptive rule (module text) over each frame's change from the frame before (``scores[0]`` unused)."""
    import numpy as np

    cuts: list[int] = []
    n = len(scores)
    moving = [j for j in range(1, n) if scores[j] > DUPLICATE]  # a repeated frame (fps raised) is no neighbour
    for pos, i in enumerate(moving):
        if scores[i] < MIN_CHANGE or i - (cuts[-1] if cuts else 0) < MIN_SHOT:
            continue
        around = [scores[j] for j in moving[max(0, pos - WINDOW):pos] + moving[pos + 1:pos + 1 + WINDOW]]
        if not around:
            continue
        if scores[i] >= RATIO * max(float(np.median(around)), 1.0):
            cuts.append(i)
    return cuts


class Detector:
    """Shot detection fed one frame at a time (only the previous frame's small signature is held), so
    it rides along a pass that reads the frames for something else."""

    def __init__(self) -> None:
        self.scores: list[float] = []
        self._previous = None

    def add(self, image: "np.ndarray") -> None:
        current = signature(image)
        self.scores.append(0.0 if self._previous is None else change(self._previous, current))
        self._previous = current

    def shots(self) -> Shots:
        return Shots(len(self.scores), tuple(cuts_from_scores(self.scores)), tuple(self.scores))


def detect(frames: Iterable["np.ndarray"]) -> Shots:
    """Find the cuts of frames streamed in order."""
    detector = Detector()
    for image in frames:
        detector.add(image)
    return detector.shots()


def find_shots(frames: Iterable["np.ndarray"], count: int | None, text: str = "auto") -> Shots:
    """The shots of a clip by ``--shots``: detected (auto; reads ``frames``), none (one shot), or given.
    ``count`` may be None for auto (the frames are counted)."""
    mode, cuts = parse_shots(text)
    if mode == "auto":
        return detect(frames)
    if count is None:
        count = sum(1 for _ in frames)
    if mode == "none":
        return Shots(count)
    outside = [c for c in cuts if c >= count]
    if outside:
        raise OptionError(f"--shots {text}: frame {outside[0]} is outside the clip: it has {count} frames (0–{count - 1}).")
    return Shots(count, tuple(c for c in cuts if c > 0))
