"""What a frame should look like: the web UI's img2img settings, with its names."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..options import check_fields, option

RESIZE_MODES = ("just-resize", "crop-and-resize", "resize-and-fill")
NOISE_MODES = ("shared", "per-frame")
SPACINGS = ("auto", "leading", "trailing", "linspace")  # timestep spacing; trailing for SD-Turbo
MAX_SEED = 2**32 - 1


def _sampler_names() -> list[str]:
    from ..models.samplers import sampler_names

    return sampler_names()


@dataclass
class StyleOptions:
    prompt: str = option("", short="-p", panel="Look", infotext="Prompt", a1111="prompt",
                         help="What the frames should look like.", widget="textarea")
    negative_prompt: str = option("", short="-n", panel="Look", infotext="Negative prompt", a1111="negative_prompt",
                                  help="What to avoid.", widget="textarea")
    seed: int = option(-1, panel="Look", low=0, high=MAX_SEED, allow=(-1,), hint="-1 draws one at random",
                       infotext="Seed", a1111="seed",
                       help="Seed; -1 draws one once, prints and records it.")
    steps: int = option(20, panel="Look", low=1, high=150, infotext="Steps", a1111="steps",
                        help="Sampling steps (img2img runs steps × strength of them).")
    cfg_scale: float = option(7.0, flag="--cfg", panel="Look", low=0, high=30, infotext="CFG scale", a1111="cfg_scale",
                              help="CFG scale: how strongly the prompt steers.")
    strength: float = option(0.3, panel="Look", low=0, high=1, low_open=True, hint="video usually wants 0.2–0.4",
                             infotext="Denoising strength", a1111="denoising_strength",
                             help="Denoising strength in (0, 1]; 0.2–0.4 keeps video steady.")
    sampler: str = option("Euler a", panel="Look", choices=_sampler_names, strict_choices=False, infotext="Sampler",
                          a1111="sampler_name", help="Sampler, web-UI name or a diffusers scheduler class name.")
    width: int | None = option(None, name="process_width", panel="Look", low=8, high=4096, a1111="width",
                               help="Width the model works at (multiple of 8; default: the frame's width rounded to 8). "
                               "The output keeps the frame size: --width scales the frames.")
    height: int | None = option(None, name="process_height", panel="Look", low=8, high=4096, a1111="height",
                                help="Height the model works at (multiple of 8; default: the frame's height rounded to 8).")
    resize_mode: str = option("just-resize", panel="Look", choices=RESIZE_MODES, infotext="Resize mode",
                              a1111="resize_mode", help="How a frame meets the processing size when their aspects differ.")
    clip_skip: int = option(1, panel="Look", low=1, high=12, infotext="Clip skip", a1111="CLIP_stop_at_last_layers",
                            help="Skip the last N-1 CLIP layers (web-UI clip skip).")
    batch_size: int = option(1, panel="Speed", low=1, high=64, a1111="batch_size", help="Frames per model call.")
    noise: str = option("shared", panel="Consistency", choices=NOISE_MODES, infotext="Noise", widget="radio",
                        help="shared: every frame starts from the same noise (steadiest); per-frame: seed + frame index.")
    # speed pieces (stylize/speed.py, presets in stylize/presets.py); the defaults change nothing
    timestep_spacing: str = option("auto", flag="--spacing", panel="Speed", choices=SPACINGS, infotext="Schedule type",
                                   help="Timestep spacing: auto (the model's) | leading | trailing (SD-Turbo) | linspace.")
    reuse_threshold: float = option(0.0, panel="Speed", low=0, high=255, infotext="Reuse threshold",
                                    hint="1–3 reuses near-still frames",
                                    help="Similar-frame reuse: a frame whose source differs from the last computed one by "
                                    "less than this (mean |Δ|, 0-255) reuses its output; 0 = off.")
    step_cache: int = option(0, panel="Speed", low=0, high=10, infotext="Step cache", hint="2 or 3 is typical",
                             help="DeepCache-style: the whole UNet every N-th step, only its outer blocks between; "
                             "0 = off.")

    def validate(self) -> None:
        """Everything is checked before any model work; messages name the value and the allowed range.
        steps × strength < 1 is not an error: the stylizer raises the schedule so one step runs."""
        check_fields(self)
        from ..models.samplers import check_sampler

        check_sampler(self.sampler)  # the choices are suggestions (class names too), so not by check_fields
