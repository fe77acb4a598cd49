"""The Ray actor's class: a worker that builds its Stylizer once and stylises units of frames.

A plain class (Ray wraps it with ``ray.remote`` when the executor starts actors), holding no module
state: everything it needs comes in its constructor (the job's settings, as JSON) and its calls
(frames as PNG bytes, so no shared filesystem is needed between machines). It never writes files:
results go back to the driver, which alone writes the job store.
"""

from __future__ import annotations

import io
import os
import time

import numpy as np


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB"))


class FrameWorker:
    """Holds one model (the Stylizer of ``spec_json``'s model settings) and runs the per-frame method on units."""

    def __init__(self, spec_json: str, threads: int = 0) -> None:
        from ..jobs.spec import JobSpec
        from ..methods import get_method
        from ..models.speed import set_threads
        from ..stylize.factory import build_stylizer

        set_threads(threads)
        spec = JobSpec.from_json(spec_json)
        self.stylizer = build_stylizer(spec.model, spec.style, spec.mask, method=spec.method, video=spec.video,
                                       control=spec.control)
        self.method = get_method(spec.method)
        self.units = 0

    def pid(self) -> int:
        return os.getpid()

    def stats(self) -> dict:
        return {"pid": os.getpid(), "units": self.units}

    def run(self, spec_json: str, count: int, items: list[tuple[int, float, float, bytes]]) -> list[tuple[int, bytes, float]]:
        """Stylise one unit (the frames of one batch, as the local run batches them): [(index, PNG, seconds)]."""
        from ..core.frames import Frame
        from ..jobs.spec import JobSpec
        from ..media.encode import png_bytes
        from ..methods.base import MethodContext

        spec = JobSpec.from_json(spec_json)
        context = MethodContext(self.stylizer, spec.style, spec.style.seed, previous=lambda i: None,
                                consistency=spec.consistency, video=spec.video, count=count, keys=spec.keys)
        if spec.mask.active:
            from ..media.masks import FrameMasks

            context.mask = FrameMasks(spec.mask, count)
        frames = [Frame(index, t, d, _decode(data)) for index, t, d, data in items]
        tick = time.perf_counter()
        done = [(f.index, png_bytes(f.image)) for f in self.method.run(frames, context)]
        seconds = (time.perf_counter() - tick) / max(1, len(done))
        self.units += 1
        return [(index, data, seconds) for index, data in done]
