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
    """Holds one model (the Stylizer of ``spec_json``'s model settings) and makes units of the job's method."""

    def __init__(self, spec_json: str, threads: int = 0) -> None:
        from ..models.speed import set_threads

        set_threads(threads)
        self.units = 0
        self.load(spec_json)

    def load(self, spec_json: str) -> int:
        """Build the model of ``spec_json``'s settings in place of the one held (a batch's next job with other
        model settings: the process, with torch and diffusers imported, is kept). Returns the pid."""
        from ..jobs.spec import JobSpec
        from ..methods import get_method
        from ..stylize.factory import build_stylizer

        spec = JobSpec.from_json(spec_json)
        self.stylizer = None  # the old model goes before the new one is built: one model in memory
        self.stylizer = build_stylizer(spec.model, spec.style, spec.mask, method=spec.method, video=spec.video,
                                       control=spec.control)
        self.method = get_method(spec.method)
        return os.getpid()

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        """The id of the Ray node this actor runs on (a test removes that node)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def stats(self) -> dict:
        return {"pid": os.getpid(), "units": self.units}

    def run(self, spec_json: str, count: int, unit: dict) -> list[tuple[int, bytes, float]]:
        """Make one unit (executors/plan.py): [(index, PNG, seconds)]. ``unit``: ``todo`` [(index, time,
        duration)], ``sources`` {index: PNG} (its own frames and those it reads besides), ``outputs`` {index:
        PNG} (the finished frames it reads), ``cuts`` (the shots' first frames), ``keys`` (keyframe methods:
        the job's keys and cuts), ``kind`` ("run" or "keys"), ``infotext`` (written into each PNG)."""
        from ..core.frames import Frame
        from ..jobs.spec import JobSpec
        from ..media.encode import png_bytes
        from ..media.shots import Shots
        from ..methods.base import MethodContext
        from ..methods.catalog import Sources
        from ..methods.keys import KeySelection

        spec = JobSpec.from_json(spec_json)
        sources = {i: _decode(data) for i, data in unit.get("sources", {}).items()}
        outputs = {i: _decode(data) for i, data in unit.get("outputs", {}).items()}  # grows with what this unit makes
        keys = unit.get("keys")
        selection = KeySelection(list(keys[0]), list(keys[1]), []) if keys else None
        context = MethodContext(self.stylizer, spec.style, spec.style.seed, previous=outputs.get,
                                consistency=spec.consistency, source=sources.get, video=spec.video, count=count,
                                keys=spec.keys, selection=selection, shots=Shots(count, tuple(unit.get("cuts", ()))))
        if spec.mask.active:
            from ..media.masks import FrameMasks

            context.mask = FrameMasks(spec.mask, count)
        if hasattr(self.stylizer, "size"):
            self.stylizer.size = None  # found again from this unit's frames, as a local run finds it (a batch's clips differ)
        tick = time.perf_counter()
        done = []
        if unit.get("kind") == "keys":
            made = self.method.stylize_keys(selection.keys, [i for i, _, _ in unit["todo"]], context, set(selection.cuts))
        else:
            pictures = self.method.capabilities.sources is Sources.TODO
            frames = [Frame(i, t, d, sources[i] if pictures else _NO_PICTURE) for i, t, d in unit["todo"]]
            made = ((f.index, f.image) for f in self.method.run(frames, context))
        for index, image in made:
            outputs[index] = image
            done.append((index, png_bytes(image, unit.get("infotext"))))  # the file the driver writes as it is
        seconds = (time.perf_counter() - tick) / max(1, len(done))
        self.units += 1
        return [(index, data, seconds) for index, data in done]


_NO_PICTURE = np.empty((0, 0, 3), np.uint8)
