"""Stylizers whose model sees many frames at once: AnimateDiff video-to-video (a window of
frames in, the window out) and Stable Video Diffusion (a still in, a clip out).

Like :class:`~.img2img.DiffusersImg2Img` they are loaded once per job, encode the prompt once
and take their noise from per-frame seeds, so the same settings give the same frames whether
a job ran in one go or was killed and resumed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from ..core.resize import resize
from .video_options import VideoOptions
from ..models.loader import LoadedModel
from ..models.options import ModelOptions
from ..models.samplers import make_scheduler
from ..progress import after_step, check_cancel
from .options import StyleOptions
from .resize import processing_size


def _to_uint8(pixels: torch.Tensor) -> list[np.ndarray]:
    """VAE output (N×3×H×W in -1..1) → H×W×3 uint8 frames."""
    array = ((pixels.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return [np.ascontiguousarray(a) for a in array]


class FramewiseStep:
    """A scheduler whose ``step`` draws the sampler's noise frame by frame, from each frame's own generator.

    diffusers' video pipelines pass one generator for the whole 1×C×F×h×w latent, so every frame
    gets different step noise even when the initial noise is shared; gif2gif's frames each
    have their own generator. Frames are moved into the batch dimension for the step (it is
    elementwise) with a list of generators, one a frame (``frame_generators``, set per window).
    Mixed in before a diffusers scheduler class by :func:`framewise_scheduler`.
    """

    #: one generator per frame of the next window; None: the scheduler's own step, unchanged
    frame_generators: list[torch.Generator] | None = None

    # No ``generator`` in this signature: diffusers inspects it and so passes none of its own (its one
    # generator would draw every frame's noise from one stream); the frames' generators are used instead.
    def step(self, model_output, timestep, sample, *args, **kwargs):
        generators = self.frame_generators
        if generators is None or sample.ndim != 5:
            return super().step(model_output, timestep, sample, *args, **kwargs)
        b, c, f, h, w = sample.shape
        flat = lambda x: x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)  # noqa: E731
        want_dict = kwargs.get("return_dict", True)
        kwargs["generator"] = generators
        kwargs["return_dict"] = True
        out = super().step(flat(model_output), timestep, flat(sample), *args, **kwargs)
        out.prev_sample = out.prev_sample.reshape(b, f, c, h, w).permute(0, 2, 1, 3, 4)
        return out if want_dict else (out.prev_sample,)


@functools.cache
def _framewise_class(cls: type) -> type:
    return type(f"Framewise{cls.__name__}", (FramewiseStep, cls), {"__module__": __name__, "__doc__": FramewiseStep.__doc__})


def framewise_scheduler(scheduler):
    """``scheduler`` as its :class:`FramewiseStep` subclass (same config); samplers without step noise
    (no ``generator`` in their ``step``) are returned as they are."""
    import inspect

    if "generator" not in inspect.signature(type(scheduler).step).parameters:
        return scheduler
    return _framewise_class(type(scheduler)).from_config(scheduler.config)


class AnimateDiffStylizer:
    """diffusers' AnimateDiffVideoToVideoPipeline over one context window at a time.

    :meth:`animate` takes a window: the source frames to stylise plus *anchors*, finished
    output frames around them (the overlap with the window before). Anchors enter as the
    init latents of their positions and are pinned after every denoising step to their
    encoded output, noised to the step's level (temporal inpainting), so the motion module
    carries the finished frames' look and motion across the seam while only the new frames
    change. Each frame's noise comes from its own seed (``--noise shared``: the job seed for
    every frame; ``per-frame``: seed + index), so windows do not depend on each other's noise.
    """

    def __init__(self, loaded: LoadedModel, style: StyleOptions, video: VideoOptions, adapter: str, *,
                 cancel: threading.Event | None = None) -> None:
        from ..models.speed import pipeline_with

        self.loaded = loaded
        self.style = style
        self.video = video
        self.adapter = adapter
        self.name = loaded.name
        self.strength = style.strength  # used when a call passes no strength
        self.cancel = cancel  # checked after every denoising step
        scheduler = framewise_scheduler(make_scheduler(style.sampler, loaded.pipe.scheduler.config))
        self.pipe = pipeline_with(loaded.pipe, scheduler=scheduler)
        self.size: tuple[int, int] | None = None
        self._embeds: dict[str, torch.Tensor] | None = None

    # -- the Stylizer protocol: a batch of frames is one window without anchors
    def stylize(self, frames, *, seed, strength=None, indices=None, init=None, mask=None, control=None):
        indices = indices if indices is not None else list(range(len(frames)))
        return self.animate(list(init if init is not None else frames), seed=seed, indices=indices, strength=strength)

    def infotext_fields(self) -> dict[str, str]:
        return {"Motion adapter": self.adapter, "Context": f"{self.video.context_length}/{self.video.context_overlap}"}

    def _prompt(self) -> dict[str, torch.Tensor]:
        if self._embeds is None:
            style = self.style
            positive, negative = self.pipe.encode_prompt(
                style.prompt, self.loaded.device, 1, style.cfg_scale > 1, style.negative_prompt,
                clip_skip=(style.clip_skip - 1) or None,
            )
            self._embeds = {"prompt_embeds": positive}
            if negative is not None:
                self._embeds["negative_prompt_embeds"] = negative
        return self._embeds

    def _generators(self, seed: int, indices: Sequence[int]) -> list[torch.Generator]:
        """One generator a frame for the sampler's own noise (ancestral samplers), seeded like the initial noise."""
        seeds = [seed] * len(indices) if self.style.noise == "shared" else [(seed + 1 + i) % 2**32 for i in indices]
        return [torch.Generator().manual_seed(s) for s in seeds]

    def _noise(self, seed: int, indices: Sequence[int], shape: tuple[int, int, int]) -> torch.Tensor:
        seeds = [seed] * len(indices) if self.style.noise == "shared" else [(seed + i) % 2**32 for i in indices]
        noise = [torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in seeds]
        return torch.stack(noise, dim=1)[None].to(self.loaded.device, self.loaded.dtype)  # 1×C×F×h×w

    def _encode(self, images: list[np.ndarray]) -> torch.Tensor:
        vae = self.pipe.vae
        pixels = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).to(self.loaded.device, self.loaded.dtype) / 127.5 - 1
        chunk = self.video.decode_chunk
        latents = [vae.encode(pixels[i : i + chunk]).latent_dist.mode() for i in range(0, len(pixels), chunk)]
        return (torch.cat(latents) * vae.config.scaling_factor).permute(1, 0, 2, 3)[None]  # 1×C×F×h×w

    def _decode(self, latents: torch.Tensor) -> list[np.ndarray]:
        vae = self.pipe.vae
        frames = latents[0].permute(1, 0, 2, 3) / vae.config.scaling_factor  # F×C×h×w
        chunk = self.video.decode_chunk
        out: list[np.ndarray] = []
        for i in range(0, len(frames), chunk):
            out.extend(_to_uint8(vae.decode(frames[i : i + chunk]).sample))
        return out

    def animate(self, sources: Sequence[np.ndarray | None], *, seed: int, indices: Sequence[int],
                anchors: dict[int, np.ndarray] | None = None, strength: float | None = None) -> list[np.ndarray]:
        """Stylise one window. ``sources[p]`` is the source frame at window position p (None
        where ``anchors`` holds the finished output); returns the outputs of the non-anchor
        positions, in order."""
        strength = self.strength if strength is None else float(strength)
        check_cancel(self.cancel)
        anchors = anchors or {}
        new = [p for p in range(len(sources)) if p not in anchors]
        if not new:
            return []
        first = sources[new[0]]
        if self.size is None:
            self.size = processing_size(first.shape[1], first.shape[0], self.style.width, self.style.height)
        width, height = self.size
        images = [resize(np.ascontiguousarray((anchors[p] if p in anchors else sources[p])[..., :3]), self.size,
                         self.style.resize_mode) for p in range(len(sources))]
        from .speed import schedule_steps  # ≥ 1 denoising step at low strength

        pipe, scheduler, steps = self.pipe, self.pipe.scheduler, schedule_steps(self.style.steps, strength)
        with torch.inference_mode():
            x0 = self._encode(images)
            noise = self._noise(seed, indices, tuple(x0.shape[1:2]) + tuple(x0.shape[3:]))
            scheduler.set_timesteps(steps, device=self.loaded.device)
            start = max(steps - min(int(steps * strength), steps), 0)
            timesteps = scheduler.timesteps[start * scheduler.order :]
            latents = scheduler.add_noise(x0, noise, timesteps[:1])
            pinned = sorted(anchors)

            def pin(_pipe, i, _t, tensors):
                after_step(self.cancel, i + 1, len(timesteps))  # stops the window within one step
                latents = tensors["latents"]
                if pinned:
                    if i + 1 < len(timesteps):
                        target = scheduler.add_noise(x0[:, :, pinned], noise[:, :, pinned], timesteps[i + 1 : i + 2])
                    else:
                        target = x0[:, :, pinned]
                    latents[:, :, pinned] = target.to(latents.dtype)
                return {"latents": latents}

            if isinstance(scheduler, FramewiseStep):
                scheduler.frame_generators = self._generators(seed, indices)
            result = pipe(
                latents=latents, strength=strength, num_inference_steps=steps,
                guidance_scale=self.style.cfg_scale, height=height, width=width,
                generator=torch.Generator().manual_seed((seed + indices[0]) % 2**32), output_type="latent",
                callback_on_step_end=pin, decode_chunk_size=self.video.decode_chunk, **self._prompt(),
            ).frames
            return self._decode(result[:, :, new])


class StableVideoStylizer:
    """Stable Video Diffusion: a still in, ``video_frames`` frames out; txt2img makes the still
    when there is none (:meth:`make_still`, with the job's SD model)."""

    def __init__(self, loaded: LoadedModel, style: StyleOptions, video: VideoOptions, model: ModelOptions, *,
                 cancel: threading.Event | None = None) -> None:
        self.loaded = loaded
        self.pipe = loaded.pipe
        self.style = style
        self.video = video
        self.model = model
        self.name = loaded.name
        self.strength = style.strength  # unused: SVD starts from noise, conditioned on the still
        self.cancel = cancel  # checked after every denoising step (SVD and the txt2img still)
        self.size: tuple[int, int] | None = None

    def _check_cancel_after_step(self, pipe, step: int, timestep, tensors: dict) -> dict:
        after_step(self.cancel, step + 1, pipe.num_timesteps)
        return {}  # no tensor changed

    def stylize(self, frames, *, seed, strength=None, indices=None, init=None, mask=None, control=None):
        return self.animate_still(frames[0], seed=seed)

    def infotext_fields(self) -> dict[str, str]:
        v = self.video
        return {"Video model": self.name, "Motion bucket": str(v.motion_bucket), "Noise aug": f"{v.noise_aug:g}",
                "Video fps": str(v.video_fps)}

    def animate_still(self, image: np.ndarray, *, seed: int) -> list[np.ndarray]:
        if self.size is None:
            self.size = processing_size(image.shape[1], image.shape[0], self.style.width, self.style.height)
        width, height = self.size
        still = Image.fromarray(resize(np.ascontiguousarray(image[..., :3]), self.size, self.style.resize_mode))
        v = self.video
        check_cancel(self.cancel)
        with torch.inference_mode():
            frames = self.pipe(
                still, height=height, width=width, num_frames=v.video_frames, num_inference_steps=self.style.steps,
                min_guidance_scale=1.0, max_guidance_scale=v.video_cfg, fps=v.video_fps, motion_bucket_id=v.motion_bucket,
                noise_aug_strength=v.noise_aug, decode_chunk_size=v.decode_chunk,
                generator=torch.Generator().manual_seed(seed), output_type="np",
                callback_on_step_end=self._check_cancel_after_step,
            ).frames[0]
        return [np.clip(np.rint(f * 255), 0, 255).astype(np.uint8) for f in frames]

    def make_still(self, seed: int, size: tuple[int, int]) -> np.ndarray:
        """txt2img with the job's model, prompt, sampler, steps and CFG; the pipeline is freed afterwards."""
        from diffusers import AutoPipelineForText2Image

        from ..models.loader import load_pipeline

        style = self.style
        base = load_pipeline(self.model, kind="img2img")
        pipe = AutoPipelineForText2Image.from_pipe(base.pipe)
        pipe.scheduler = make_scheduler(style.sampler, pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        kwargs = {}
        if base.family != "sdxl":
            kwargs["clip_skip"] = (style.clip_skip - 1) or None
        check_cancel(self.cancel)
        with torch.inference_mode():
            image = pipe(prompt=style.prompt, negative_prompt=style.negative_prompt or None, width=size[0], height=size[1],
                         num_inference_steps=style.steps, guidance_scale=style.cfg_scale,
                         generator=torch.Generator().manual_seed(seed), output_type="np",
                         callback_on_step_end=self._check_cancel_after_step, **kwargs).images[0]
        del pipe, base
        return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


def build_video_stylizer(method: str, model: ModelOptions, style: StyleOptions, video: VideoOptions, *,
                         cancel: threading.Event | None = None):
    """The model-side video methods' stylizer, loaded once for the job."""
    if method == "animatediff":
        from ..models.video import load_animatediff

        loaded, adapter = load_animatediff(model, video.motion_adapter)
        return AnimateDiffStylizer(loaded, style, video, adapter, cancel=cancel)
    from ..models.video import load_svd, svd_for

    loaded = load_svd(svd_for(video.video_model, model.model), model.device, model.dtype)
    return StableVideoStylizer(loaded, style, video, model, cancel=cancel)
