"""Which model to load, and where to run it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import OptionError

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DTYPES = ("auto", "fp32", "fp16", "bf16", "half")  # half: fp16 on CUDA/MPS, bf16 on a CPU with bf16 instructions
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass
class ModelOptions:
    """A model and its add-ons.

    ``model`` is a hub id (``org/name``), a local diffusers folder, a single
    ``.safetensors``/``.ckpt`` file, or ``"tiny"`` (the built-in test model).
    """

    model: str = DEFAULT_MODEL
    vae: str | None = None  # hub id / folder / single file VAE override
    loras: list[tuple[str, float]] = field(default_factory=list)  # (path, weight)
    embeddings: list[str] = field(default_factory=list)  # textual inversion files
    device: str = "auto"  # auto (cuda → mps → cpu) | cpu | cuda | cuda:N | mps
    dtype: str = "auto"  # auto (fp16 on cuda, fp32 elsewhere) | fp32 | fp16 | bf16
    # local diffusers folder whose configs a single-file model uses (needed offline)
    config: str | None = None
    # speed pieces (models/speed.py; presets in stylize/presets.py). vae="tiny" is TAESD.
    lcm_lora: str | None = None  # "auto" (the family's LCM-LoRA) | file | folder | hub id; fused into the UNet
    channels_last: bool = False  # NHWC memory format for UNet + VAE
    attention: str = "sdpa"  # sdpa (torch scaled-dot-product) | classic
    threads: int = 0  # torch intra-op threads; 0 = torch's default (doesn't change the look)
    low_memory: bool = False  # half precision if dtype is auto, attention slicing, VAE slicing + tiling, CUDA offload (8 GB machines)
    compile: bool = False  # torch.compile the UNet (CUDA only)

    def validate(self) -> "ModelOptions":
        if not isinstance(self.model, str) or not self.model.strip():
            raise OptionError("model is empty: give a hub id, a diffusers folder, a .safetensors/.ckpt file or 'tiny'")
        if not _DEVICE_RE.match(str(self.device)):
            raise OptionError(f"device {self.device!r} is not known: use auto, cpu, cuda, cuda:N or mps")
        if self.dtype not in DTYPES:
            raise OptionError(f"dtype {self.dtype!r} is not known: use one of {', '.join(DTYPES)}")
        if self.attention not in ("sdpa", "classic"):
            raise OptionError(f"--attention {self.attention!r} is not known: use sdpa or classic")
        if not 0 <= int(self.threads) <= 1024:
            raise OptionError(f"--threads {self.threads} must be between 0 (torch's default) and 1024")
        for item in self.loras:
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise OptionError(f"LoRA {item!r} is not (path, weight): write it as FILE[:WEIGHT]")
            try:
                float(item[1])
            except (TypeError, ValueError):
                raise OptionError(f"LoRA weight {item[1]!r} of {item[0]} is not a number: write FILE[:WEIGHT], e.g. style.safetensors:0.8") from None
        return self


def parse_lora(text: str) -> tuple[str, float]:
    """``FILE[:WEIGHT]`` → ``(FILE, WEIGHT)``; the weight defaults to 1.0.

    The weight is the part after the last ``:`` when it parses as a float;
    otherwise the whole text is the file.
    """
    text = text.strip()
    if not text:
        raise OptionError("LoRA is empty: write it as FILE[:WEIGHT], e.g. style.safetensors:0.8")
    path, sep, tail = text.rpartition(":")
    if sep and path:
        try:
            return path, float(tail)
        except ValueError:
            pass
    return text, 1.0
