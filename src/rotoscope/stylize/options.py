"""What a frame should look like: the web UI's img2img settings, with its names."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError

RESIZE_MODES = ("just-resize", "crop-and-resize", "resize-and-fill")
NOISE_MODES = ("shared", "per-frame")
SPACINGS = ("auto", "leading", "trailing", "linspace")  # timestep spacing; trailing for SD-Turbo
MAX_SEED = 2**32 - 1


@dataclass
class StyleOptions:
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = -1  # -1 draws one seed once per job; it is printed and recorded
    steps: int = 20
    cfg_scale: float = 7.0
    strength: float = 0.3  # denoising strength; 0.2–0.4 keeps video steady
    sampler: str = "Euler a"
    width: int | None = None  # processing size; None = the frame's size rounded to a multiple of 8
    height: int | None = None
    resize_mode: str = "just-resize"
    clip_skip: int = 1
    batch_size: int = 1
    noise: str = "shared"  # shared: every frame starts from the same noise; per-frame: seed + index
    # speed pieces (stylize/speed.py, presets in stylize/presets.py); the defaults change nothing
    timestep_spacing: str = "auto"  # auto (the model's) | leading | trailing | linspace
    reuse_threshold: float = 0.0  # similar-frame reuse: mean |Δ| (0–255) of the source below it reuses the last output; 0 = off
    step_cache: int = 0  # DeepCache-style: full UNet every N steps, only its outer blocks between; 0/1 = off

    def validate(self) -> None:
        """Everything is checked before any model work; messages name the value and the allowed range."""
        if not 0 < self.strength <= 1:
            raise OptionError(f"--strength {self.strength} must be in (0, 1]; video usually wants 0.2–0.4.")
        if not 1 <= self.steps <= 150:
            raise OptionError(f"--steps {self.steps} must be between 1 and 150.")
        # steps × strength < 1 is not an error: the stylizer raises the schedule so one step runs (stylize/speed.py)
        if not 0 <= self.cfg_scale <= 30:
            raise OptionError(f"--cfg {self.cfg_scale} must be between 0 and 30.")
        if not (self.seed == -1 or 0 <= self.seed <= MAX_SEED):
            raise OptionError(f"--seed {self.seed} must be -1 (random) or between 0 and {MAX_SEED}.")
        for name, value in (("--width", self.width), ("--height", self.height)):
            if value is not None and not 8 <= value <= 4096:
                raise OptionError(f"{name} {value} must be between 8 and 4096.")
        if self.resize_mode not in RESIZE_MODES:
            raise OptionError(f"--resize-mode {self.resize_mode!r} is not known; use one of {', '.join(RESIZE_MODES)}.")
        if self.noise not in NOISE_MODES:
            raise OptionError(f"--noise {self.noise!r} is not known; use one of {', '.join(NOISE_MODES)}.")
        if not 1 <= self.clip_skip <= 12:
            raise OptionError(f"--clip-skip {self.clip_skip} must be between 1 and 12.")
        if self.timestep_spacing not in SPACINGS:
            raise OptionError(f"--spacing {self.timestep_spacing!r} is not known; use one of {', '.join(SPACINGS)}.")
        if not 0 <= self.reuse_threshold <= 255:
            raise OptionError(f"--reuse-threshold {self.reuse_threshold} must be between 0 (off) and 255; 1–3 reuses near-still frames.")
        if not 0 <= self.step_cache <= 10:
            raise OptionError(f"--step-cache {self.step_cache} must be between 0 (off) and 10; 2 or 3 is typical.")
        if not 1 <= self.batch_size <= 64:
            raise OptionError(f"--batch-size {self.batch_size} must be between 1 and 64.")
