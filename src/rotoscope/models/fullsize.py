"""The full-size Stable Diffusion 1.5 architecture with random weights, built offline (for bench/speed.py).

Timing needs no trained weights: a UNet of SD 1.5's shape (859.5 M
parameters), its VAE (83.7 M) and a CLIP ViT-L/14 text encoder (123 M) run
exactly as fast with random numbers in them. Weights are drawn ~N(0, 1/fan_in)
(norms 1, biases 0) so activations stay in a normal range — no denormals, no
overflow in bf16 — and built straight in the dtype asked for, so a bf16 build
never holds an fp32 copy (peak memory is the preset's own).
"""

from __future__ import annotations

import math

import torch

from .tiny import tiny_scheduler_config
from .tokenizer import VOCAB_SIZE, build_byte_tokenizer

UNET_PARAMS = 859_520_964  # SD 1.5's UNet2DConditionModel


def sd15_unet_config() -> dict:
    return dict(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
    )


def sd15_vae_config() -> dict:
    return dict(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32, sample_size=512,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512), scaling_factor=0.18215,
    )


def clip_l_config():
    from transformers import CLIPTextConfig

    # CLIP ViT-L/14's text tower; the project's byte tokenizer's ids fit inside its 49,408-token table
    return CLIPTextConfig(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
        max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
        bos_token_id=VOCAB_SIZE - 2, eos_token_id=VOCAB_SIZE - 1, pad_token_id=VOCAB_SIZE - 1,
    )


@torch.no_grad()
def _random_fill(module: torch.nn.Module, generator: torch.Generator) -> None:
    for name, param in module.named_parameters():
        if param.dim() <= 1:  # norm scales 1, biases 0
            param.fill_(1.0 if name.endswith("weight") and "norm" in name else 0.0)
        else:
            fan_in = math.prod(param.shape[1:])
            param.copy_(torch.randn(param.shape, generator=generator).mul_(1.0 / math.sqrt(fan_in)))


def _build(cls, config: dict, dtype: torch.dtype, generator: torch.Generator):
    """Construct on the meta device (no init cost, no memory), materialise in ``dtype``, fill at random."""
    with torch.device("meta"):
        model = cls(**config)
    model = model.to(dtype=dtype).to_empty(device="cpu")
    assert not list(model.buffers()), f"{cls.__name__} has buffers to_empty would leave garbage in"
    _random_fill(model, generator)
    return model.eval()


def build_sd15_pipeline(dtype: torch.dtype = torch.float32, seed: int = 0):
    """A ``StableDiffusionImg2ImgPipeline`` with SD 1.5's shapes and random weights."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionImg2ImgPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    gen = torch.Generator().manual_seed(seed)
    unet = _build(UNet2DConditionModel, sd15_unet_config(), dtype, gen)
    vae = _build(AutoencoderKL, sd15_vae_config(), dtype, gen)
    torch.manual_seed(seed + 1)
    text_encoder = CLIPTextModel(clip_l_config()).to(dtype).eval()
    return StableDiffusionImg2ImgPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=build_byte_tokenizer(),
        scheduler=DDIMScheduler(**tiny_scheduler_config()), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )


def build_taesd(dtype: torch.dtype = torch.float32, seed: int = 0):
    """TAESD's shape (diffusers' AutoencoderTiny defaults are madebyollin/taesd's config), random weights."""
    from diffusers import AutoencoderTiny

    return _build(AutoencoderTiny, {}, dtype, torch.Generator().manual_seed(seed))
