"""How a job's frames still to do are cut into units for the actors, for every method.

A :class:`Unit` is what one actor call makes: its frames (``todo``), the finished outputs it reads
(``reads``: shipped with it, as a resumed local run reads them from the store) and, of those, the ones
this run makes first (``needs``: the driver hands the unit out only when they are written). A unit
sees exactly what a local run sees when it reaches the same frames, so its frames are the same bytes.

- gif2gif, no sequential technique: one unit per batch (``--batch-size`` frames), all independent.
- gif2gif with loopback / flow-warp / colour match: *segments* — runs of consecutive frames still to
  do inside one shot. A segment starts where a previous output exists (a finished frame in the store,
  or nothing before it: a shot cut), so segments are independent and run in parallel; inside one,
  units of :data:`CHAIN` frames follow each other (each needs the last frame of the one before, and
  the colour-match reference), so a killed driver or actor loses at most one unit of a segment.
- keyframes / ebsynth: first the keys (one unit per plate, or per batch of keys for ebsynth; the
  same plates and batches as a local run), then one unit per propagation span (between two keys),
  which needs only its two keys.
- animatediff: one unit per context window, the windows a local run makes (found by running the
  method's own windowing over indices, :func:`_windows`); a window needs its anchors (the finished
  frames it overlaps), so the windows of one shot run one after another and shots run in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: frames per unit inside a sequential segment (what a kill can lose of that segment)
CHAIN = 4


@dataclass
class Unit:
    todo: list[int]
    reads: frozenset[int] = frozenset()  # finished outputs the unit reads (shipped with it)
    needs: frozenset[int] = frozenset()  # of ``reads``, those this run makes: handed out once they are written
    sources: frozenset[int] = frozenset()  # source frames the unit reads besides its own
    kind: str = "run"  # "run": the method on ``todo``; "keys": the keyframe methods' keys ``todo``
    chain: int | None = None  # the segment it belongs to: kept on one actor while that actor lives
    label: str = field(default="")

    def __post_init__(self) -> None:
        self.label = self.label or f"{self.todo[0]}-{self.todo[-1]}"


def plan(spec, todo: list[int], done: set[int], shots, selection) -> list[Unit]:
    """The units of ``todo`` (``done``: frames finished before this run; ``shots``: media/shots.Shots;
    ``selection``: the keys of a keyframe method, else None), in the order a local run makes them."""
    from ..consistency import TECHNIQUES
    from ..methods.catalog import Prepares, capabilities

    caps = capabilities(spec.method)
    if caps.prepares is Prepares.KEYS:
        return _keyframe_units(spec, todo, done, selection)
    if not caps.per_frame:
        return _window_units(spec, todo, done, shots)
    if any(TECHNIQUES[n].stage == "stylize" and TECHNIQUES[n].sequential for n in spec.consistency.techniques):
        return _segment_units(spec, todo, done, shots)
    size = max(1, spec.style.batch_size)
    return [Unit(todo[i:i + size]) for i in range(0, len(todo), size)]


def segments(todo: list[int], shots) -> list[list[int]]:
    """Runs of consecutive frames of ``todo`` inside one shot."""
    runs: list[list[int]] = []
    for i in todo:
        if runs and runs[-1][-1] == i - 1 and shots.same_shot(i - 1, i):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _segment_units(spec, todo: list[int], done: set[int], shots) -> list[Unit]:
    from ..consistency.techniques import ColorMatch

    color = ColorMatch(spec.consistency) if spec.consistency.uses("color-match") else None
    units = []
    for n, run in enumerate(segments(todo, shots)):
        for k in range(0, len(run), CHAIN):
            part = run[k:k + CHAIN]
            start = shots.start_of(part[0])
            reads = {part[0] - 1} if part[0] > start else set()
            if color is not None:  # colour match reads its reference frame's output
                reads |= {r for r in (color.reference_index(i, start) for i in part) if r < part[0]}
            sources = {part[0] - 1} if part[0] > start else set()  # flow reads the previous source frame
            units.append(Unit(part, frozenset(reads), frozenset(reads - done), frozenset(sources), chain=n))
    return units


def _keyframe_units(spec, todo: list[int], done: set[int], selection) -> list[Unit]:
    from ..methods import get_method
    from ..methods.keyframes import _shot_first
    from ..methods.keys import neighbours

    keys, cuts = selection.keys, set(selection.cuts)
    missing = [k for k in keys if k in set(todo)]
    units = []
    for group in get_method(spec.method).key_groups(keys, missing, spec.keys, spec.style, cuts):
        own = [k for k in group if k in missing]
        reads: set[int] = set()
        if spec.keys.key_color_match:  # each key's colours come from its shot's first key
            reads = {_shot_first(k, cuts) for k in own} - set(own)
        units.append(Unit(own, frozenset(reads), frozenset(reads - done), frozenset(group), kind="keys",
                          label=f"keys {','.join(map(str, own))}"))
    wanted = [t for t in todo if t not in set(keys)]
    spans: dict[int, list[int]] = {}
    for t in wanted:
        spans.setdefault(neighbours(t, keys)[0], []).append(t)
    for a, frames in spans.items():
        right = neighbours(a, keys)[1]
        right = right if right is not None and right not in cuts else None
        reads = {a} | ({right} if right is not None else set())
        end = right if right is not None else max(frames)
        units.append(Unit(frames, frozenset(reads), frozenset(reads - done), frozenset(range(a, end + 1)) - set(frames)))
    return units


class _Recorder:
    """A stand-in Stylizer for :func:`_windows`: records each window instead of running a model."""

    def __init__(self) -> None:
        self.windows: list[tuple[list[int], list[int]]] = []

    def animate(self, sources, *, seed: int, indices, anchors=None, strength=None) -> list[np.ndarray]:
        anchors = anchors or {}
        self.windows.append(([i for p, i in enumerate(indices) if p in anchors],
                             [i for p, i in enumerate(indices) if p not in anchors]))
        return [_DOT] * (len(indices) - len(anchors))


_DOT = np.zeros((1, 1, 3), np.uint8)


def _windows(spec, todo: list[int], done: set[int], shots) -> list[tuple[list[int], list[int]]]:
    """(anchors, new frames) of each window a local run makes: the method's own windowing, run on indices
    (a frame counts as finished once an earlier window made it, as the store makes it for a local run)."""
    from ..core.frames import Frame
    from ..methods import get_method
    from ..methods.base import MethodContext

    made: set[int] = set()
    recorder = _Recorder()
    context = MethodContext(recorder, spec.style, spec.style.seed, previous=lambda i: _DOT if i in done or i in made else None,
                            video=spec.video, count=shots.count, shots=shots)
    for frame in get_method(spec.method).run((Frame(i, 0.0, 0.0, _DOT) for i in todo), context):
        made.add(frame.index)
    return recorder.windows


def _window_units(spec, todo: list[int], done: set[int], shots) -> list[Unit]:
    return [Unit(new, frozenset(anchors), frozenset(set(anchors) - done), chain=shots.start_of(new[0]))
            for anchors, new in _windows(spec, todo, done, shots)]

