"""Frame-level speed pieces of the img2img stylizer.

- :func:`schedule_steps`: img2img runs ``int(steps × strength)`` steps; when
  that is 0 (SD-Turbo's 2 steps at strength 0.3) the schedule is lengthened
  so exactly one step runs, instead of failing;
- :class:`FrameReuse`: a frame whose source barely differs from the source of
  the last frame actually computed takes that frame's output (off by default);
- the step cache (DeepCache idea) is ``models.speed.StepCachedUNet``: with
  ``StyleOptions.step_cache`` > 1 the stylizer's pipeline is built with it in
  place of the UNet.

The prompt embedding is computed once per job by the stylizer itself
(``DiffusersImg2Img._prompt_kwargs``), and with guidance ≤ 1 no negative
embedding is made and diffusers runs the UNet on a batch of 1 (no
unconditional pass): ``do_classifier_free_guidance`` is ``guidance_scale > 1``.
"""

from __future__ import annotations

import numpy as np

from ..notices import notice


def schedule_steps(steps: int, strength: float) -> int:
    """The ``num_inference_steps`` to pass so img2img runs at least one denoising step."""
    n = int(steps)
    while int(n * strength) < 1 and n < 10_000:
        n += 1
    return n


def note_schedule(steps: int, strength: float) -> int:
    n = schedule_steps(steps, strength)
    if n != steps:
        notice(f"--steps {steps} × --strength {strength:g} runs no denoising step; running 1 (schedule of {n} steps).")
    return n


class FrameReuse:
    """Similar-frame reuse: compare each frame's (resized) source with the source of the last frame that was
    really computed; below ``threshold`` (mean absolute difference, 0–255) reuse its output.

    Comparing with the last *computed* frame, not the previous one, keeps a slow drift from going unnoticed:
    once the source has moved ``threshold`` away from it, the next frame is computed again.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = float(threshold)
        self.source: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.key = None
        self.reused = 0

    @property
    def active(self) -> bool:
        return self.threshold > 0

    def plan(self, images: list[np.ndarray], key) -> list[int | None]:
        """For each image: None (compute it) or the position of the computed image in this batch whose output
        it takes (-1 = the output kept from an earlier call)."""
        plan: list[int | None] = []
        ref_source = self.source if key == self.key else None
        ref: int | None = -1 if ref_source is not None else None
        for i, img in enumerate(images):
            if (self.active and ref_source is not None and ref_source.shape == img.shape
                    and float(np.abs(img.astype(np.int16) - ref_source.astype(np.int16)).mean()) < self.threshold):
                plan.append(ref)
            else:
                plan.append(None)
                ref_source, ref = img, i
        return plan

    def fill(self, images: list[np.ndarray], plan: list[int | None], computed: dict[int, np.ndarray], key) -> list[np.ndarray]:
        out = []
        for i, src in enumerate(plan):
            if src is None:
                out.append(computed[i])
            else:
                self.reused += 1
                out.append((computed[src] if src >= 0 else self.output).copy())
        last = max((i for i, p in enumerate(plan) if p is None), default=None)
        if last is not None:
            self.source, self.output, self.key = images[last], computed[last], key
        return out
