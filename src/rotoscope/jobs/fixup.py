"""The fix-up flow: ``rotoscope run … --job DIR --frames 12-18 --mask m.png``.

The frames named by ``--frames`` are inpainted through the mask over the job's
already stylised frames (``--inpaint-base output``, the default) or over the
source frames (``--inpaint-base source``); every other frame's file is left as
it is. Each fixed frame replaces its file atomically. The job's recorded
settings keep no fix-up mask, so a later plain run of the job resumes as before.

A fix-up is idempotent: before a frame is first fixed, its picture is kept in
``JOB/fixbase/``, and the same fix-up (same settings and mask) run again starts
from that kept picture, never from its own result, so it gives the same bytes.
Another fix-up of the same frame starts from the frame as it is (fixes stack).
job.json lists every fixed frame with the settings that fixed it ("redone").
"""

from __future__ import annotations

import threading
import time
from itertools import islice

import numpy as np

from ..core.resize import resize
from ..errors import JobError
from ..media.atomic import write_bytes_atomic
from ..media.masks import FrameMasks
from ..progress import Progress, check_cancel
from ..stylize.base import Stylizer
from ..stylize.mask_options import MaskOptions
from .spec import JobSpec
from .store import JobDir, Timing


def with_mask_fields(infotext: str, mask: MaskOptions) -> str:
    """Infotext with the web UI's inpaint keys appended to its settings line (those it has not already:
    a job's own mask is written by format_infotext, a fix-up mask is not part of the job)."""
    settings = infotext.rsplit("\n", 1)[-1]
    fields = {k: v for k, v in mask.infotext_fields().items() if f"{k}: " not in settings}
    return infotext + "".join(f", {k}: {v}" for k, v in fields.items())


def redone_entry(spec: JobSpec, kind: str, infotext: str, **extra) -> dict:
    """What job.json records of a frame made with other settings than the job's: the settings people look
    for first, and the frame's whole infotext."""
    style = spec.style
    return {"kind": kind, "prompt": style.prompt, "negative_prompt": style.negative_prompt, "seed": style.seed,
            "strength": style.strength, "model": spec.model.model, "infotext": infotext, **extra}


def base_image(job: JobDir, index: int, base: str) -> np.ndarray:
    """What frame ``index`` is inpainted over: its stylised output as it was before this fix-up (kept in
    ``fixbase/``), or its source at the output's size."""
    kept = job.fixbase_path(index)
    output = job.output_image(index)
    if base == "output":
        if output is None:
            raise JobError(f"frame {index} of job {job.path} is not stylised yet, so there is nothing to fix; "
                           "run the job first, or add --inpaint-base source.")
        return np.ascontiguousarray(job.fixbase_image(index)[..., :3] if kept.exists() else output[..., :3])
    source = np.ascontiguousarray(job.source_image(index)[..., :3])
    if output is not None and output.shape[:2] != source.shape[:2]:
        source = resize(source, (output.shape[1], output.shape[0]), "just-resize")
    return source


def _keep_bases(job: JobDir, batch: list[int], key: str, entry: dict) -> None:
    """Before frames are fixed: keep each one's picture unless it is the result of this same fix-up (then the
    picture kept before it stays the base), and record the fix-up in job.json first, so a run killed in
    between starts again from the right picture."""
    redone = job.redone()
    for i in batch:
        last = redone.get(str(i), {})
        if last.get("fix") == key and job.fixbase_path(i).exists():
            redone[str(i)] = {**entry, "before": last.get("before")}
            continue
        if job.output_path(i).exists():
            job.fixbase_dir.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(job.fixbase_path(i), job.output_path(i).read_bytes())
        redone[str(i)] = {**entry, "before": last or None}
    job.update(redone=redone)


def run_fixup(job: JobDir, mask: MaskOptions, redo: list[int], timeline: list[Timing], *, stylizer: Stylizer,
              seed: int, batch_size: int, infotext: str, progress: Progress,
              cancel: threading.Event | None = None, key: str = "", spec: JobSpec | None = None) -> int:
    """Inpaint frames ``redo`` of ``job`` through ``mask``; returns how many were done. ``key`` names the
    fix-up's settings (the same key again starts from the same pictures); ``spec``: its settings, recorded."""
    masks = FrameMasks(mask, len(timeline), selected=redo)
    text = with_mask_fields(infotext, mask)
    entry = redone_entry(spec, "fix-up", text, fix=key, inpaint_base=mask.inpaint_base) if spec is not None else \
        {"kind": "fix-up", "fix": key, "infotext": text}
    progress.start("inpaint", len(redo))
    pending = iter(redo)
    while batch := list(islice(pending, batch_size)):
        tick = time.perf_counter()
        _keep_bases(job, batch, key, entry)
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
