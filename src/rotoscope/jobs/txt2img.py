"""Still images from a prompt alone (the web UI's txt2img), with the job's model, sampler, steps and CFG.

The HTTP face's ``/sdapi/v1/txt2img`` uses it; the video methods never do (img2vid makes its still in
stylize/video.py). Each image is written as a PNG with its infotext, as preview writes its tiles.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..media.encode import save_png
from ..models.samplers import make_scheduler
from ..progress import after_step, check_cancel
from ..stylize.factory import cached_pipeline
from .infotext import format_infotext
from .preview import PreviewTile
from .spec import JobSpec

DEFAULT_SIZE = 512  # the web UI's txt2img default when no width/height is given

# keys the job spec writes that a prompt-only image does not have
_NOT_TXT2IMG = re.compile(r", (Denoising strength|Method): [^,\n]*")


def txt2img(spec: JobSpec, seeds: list[int], output: Path, *, cancel: threading.Event | None = None) -> list[PreviewTile]:
    """One image per seed at the processing size (default 512×512) into ``output``'s folder; ``cancel`` stops
    the image being made within one denoising step (``Cancelled``), the ones written stay."""
    from diffusers import AutoPipelineForText2Image

    style = spec.style
    size = (style.width or DEFAULT_SIZE, style.height or DEFAULT_SIZE)
    base = cached_pipeline(spec.model, "img2img")  # kept for the next call with the same model
    pipe = AutoPipelineForText2Image.from_pipe(base.pipe)
    pipe.scheduler = make_scheduler(style.sampler, pipe.scheduler.config, spacing=style.timestep_spacing)
    pipe.set_progress_bar_config(disable=True)
    kwargs = {} if base.family == "sdxl" else {"clip_skip": (style.clip_skip - 1) or None}

    def stop_if_cancelled(pipe, step: int, timestep, tensors: dict) -> dict:
        after_step(cancel, step + 1, pipe.num_timesteps)
        return {}

    output.parent.mkdir(parents=True, exist_ok=True)
    tiles = []
    for seed in seeds:
        check_cancel(cancel)
        with torch.inference_mode():
            image = pipe(prompt=style.prompt, negative_prompt=style.negative_prompt or None, width=size[0],
                         height=size[1], num_inference_steps=style.steps, guidance_scale=style.cfg_scale,
                         generator=torch.Generator().manual_seed(seed), output_type="np",
                         callback_on_step_end=stop_if_cancelled, **kwargs).images[0]
        pixels = np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
        info = format_infotext(replace(spec, style=replace(style, seed=seed)), seed=seed, size=size)
        path = output.with_name(f"{output.stem}-seed{seed}.png")
        save_png(path, pixels, _NOT_TXT2IMG.sub("", info))
        tiles.append(PreviewTile(seed, 1.0, path))
    return tiles
