"""Tiny stand-ins for the speed add-ons, built offline under a fixed seed.

- a tiny TAESD (``AutoencoderTiny``) with the tiny pipeline's latent layout
  (4 channels, 1/8 of the image), for ``--vae tiny`` with ``--model tiny``;
- a tiny LCM-LoRA (random low-rank weights on the tiny UNet's attention,
  feed-forward and resnet layers, the layers the real LCM-LoRA touches),
  for ``--lcm-lora auto`` with ``--model tiny``.

They test plumbing (the right modules are called, the LoRA is fused), not
beauty. :func:`write_random_lora` also makes the full-size bench's LoRA.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .tiny import TINY_SEED, cached_build, tiny_unet_config

TINY_SPEED_VERSION = "tiny-speed-v4"
#: the layers latent-consistency's LCM-LoRA for SD 1.5 adapts
LCM_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2",
               "conv1", "conv2", "conv_shortcut", "time_emb_proj"]


def tiny_taesd_config() -> dict:
    """AutoencoderTiny laid out like TAESD (4 stages → 1/8), narrow: 8 channels, one block a stage."""
    return dict(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
        latent_channels=4,
    )


def build_tiny_taesd():
    from diffusers import AutoencoderTiny

    torch.manual_seed(TINY_SEED + 2)
    return AutoencoderTiny(**tiny_taesd_config()).eval()


def ensure_tiny_taesd_folder() -> Path:
    """The tiny TAESD saved as a diffusers folder (what ``--vae tiny`` loads for ``--model tiny``)."""
    import json

    def write(tmp: Path) -> None:
        build_tiny_taesd().save_pretrained(tmp, safe_serialization=True)
        config = json.loads((tmp / "config.json").read_text())
        config.pop("block_out_channels", None)  # diffusers writes it and then warns reading it back
        (tmp / "config.json").write_text(json.dumps(config, indent=2))

    return cached_build(f"{TINY_SPEED_VERSION}-taesd", "config.json", write)


def write_random_lora(unet, folder: Path, *, rank: int, seed: int, scale: float = 0.02) -> Path:
    """Random LoRA weights for ``unet``'s :data:`LCM_TARGETS` layers (Linear and Conv2d), saved as
    ``pytorch_lora_weights.safetensors`` with peft's key names (``unet.<layer>.lora_A.weight`` / ``lora_B``),
    which ``load_lora_weights`` reads. ``unet`` only lends its layer names and shapes; it is not changed."""
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, module in unet.named_modules():
        if not any(name == t or name.endswith("." + t) for t in LCM_TARGETS):
            continue
        if isinstance(module, torch.nn.Linear):
            a_shape, b_shape = (rank, module.in_features), (module.out_features, rank)
        elif isinstance(module, torch.nn.Conv2d):
            a_shape = (rank, module.in_channels, *module.kernel_size)
            b_shape = (module.out_channels, rank, 1, 1)
        else:
            continue
        fan_in = 1
        for d in a_shape[1:]:
            fan_in *= d
        state[f"unet.{name}.lora_A.weight"] = torch.randn(a_shape, generator=gen) / fan_in**0.5
        state[f"unet.{name}.lora_B.weight"] = torch.randn(b_shape, generator=gen) * scale / rank**0.5
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pytorch_lora_weights.safetensors"
    save_file(state, str(path))
    return path


def ensure_tiny_lcm_lora() -> Path:
    """The tiny LCM-LoRA file (what ``--lcm-lora auto`` loads for ``--model tiny``)."""
    from diffusers import UNet2DConditionModel

    def write(tmp: Path) -> None:
        torch.manual_seed(TINY_SEED)
        write_random_lora(UNet2DConditionModel(**tiny_unet_config(4)), tmp, rank=4, seed=TINY_SEED + 3, scale=0.2)

    return cached_build(f"{TINY_SPEED_VERSION}-lcm-lora", "pytorch_lora_weights.safetensors", write) / "pytorch_lora_weights.safetensors"
