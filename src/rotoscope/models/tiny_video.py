"""Tiny video models, built offline under a fixed seed: a MotionAdapter for the tiny SD UNet,
and a tiny Stable Video Diffusion pipeline (spatio-temporal UNet, temporal VAE decoder, CLIP
vision encoder).

Like ``tiny.py`` they exercise every code path of the real models (AnimateDiff's motion
modules, SVD's image conditioning, added time ids and temporal decoder) in milliseconds on a
CPU; they test plumbing, determinism, geometry and timing, not beauty. Each is built once,
``save_pretrained`` to the cache and loaded back through the normal loader (models/video.py).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .tiny import TINY_SEED, cached_build, tiny_unet_config

#: Bump when a tiny video model's construction changes: it keys the on-disk cache.
TINY_MOTION_VERSION = "tiny-motion-v1"
TINY_SVD_VERSION = "tiny-svd-v1"
#: frames the tiny SVD UNet is configured for (the real img2vid-xt: 25)
TINY_SVD_FRAMES = 8
IMAGE_EMBED = 32


def tiny_motion_adapter_config() -> dict:
    """A MotionAdapter whose blocks match :func:`~.tiny.tiny_unet_config` (channels 32, 64; one layer a block)."""
    unet = tiny_unet_config()
    return dict(
        block_out_channels=tuple(unet["block_out_channels"]),
        motion_layers_per_block=unet["layers_per_block"],
        motion_transformer_layers_per_block=1,
        motion_mid_block_layers_per_block=1,
        motion_transformer_layers_per_mid_block=1,
        motion_num_attention_heads=2,
        motion_norm_num_groups=16,
        motion_max_seq_length=32,
        use_motion_mid_block=True,
    )


def build_tiny_motion_adapter():
    from diffusers import MotionAdapter

    torch.manual_seed(TINY_SEED + 10)
    return MotionAdapter(**tiny_motion_adapter_config()).eval()


def tiny_svd_unet_config() -> dict:
    return dict(
        sample_size=8,
        in_channels=8,  # 4 noisy latent channels + 4 of the conditioning image's latent
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        block_out_channels=(32, 64),
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=24,  # 3 added time ids (fps, motion bucket, noise aug) × 8
        layers_per_block=1,
        cross_attention_dim=IMAGE_EMBED,
        num_attention_heads=(2, 4),
        num_frames=TINY_SVD_FRAMES,
    )


def tiny_temporal_vae_config() -> dict:
    """AutoencoderKLTemporalDecoder with four blocks (latents 1/8 of the image, like SVD's)."""
    return dict(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        block_out_channels=(32, 32, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        sample_size=64,
        scaling_factor=0.18215,
    )


def tiny_image_encoder_config():
    from transformers import CLIPVisionConfig

    # SVD resizes the conditioning image to 224×224 before the encoder.
    return CLIPVisionConfig(hidden_size=IMAGE_EMBED, projection_dim=IMAGE_EMBED, num_hidden_layers=2,
                            num_attention_heads=4, intermediate_size=64, image_size=224, patch_size=32)


def svd_scheduler_config() -> dict:
    """stabilityai/stable-video-diffusion-img2vid-xt's EulerDiscreteScheduler (EDM, v-prediction)."""
    return dict(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        interpolation_type="linear", prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
        steps_offset=1, timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True,
        final_sigmas_type="zero",
    )


def build_tiny_svd_pipeline():
    from diffusers import (AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, StableVideoDiffusionPipeline,
                           UNetSpatioTemporalConditionModel)
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    torch.manual_seed(TINY_SEED + 20)
    unet = UNetSpatioTemporalConditionModel(**tiny_svd_unet_config())
    torch.manual_seed(TINY_SEED + 21)
    vae = AutoencoderKLTemporalDecoder(**tiny_temporal_vae_config())
    torch.manual_seed(TINY_SEED + 22)
    image_encoder = CLIPVisionModelWithProjection(tiny_image_encoder_config())
    features = CLIPImageProcessor(crop_size=224, size={"shortest_edge": 224})
    return StableVideoDiffusionPipeline(vae=vae.eval(), image_encoder=image_encoder.eval(), unet=unet.eval(),
                                        scheduler=EulerDiscreteScheduler(**svd_scheduler_config()),
                                        feature_extractor=features)


def _ensure(name: str, marker: str, build) -> Path:
    return cached_build(name, marker, lambda tmp: build().save_pretrained(tmp, safe_serialization=True))


def ensure_tiny_motion_adapter() -> Path:
    """The tiny MotionAdapter as a diffusers folder (config.json + safetensors)."""
    return _ensure(TINY_MOTION_VERSION, "config.json", build_tiny_motion_adapter)


def ensure_tiny_svd_folder() -> Path:
    """The tiny Stable Video Diffusion pipeline as a diffusers folder (model_index.json + components)."""
    return _ensure(TINY_SVD_VERSION, "model_index.json", build_tiny_svd_pipeline)
