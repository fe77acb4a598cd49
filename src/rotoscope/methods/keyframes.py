"""keyframes (TemporalKit style): stylise keyframes together in plates, carry them along the flow.

1. Keys are chosen (methods/keys.py: ``--keys every:N | auto | 0,12,30``).
2. Keys are tiled into *plates* (``--plate 2x2``: four keys in one image), each plate is one
   img2img call (same prompt, seed and noise: the keys share one generation, so one look),
   then split back. A last plate with fewer keys repeats its keys to keep the plate's size.
3. Optionally (``--key-color-match``) each key's colours are matched to the first key's.
4. Frames between keys are made by :mod:`.propagate`: the previous key warped forward along
   the source's optical flow, the next one backward, crossfaded by distance, occlusions
   filled from the other side.

Job store: keys and in-between frames are ordinary output frames, saved as soon as they are
made; a resumed run reads finished keys back (``context.previous``) instead of stylising
them again, and a plate is regenerated only when one of its keys is missing (the same seed
gives the same plate). ``--frames`` redoes a span (``Redo.KEY_SEGMENT``): the job adds the
frames that depend on a redone key (:func:`.keys.expand_keys_redo`), so they are propagated
again from it. The job chooses the keys once per run (``Prepares.KEYS``, ``context.selection``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np

from ..consistency.techniques import match_colors
from ..core.frames import Frame
from ..core.resize import fit
from .base import MethodContext
from .catalog import capabilities
from .keys import KeySelection, neighbours, select_keys
from .propagate import propagate


def choose_keys(context: MethodContext) -> KeySelection:
    """The keys the job chose for this run, or (run on its own) chosen here from every source frame."""
    if context.selection is not None:
        return context.selection
    count = context.count
    return select_keys((context.source(i) for i in range(count)), count, context.keys, context.shots)


class Keyframes:
    name = "keyframes"
    capabilities = capabilities("keyframes")
    guided = False  # ebsynth: guide errors + patch refinement in propagation

    def run(self, frames: Iterable[Frame], context: MethodContext) -> Iterator[Frame]:
        todo = {f.index: f.with_image(np.empty(0, np.uint8)) for f in frames}  # timing only: pictures are read when needed
        if not todo:
            return
        count = context.count or (max(todo) + 1)
        selection = choose_keys(context)
        keys, cuts = selection.keys, set(selection.cuts)
        needed = set(i for i in todo if i in keys)
        if context.keys.key_color_match:
            needed.update(_shot_first(k, cuts) for k in list(needed))  # the colour references
        for t in todo:
            a, b = neighbours(t, keys)
            needed.add(a)
            if b is not None and b not in cuts:
                needed.add(b)
        outputs: dict[int, np.ndarray] = {}
        for k in sorted(needed):
            if k not in todo and (done := context.previous(k)) is not None:
                outputs[k] = np.ascontiguousarray(done[..., :3])
        missing = sorted(k for k in needed if k not in outputs)
        if missing:
            for k, image in self.stylize_keys(keys, missing, context, cuts):
                outputs[k] = image
                if k in todo:
                    yield todo[k].with_image(image)
        shape = next(iter(outputs.values())).shape[:2]

        @lru_cache(maxsize=64)
        def source(i: int) -> np.ndarray:
            return np.ascontiguousarray(fit(context.source(i), shape))

        wanted = set(todo) - set(keys)
        for a, b in _stretches(keys, count):
            right = b if b is not None and b not in cuts else None
            end = (b - 1) if b is not None else count - 1
            if not any(a < t <= end for t in wanted):
                continue
            for t, image in propagate(a, right, end, source, outputs[a], outputs.get(right) if right is not None else None,
                                      wanted=wanted, flow_method=context.consistency.flow, guided=self.guided,
                                      refine_patches=context.keys.refine):
                yield todo[t].with_image(image)

    # -- keys ------------------------------------------------------------------------------

    def stylize_keys(self, keys: list[int], missing: list[int], context: MethodContext,
                     cuts: set[int] = frozenset()) -> Iterator[tuple[int, np.ndarray]]:
        """Stylise the plates holding the ``missing`` keys; yields (key, picture) for every key of those plates
        that is missing. A plate never holds keys of two shots (``cuts``: nothing of one shot reaches the
        next). Colours are matched to the shot's first key when asked."""
        cols, rows = context.keys.plate_shape()
        per_plate = cols * rows
        plates = [shot[i:i + per_plate] for shot in _by_shot(keys, cuts) for i in range(0, len(shot), per_plate)]
        match = ColourReferences(context, missing, cuts) if context.keys.key_color_match else None
        for plate in plates:
            if not any(k in missing for k in plate):
                continue
            for k, image in zip(plate, self._plate(plate, per_plate, cols, rows, context)):
                if match is not None:
                    image = match(k, image)
                if k in missing:
                    yield k, image

    def _plate(self, plate: list[int], per_plate: int, cols: int, rows: int, context: MethodContext) -> list[np.ndarray]:
        stylizer = context.stylizer
        sources = [np.ascontiguousarray(context.source(k)[..., :3]) for k in plate]
        tile_w, tile_h = _tile_size(stylizer, sources[0])
        if per_plate == 1:
            return stylizer.stylize(sources, seed=context.seed, indices=list(plate))
        filled = [sources[i % len(sources)] for i in range(per_plate)]
        picture = _tile([fit(s, (tile_h, tile_w)) for s in filled], cols, rows)
        control = None
        units = getattr(stylizer, "control", None)
        if units is not None:
            per_key = [units.annotate(s, k) for s, k in zip(sources, plate)]
            per_key = [per_key[i % len(per_key)] for i in range(per_plate)]
            control = [[_tile([fit(c[u], (tile_h, tile_w)) for c in per_key], cols, rows) for u in range(len(units))]]
        if hasattr(stylizer, "size"):
            stylizer.size = (tile_w * cols, tile_h * rows)  # the plate is generated at cols × rows tiles
        (result,) = stylizer.stylize([picture], seed=context.seed, indices=[plate[0]], control=control)
        result = fit(result, (tile_h * rows, tile_w * cols))
        return [result[(i // cols) * tile_h:(i // cols + 1) * tile_h, (i % cols) * tile_w:(i % cols + 1) * tile_w].copy()
                for i in range(len(plate))]


def _tile_size(stylizer, source: np.ndarray) -> tuple[int, int]:
    """A key's size in the output: the model's processing size (multiples of 8), or the frame's for classic looks."""
    style = getattr(stylizer, "style", None)
    if style is None or not hasattr(stylizer, "pipe"):
        return source.shape[1], source.shape[0]
    from ..stylize.resize import processing_size

    return processing_size(source.shape[1], source.shape[0], style.width, style.height)


def _tile(pictures: list[np.ndarray], cols: int, rows: int) -> np.ndarray:
    h, w = pictures[0].shape[:2]
    plate = np.zeros((h * rows, w * cols, 3), np.uint8)
    for i, p in enumerate(pictures):
        r, c = divmod(i, cols)
        plate[r * h:(r + 1) * h, c * w:(c + 1) * w] = p[..., :3]
    return plate


def _shot_first(key: int, cuts: set[int]) -> int:
    """The first frame of the shot holding ``key`` (0 or a cut)."""
    return max((c for c in cuts if c <= key), default=0)


def _by_shot(keys: list[int], cuts: set[int]) -> list[list[int]]:
    groups: list[list[int]] = []
    for k in keys:
        if not groups or k in cuts:
            groups.append([])
        groups[-1].append(k)
    return groups


class ColourReferences:
    """``--key-color-match``: every key's colours matched to its shot's first key (read back when finished)."""

    def __init__(self, context: MethodContext, missing: list[int], cuts: set[int]) -> None:
        self.context, self.missing, self.cuts = context, set(missing), cuts
        self.firsts: dict[int, np.ndarray] = {}

    def __call__(self, key: int, image: np.ndarray) -> np.ndarray:
        first = _shot_first(key, self.cuts)
        if key == first:
            self.firsts[first] = image
            return image
        reference = self.firsts.get(first)
        if reference is None and first not in self.missing:
            reference = self.firsts[first] = self.context.previous(first)
        return match_colors(image, fit(reference, image.shape[:2])) if reference is not None else image


def _stretches(keys: list[int], count: int) -> list[tuple[int, int | None]]:
    return [(a, b) for a, b in zip(keys, keys[1:])] + [(keys[-1], None)]
