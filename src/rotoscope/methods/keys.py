"""Keyframes: which frames the model stylises in the keyframe methods (keyframes, ebsynth).

``--keys every:N`` takes frames 0, N, 2N, …; ``--keys 0,12,30`` names them (0-based, after the
media options); ``--keys auto`` chooses them by change, as ebsynth_utility does: a frame
becomes a key when it differs from the last key by more than ``key_threshold`` (mean absolute
difference of Canny edge maps, or of the pictures with ``key_measure=pixel``, 0–255) and
is at least ``key_min_gap`` frames after it, or when ``key_max_gap`` frames have passed. The
first frame of every shot (``--shots``: media/shots.py finds the hard cuts, or they are given)
is always a key, whatever ``--keys`` says and however close to the last key, and propagation
never crosses it, since nothing can be carried across a cut. Frame 0 is always a key.

``KeyOptions`` is kept light (no numpy at import): ``jobs/spec.py`` imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OptionError
from ..options import check_fields, method, option

if TYPE_CHECKING:
    import numpy as np

    from ..media.shots import Shots

KEY_MEASURES = ("edge", "pixel")
#: pictures are compared at this width (change measures do not need detail; keeps auto fast)
MEASURE_WIDTH = 160
_PLATE_RE = re.compile(r"^(\d+)x(\d+)$")


@dataclass
class KeyOptions:
    """Keyframe selection and the keyframe methods' knobs."""

    keys: str = option("every:10", panel="Keyframes", owner=method("keyframes", "ebsynth"), infotext="Keys",
                       help="Keyframes: every:N | auto (by change, as ebsynth_utility) | 0,12,30 (0-based, after the "
                       "media options).")
    key_measure: str = option("edge", panel="Keyframes", owner=method("keyframes", "ebsynth"), choices=KEY_MEASURES, infotext="Key measure",
                              help="--keys auto: edge (Canny maps) | pixel difference.")
    key_threshold: float = option(8.5, panel="Keyframes", owner=method("keyframes", "ebsynth"), low=0, low_open=True, high=255,
                                  infotext="Key threshold", hint="mean change, 0-255; ebsynth_utility uses 8.5",
                                  help="--keys auto: change from the last key (0-255) that makes a new key.")
    key_min_gap: int = option(10, panel="Keyframes", owner=method("keyframes", "ebsynth"), low=1, infotext="Key min gap",
                              help="--keys auto: frames at least between keys, cuts excepted.")
    key_max_gap: int = option(300, panel="Keyframes", owner=method("keyframes", "ebsynth"), low=1, infotext="Key max gap",
                              help="--keys auto: frames at most between keys.")
    plate: str = option("2x2", panel="Keyframes", owner=method("keyframes"), infotext="Plate",
                        help="keyframes: keys tiled COLSxROWS into one image and stylised together (1x1: one by one).")
    key_color_match: bool = option(False, panel="Keyframes", owner=method("keyframes", "ebsynth"), infotext="Key color match",
                                   help="Match every key's colours to the first key's (LAB mean/std).")
    refine: bool = option(True, panel="Keyframes", owner=method("ebsynth"), infotext="Refine",
                          help="ebsynth: patch-based refinement guided by the source where the flow warp is unreliable.")

    def validate(self) -> "KeyOptions":
        check_fields(self)
        parse_keys(self.keys)
        if not self.key_min_gap <= self.key_max_gap:
            raise OptionError(f"--key-min-gap {self.key_min_gap} must be at most --key-max-gap {self.key_max_gap}.")
        self.plate_shape()
        return self

    def plate_shape(self) -> tuple[int, int]:
        """(columns, rows) of a plate."""
        match = _PLATE_RE.match(self.plate.strip().lower())
        if not match or not (1 <= int(match[1]) <= 4 and 1 <= int(match[2]) <= 4):
            raise OptionError(f"--plate {self.plate!r} must be COLSxROWS with 1-4 each, e.g. 2x2 (1x1 stylises keys one by one).")
        return int(match[1]), int(match[2])


def parse_keys(text: str) -> tuple[str, int | list[int] | None]:
    """``every:N`` → ("every", N); ``auto`` → ("auto", None); ``0,12,30`` → ("list", [0, 12, 30])."""
    text = text.strip().lower()
    if text == "auto":
        return "auto", None
    if text.startswith("every:"):
        try:
            n = int(text.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise OptionError(f"--keys {text!r}: N must be a whole number of frames, at least 1, e.g. every:10.")
        return "every", n
    try:
        indices = sorted({int(p) for p in text.replace(" ", "").split(",") if p})
    except ValueError:
        raise OptionError(f"--keys {text!r} is not understood; write every:N, auto, or frame indices like 0,12,30.") from None
    if not indices or indices[0] < 0:
        raise OptionError(f"--keys {text!r}: give 0-based frame indices, e.g. 0,12,30.")
    return "list", indices


def _small_grey(image: "np.ndarray") -> "np.ndarray":
    import cv2
    import numpy as np

    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    if w > MEASURE_WIDTH:
        grey = cv2.resize(grey, (MEASURE_WIDTH, max(1, round(h * MEASURE_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return grey


def _signature(image: "np.ndarray", measure: str) -> "np.ndarray":
    import cv2
    import numpy as np

    grey = _small_grey(image)
    if measure == "edge":
        edges = cv2.Canny(grey, 100, 200)
        return cv2.GaussianBlur(edges, (5, 5), 1.0).astype(np.float32)  # a 1-px shift is not a change
    return grey.astype(np.float32)


def change(a: "np.ndarray", b: "np.ndarray") -> float:
    import numpy as np

    return float(np.abs(a - b).mean())


@dataclass
class KeySelection:
    keys: list[int]
    cuts: list[int]  # keys that start a new scene: nothing is propagated across them
    scores: list[float]  # auto: each frame's change from the previous frame (0-255)
    shots: list[dict] = field(default_factory=list)  # ``rotoscope keys``: the clip's shots (Shots.to_list, with times)


def select_keys(frames: Iterable["np.ndarray"], count: int | None, options: KeyOptions,
                shots: "Shots | None" = None) -> KeySelection:
    """Choose the keyframes of a clip of ``count`` frames (``frames`` streamed in order; only auto reads them,
    and auto counts them itself: ``count`` may be None). ``shots``: the clip's shots (their first frames become
    keys and cuts); None: auto finds them on the frames it reads, every:N and a list have none."""
    mode, value = parse_keys(options.keys)
    if mode == "auto":
        return _auto_keys(frames, options, shots)
    if not count:
        raise OptionError("the clip has no frames to choose keys from.")
    if mode == "every":
        keys = list(range(0, count, int(value)))
    elif mode == "list":
        outside = [i for i in value if i >= count]
        if outside:
            raise OptionError(f"--keys {options.keys}: frame {outside[0]} is outside the clip: it has {count} frames (0–{count - 1}).")
        keys = sorted(set(value) | {0})
    else:
        raise AssertionError(mode)
    cuts = list(shots.cuts) if shots is not None else []
    return KeySelection(sorted(set(keys) | set(cuts)), cuts, [])


def _auto_keys(frames: Iterable["np.ndarray"], options: KeyOptions, shots: "Shots | None") -> KeySelection:
    import numpy as np

    from ..media.shots import Detector

    detector = Detector() if shots is None else None
    signatures = []
    for f in frames:
        signatures.append(_signature(f, options.key_measure).astype(np.float16))  # small: 160 px wide
        if detector is not None:
            detector.add(f)
    if not signatures:
        raise OptionError("the clip has no frames to choose keys from.")
    signatures = [s.astype(np.float32) for s in signatures]
    steps = [0.0] + [change(signatures[i - 1], signatures[i]) for i in range(1, len(signatures))]
    cut_set = set((shots if shots is not None else detector.shots()).cuts)
    keys, cuts = [0], []
    for i in range(1, len(signatures)):
        gap = i - keys[-1]
        if i in cut_set:
            keys.append(i)
            cuts.append(i)
        elif gap >= options.key_max_gap or (gap >= options.key_min_gap
                                            and change(signatures[keys[-1]], signatures[i]) > options.key_threshold):
            keys.append(i)
    return KeySelection(keys, cuts, steps)


def neighbours(index: int, keys: list[int]) -> tuple[int, int | None]:
    """The keys on each side of frame ``index`` (left ≤ index; right > index or None)."""
    import bisect

    pos = bisect.bisect_right(keys, index) - 1
    left = keys[max(pos, 0)]
    right = keys[pos + 1] if pos + 1 < len(keys) else None
    return left, right


def expand_keys_redo(redo: list[int], count: int, keys: list[int], cuts: list[int]) -> list[int]:
    """``redo`` plus every frame whose look comes from a redone key (the stretches on both sides of it)."""
    out = set(redo)
    key_set = set(keys)
    for k in (i for i in redo if i in key_set):
        pos = keys.index(k)
        left = keys[pos - 1] if pos > 0 and k not in cuts else k
        right = keys[pos + 1] if pos + 1 < len(keys) else count
        out.update(i for i in range(left + 1, right) if i not in key_set)
    return sorted(out)
