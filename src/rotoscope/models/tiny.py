"""Tiny Stable Diffusion 1.x-shaped pipelines, built offline under a fixed seed.

They exercise every code path of a real SD 1.x model (text encoder, UNet with
cross-attention, ÷8 VAE, the SD beta schedule) in milliseconds on a CPU. The
UNet and text encoder are random; the VAE carries weights trained by
``scripts/train_tiny_vae.py`` (``models/assets/tiny_vae``), so img2img output
keeps the scene. Their layout mirrors SD's closely enough that diffusers'
single-file (LDM) conversion works on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from .tokenizer import VOCAB_SIZE, build_byte_tokenizer

#: Bump when the tiny pipeline's construction changes: it keys the on-disk cache.
TINY_VERSION = "tiny-sd1-v1"
TINY_SEED = 0
ASSETS = Path(__file__).parent / "assets"
TINY_VAE_DIR = ASSETS / "tiny_vae"

TEXT_HIDDEN = 32


def tiny_vae_config() -> dict:
    """AutoencoderKL: four blocks (latents 1/8 of the image, like SD), 4 latent channels."""
    return dict(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=256,
    )


def tiny_unet_config(in_channels: int = 4) -> dict:
    """UNet2DConditionModel laid out like SD 1.x (attention blocks, then a plain one)."""
    return dict(
        sample_size=32,
        in_channels=in_channels,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(32, 64),
        layers_per_block=1,
        cross_attention_dim=TEXT_HIDDEN,
        attention_head_dim=4,
        norm_num_groups=32,
    )


def tiny_text_encoder_config():
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=TEXT_HIDDEN,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        bos_token_id=VOCAB_SIZE - 2,
        eos_token_id=VOCAB_SIZE - 1,
        pad_token_id=VOCAB_SIZE - 1,
        projection_dim=TEXT_HIDDEN,
    )


def tiny_scheduler_config() -> dict:
    return dict(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="epsilon",
    )


def build_tiny_vae(trained: bool = True):
    """The tiny AutoencoderKL; with ``trained`` its committed weights and scaling factor."""
    from diffusers import AutoencoderKL

    if trained and (TINY_VAE_DIR / "config.json").exists():
        return AutoencoderKL.from_pretrained(TINY_VAE_DIR)
    torch.manual_seed(TINY_SEED)
    return AutoencoderKL(**tiny_vae_config())


def _components(in_channels: int) -> dict:
    from diffusers import DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(TINY_SEED)
    unet = UNet2DConditionModel(**tiny_unet_config(in_channels))
    torch.manual_seed(TINY_SEED + 1)
    text_encoder = CLIPTextModel(tiny_text_encoder_config())
    return dict(
        unet=unet.eval(),
        vae=build_tiny_vae().eval(),
        text_encoder=text_encoder.eval(),
        tokenizer=build_byte_tokenizer(),
        scheduler=DDIMScheduler(**tiny_scheduler_config()),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_tiny_pipeline():
    """A tiny ``StableDiffusionImg2ImgPipeline`` (4-channel UNet)."""
    from diffusers import StableDiffusionImg2ImgPipeline

    return StableDiffusionImg2ImgPipeline(**_components(4))


def build_tiny_inpaint_pipeline():
    """A tiny ``StableDiffusionInpaintPipeline`` with a 9-channel (inpainting) UNet."""
    from diffusers import StableDiffusionInpaintPipeline

    return StableDiffusionInpaintPipeline(**_components(9))


def tiny_cache_root() -> Path:
    import os

    root = os.environ.get("ROTOSCOPE_CACHE") or Path.home() / ".cache" / "rotoscope"
    return Path(root) / "models"


def _vae_stamp() -> str:
    cfg = TINY_VAE_DIR / "config.json"
    if not cfg.exists():
        return "untrained"
    return str(json.loads(cfg.read_text()).get("scaling_factor"))


def cached_build(name: str, marker: str, write: Callable[[Path], None]) -> Path:
    """The cache folder ``name``, written once by ``write(tmp)`` into a temp folder and renamed into place,
    so a half-written cache never loads; ``marker`` is the file that says it is complete."""
    import os
    import shutil
    import tempfile

    folder = tiny_cache_root() / name
    if (folder / marker).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=name + ".", dir=folder.parent))
    try:
        write(tmp)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process won the race
            if not (folder / marker).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def ensure_tiny_folder(inpaint: bool = False) -> Path:
    """Build the tiny pipeline once and ``save_pretrained`` it; return its folder.

    The folder is keyed by :data:`TINY_VERSION` and the VAE's scaling factor.
    """
    name = f"{TINY_VERSION}-{'inpaint' if inpaint else 'img2img'}-vae{_vae_stamp()}"
    build = build_tiny_inpaint_pipeline if inpaint else build_tiny_pipeline
    return cached_build(name, "model_index.json", lambda tmp: build().save_pretrained(tmp, safe_serialization=True))
