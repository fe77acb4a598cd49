"""The fix-up flow: ``rotoscope run … --job DIR --frames 12-18 --mask m.png``.

The frames named by ``--frames`` are inpainted through the mask over the job's
already stylised frames (``--inpaint-base output``, the default) or over the
source frames (``--inpaint-base source``); every other frame's file is left as
it is. Each fixed frame replaces its file atomically. The job's recorded
settings keep no fix-up mask, so a later plain run of the job resumes as before.
Running the same fix-up again inpaints over the fixed frames again (use
``--inpaint-base source`` to start from the source frames).
"""

from __future__ import annotations

import threading
import time
from itertools import islice

import numpy as np

from ..core.resize import resize
from ..errors import JobError
from ..media.masks import FrameMasks
from ..progress import Progress, check_cancel
from ..stylize.base import Stylizer
from ..stylize.mask_options import MaskOptions
from .store import JobDir, Timing


def with_mask_fields(infotext: str, mask: MaskOptions) -> str:
    """Infotext with the web UI's inpaint keys appended to its settings line (those it has not already:
    a job's own mask is written by format_infotext, a fix-up mask is not part of the job)."""
    settings = infotext.rsplit("\n", 1)[-1]
    fields = {k: v for k, v in mask.infotext_fields().items() if f"{k}: " not in settings}
    return infotext + "".join(f", {k}: {v}" for k, v in fields.items())


def base_image(job: JobDir, index: int, base: str) -> np.ndarray:
    """What frame ``index`` is inpainted over: its stylised output, or its source at the output's size."""
    output = job.output_image(index)
    if base == "output":
        if output is None:
            raise JobError(f"frame {index} of job {job.path} is not stylised yet, so there is nothing to fix; "
                           "run the job first, or add --inpaint-base source.")
        return np.ascontiguousarray(output[..., :3])
    source = np.ascontiguousarray(job.source_image(index)[..., :3])
    if output is not None and output.shape[:2] != source.shape[:2]:
        source = resize(source, (output.shape[1], output.shape[0]), "just-resize")
    return source


def run_fixup(job: JobDir, mask: MaskOptions, redo: list[int], timeline: list[Timing], *, stylizer: Stylizer,
              seed: int, batch_size: int, infotext: str, progress: Progress,
              cancel: threading.Event | None = None) -> int:
    """Inpaint frames ``redo`` of ``job`` through ``mask``; returns how many were done."""
    masks = FrameMasks(mask, len(timeline), selected=redo)
    text = with_mask_fields(infotext, mask)
    progress.start("inpaint", len(redo))
    pending = iter(redo)
    while batch := list(islice(pending, batch_size)):
        tick = time.perf_counter()
        bases = [base_image(job, i, mask.inpaint_base) for i in batch]
        frame_masks = [masks(i, job.source_image(i), (b.shape[1], b.shape[0])) for i, b in zip(batch, bases)]
        results = stylizer.stylize(bases, seed=seed, indices=batch, mask=frame_masks)
        seconds = (time.perf_counter() - tick) / len(batch)
        for index, image in zip(batch, results):
            job.save_output(index, image, text, seconds)
            progress.advance()
        check_cancel(cancel)
    progress.finish()
    return len(redo)
