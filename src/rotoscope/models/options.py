"""Which model to load, and where to run it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import OptionError
from ..options import check_fields, option

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DTYPES = ("auto", "fp32", "fp16", "bf16", "half")  # half: fp16 on CUDA/MPS, bf16 on a CPU with bf16 instructions
ATTENTIONS = ("sdpa", "classic")
ENGINES = ("torch", "openvino", "auto")  # models/engines.py
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _own_vae(text: str) -> str | None:
    """``--vae model`` (or none): the model's own VAE, also under --preset fast."""
    return None if text.strip().lower() in ("model", "none") else text


def _no_lcm_lora(text: str) -> str | None:
    return None if text.strip().lower() in ("none", "off") else text


def _show_loras(loras: list) -> str:
    return "; ".join(f"{path}:{float(weight):g}" for path, weight in loras)


@dataclass
class ModelOptions:
    """A model and its add-ons.

    ``model`` is a hub id (``org/name``), a local diffusers folder, a single
    ``.safetensors``/``.ckpt`` file, ``"tiny"`` (the built-in test model) or ``classic:NAME``.
    """

    model: str = option(DEFAULT_MODEL, short="-m", panel="Model", infotext="Model", a1111="sd_model_checkpoint",
                        help="Hub id, local diffusers folder, .safetensors/.ckpt file, 'tiny' (offline test model) or "
                        "classic:cartoon|pencil|watercolor|oil (no weights).", widget="model")
    vae: str | None = option(None, panel="Model", infotext="VAE", a1111="sd_vae", parse=_own_vae,
                             help="VAE override: hub id, folder or single file; tiny = TAESD (fast encode/decode); "
                             "model = the model's own.")
    loras: list[tuple[str, float]] = option(factory=list, name="lora", panel="Model", infotext="Lora",
                                            help="LoRA FILE[:WEIGHT]; repeatable.", parse=lambda t: parse_lora(t),
                                            show=_show_loras)
    embeddings: list[str] = option(factory=list, name="embedding", panel="Model", infotext="Embeddings",
                                   help="Textual-inversion embedding file; repeatable.")
    models_dir: str | None = option(None, panel="Model",
                                    help="Web-UI models folder (A1111 / ComfyUI layout): <lora:NAME:WEIGHT> in the prompt "
                                    "loads NAME from its LoRA folder, as the web UI does.")
    device: str = option("auto", panel="Model", help="auto (cuda → mps → cpu) | cpu | cuda | cuda:N | mps.")
    dtype: str = option("auto", panel="Model", choices=DTYPES,
                        help="auto (fp16 on cuda, fp32 on cpu) | fp32 | fp16 | bf16 | half (fp16 on cuda, bf16 on a cpu "
                        "that has it).")
    config: str | None = option(None, name="model_config", panel="Model",
                                help="Local diffusers folder whose configs a single-file checkpoint uses (needed offline).")
    lcm_lora: str | None = option(None, panel="Speed", infotext="LCM-LoRA", parse=_no_lcm_lora,
                                  help="Fuse an LCM-LoRA: auto (the model family's) | FILE | hub id. Use with --sampler "
                                  "LCM --steps 4 --cfg 1.")
    channels_last: bool = option(False, panel="Speed",
                                 help="NHWC memory format for UNet + VAE (for CUDA; measured slower on CPU).")
    attention: str = option("sdpa", panel="Speed", choices=ATTENTIONS,
                            help="sdpa (PyTorch scaled-dot-product) | classic.")
    threads: int = option(0, panel="Speed", low=0, high=1024,
                          help="CPU threads for the model (0 = torch's default: one per core).")
    low_memory: bool = option(False, panel="Speed",
                              help="For 8 GB machines / small GPUs: half precision unless --dtype is given, attention "
                              "slicing, VAE slicing + tiling, CUDA model CPU offload.")
    compile: bool = option(False, panel="Speed",
                           help="torch.compile the UNet (CPU: Inductor C++ + freezing, needs g++; CUDA: max-autotune). "
                           "The first frame compiles (minutes on a 2-core CPU).")
    engine: str = option("torch", panel="Speed", choices=ENGINES,
                         help="What runs the UNet: torch | openvino (CPU; pip install 'rotoscope[openvino]'; converted "
                         "once per model and size, cached) | auto (openvino for a full-size UNet on the CPU when installed: "
                         "bf16 on AMX / AVX512-BF16, else f32; else torch).")

    def validate(self) -> "ModelOptions":
        check_fields(self)
        if not isinstance(self.model, str) or not self.model.strip():
            raise OptionError("--model is empty: give a hub id, a diffusers folder, a .safetensors/.ckpt file or 'tiny'.")
        if not _DEVICE_RE.match(str(self.device)):
            raise OptionError(f"--device {self.device!r} is not known: use auto, cpu, cuda, cuda:N or mps.")
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
