"""The real Stylizer: diffusers img2img under one prompt, seed and strength."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from ..core.resize import resize
from ..models.loader import LoadedModel
from ..models.samplers import make_scheduler
from ..models.speed import StepCachedUNet, pipeline_with
from ..notices import notice
from ..progress import after_step, check_cancel
from .options import StyleOptions
from .resize import processing_size
from .speed import FrameReuse, note_schedule

if TYPE_CHECKING:
    from .control import ControlUnits

# CLIP reads 77 tokens including start and end: 75 are the user's.
PROMPT_TOKENS = 75


class DiffusersImg2Img:
    """One loaded pipeline, reused for every frame of a job.

    The prompt is encoded once per job (not once per frame), and each frame
    gets its own torch Generator: with ``noise="shared"`` every frame starts
    from the same initial noise, as a fixed seed does in the web UI.
    """

    def __init__(self, loaded: LoadedModel, style: StyleOptions, *, pipe=None, control: ControlUnits | None = None,
                 cancel: threading.Event | None = None) -> None:
        """Build the stylizer whole: its own pipeline (``pipe``, default ``loaded.pipe``: the ControlNet variant
        when ``control`` is given, see the factory) with the job's sampler and, with ``style.step_cache`` > 1,
        the step-cached UNet in place of the UNet. ``cancel``, when set, stops a frame within one denoising step."""
        self.loaded = loaded
        self.style = style
        self.name = loaded.name
        self.strength = style.strength  # used when a call passes no strength (preview sweeps it per call)
        self.control = control  # ControlNet units (stylize/control.py); ``control`` per call overrides their annotators
        self.cancel = cancel
        base = pipe if pipe is not None else loaded.pipe
        self.step_cache: StepCachedUNet | None = None  # DeepCache-style step reuse, with style.step_cache > 1
        unet = base.unet
        if style.step_cache > 1:
            unet = self.step_cache = StepCachedUNet(base.unet, style.step_cache)
        scheduler = make_scheduler(style.sampler, base.scheduler.config, spacing=style.timestep_spacing)
        self.pipe = pipeline_with(base, scheduler=scheduler, unet=unet)
        self.reuse = FrameReuse(style.reuse_threshold)  # similar-frame reuse (off at 0)
        self._scheduled: dict[float, int] = {}
        self.size: tuple[int, int] | None = None
        self._embeds: dict[str, torch.Tensor] | None = None
        self.attention = None  # a consistency.attention.CrossFrameController, once installed
        self._warn_long_prompt()

    def use_cross_frame_attention(self, controller) -> None:
        """Install cross-frame attention on the UNet's self-attention layers (consistency/attention.py)."""
        if self.step_cache is not None:
            from ..errors import OptionError

            raise OptionError("--step-cache skips the deep attention layers on some steps; it does not combine with --consistency cross-frame-attention.")
        controller.install(self.pipe.unet)
        self.attention = controller

    def _attention_frame(self):
        from contextlib import nullcontext

        return self.attention.frame() if self.attention is not None else nullcontext()

    def _warn_long_prompt(self) -> None:
        tokenizer = getattr(self.pipe, "tokenizer", None)
        if tokenizer is None:
            return
        for label, text in (("prompt", self.style.prompt), ("negative prompt", self.style.negative_prompt)):
            count = len(tokenizer(text, truncation=False).input_ids) - 2
            if count > PROMPT_TOKENS:
                notice(f"{label} is {count} tokens; the model reads the first {PROMPT_TOKENS} and ignores the rest (shorten it).")

    @property
    def guidance(self) -> bool:
        return self.style.cfg_scale > 1

    def _prompt_kwargs(self, batch: int) -> dict:
        """Prompt embeddings, computed once and repeated for the batch (SD 1.x/2.x); SDXL gets the text."""
        style = self.style
        if self.loaded.family == "sdxl":
            return {"prompt": [style.prompt] * batch, "negative_prompt": [style.negative_prompt] * batch}
        if self._embeds is None:
            positive, negative = self.pipe.encode_prompt(
                style.prompt, self.loaded.device, 1, self.guidance, style.negative_prompt,
                clip_skip=(style.clip_skip - 1) or None,
            )
            self._embeds = {"prompt_embeds": positive}
            if negative is not None:
                self._embeds["negative_prompt_embeds"] = negative
        return {k: v.repeat(batch, 1, 1) for k, v in self._embeds.items()}

    def generators(self, seed: int, indices: list[int]) -> list[torch.Generator]:
        seeds = [seed] * len(indices) if self.style.noise == "shared" else [(seed + i) % 2**32 for i in indices]
        return [torch.Generator(device="cpu").manual_seed(s) for s in seeds]

    @contextmanager
    def tiled_noise(self, cols: int, rows: int) -> Iterator[None]:
        """Within it, a picture made of cols × rows tiles (a keyframes plate) starts from the same noise in every
        tile (its top-left tile's), as shared noise gives every frame the same: keys made in one plate then
        agree, instead of each tile's own noise pulling its key another way (the crossfade between two such
        keys flickered: bench/consistency.py --clips set). The initial noise is added by the scheduler's
        ``add_noise`` in img2img's ``prepare_latents`` (plain and ControlNet), so that is where it is tiled."""
        scheduler = self.pipe.scheduler
        add_noise = scheduler.add_noise

        def tiled(original, noise, timesteps):
            h, w = noise.shape[-2:]
            if h % rows == 0 and w % cols == 0:
                noise = noise[..., : h // rows, : w // cols].repeat(1, 1, rows, cols)
            return add_noise(original, noise, timesteps)

        scheduler.add_noise = tiled
        try:
            yield
        finally:
            del scheduler.add_noise  # the class's method again

    def stylize(self, frames, *, seed, strength=None, indices=None, init=None, mask=None, control=None):
        strength = self.strength if strength is None else float(strength)
        check_cancel(self.cancel)
        indices = indices if indices is not None else list(range(len(frames)))
        first = frames[0]
        if self.size is None:
            self.size = processing_size(first.shape[1], first.shape[0], self.style.width, self.style.height)
        bases = init if init is not None else frames
        images = [resize(np.ascontiguousarray(b[..., :3]), self.size, self.style.resize_mode) for b in bases]
        key = (seed, strength)
        plan = self.reuse.plan(images, key)  # similar-frame reuse (stylize/speed.py): None = compute
        todo = [i for i, p in enumerate(plan) if p is None]
        if len(todo) < len(images):
            pick = lambda items: None if items is None else [items[i] for i in todo]  # noqa: E731
            computed = self.stylize(pick(frames), seed=seed, strength=strength, indices=pick(indices), init=pick(init),
                                    mask=pick(mask), control=pick(control)) if todo else []
            return self.reuse.fill(images, plan, dict(zip(todo, computed)), key)
        if self.step_cache is not None:
            self.step_cache.reset()
        if strength not in self._scheduled:  # ≥ 1 denoising step even at low strength (noticed once)
            self._scheduled[strength] = note_schedule(self.style.steps, strength)
        with torch.inference_mode(), self._attention_frame():
            result = self.pipe(
                image=[Image.fromarray(img) for img in images],
                strength=strength,
                num_inference_steps=self._scheduled[strength],
                guidance_scale=self.style.cfg_scale,
                generator=self.generators(seed, indices),
                output_type="np",
                **self._prompt_kwargs(len(images)),
                **self._control_kwargs(frames, indices, control),
                **self.step_callback(),
            ).images
        out = [np.clip(np.rint(r * 255), 0, 255).astype(np.uint8) for r in result]
        return self.reuse.fill(images, plan, dict(enumerate(out)), key) if self.reuse.active else out

    def step_callback(self) -> dict:
        """diffusers' per-step callback, when there is a cancel event: it raises ``Cancelled`` after the step
        in which the event was set, so a cancelled frame stops within one step instead of running to its end."""
        if self.cancel is None:
            return {}
        return {"callback_on_step_end": self._check_cancel_after_step}

    def _check_cancel_after_step(self, pipe, step: int, timestep, tensors: dict) -> dict:
        after_step(self.cancel, step + 1, pipe.num_timesteps)
        return {}  # no tensor changed

    def _control_kwargs(self, frames, indices, control) -> dict:
        if self.control is None:
            return {}
        if control is None:
            control = [self.control.annotate(f, i) for f, i in zip(frames, indices)]
        return self.control.pipe_kwargs(control, self.size, self.style.resize_mode)

    def infotext_fields(self) -> dict[str, str]:
        return self.control.infotext_fields() if self.control is not None else {}
