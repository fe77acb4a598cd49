"""Tiny video models built from config, saved, and loaded back through models/video.py; offline errors."""

from __future__ import annotations

import pytest

from rotoscope.errors import ModelError
from rotoscope.models.options import ModelOptions
from rotoscope.models.video import (DEFAULT_MOTION_ADAPTER, DEFAULT_SVD, load_animatediff, load_motion_adapter, load_svd,
                                    motion_adapter_for, svd_for)


@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """No hub, and an empty cache: what a user without the weights sees."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))


def test_tiny_motion_adapter_is_saved_and_loaded_from_its_folder(tiny_model_dir):
    from rotoscope.models.tiny_video import ensure_tiny_motion_adapter

    folder = ensure_tiny_motion_adapter()
    assert (folder / "config.json").exists() and list(folder.glob("*.safetensors"))
    adapter = load_motion_adapter(str(folder))
    assert type(adapter).__name__ == "MotionAdapter"
    assert tuple(adapter.config.block_out_channels) == (32, 64)


def test_tiny_animatediff_pipeline_fits_the_tiny_sd_unet(tiny_model_dir):
    loaded, adapter = load_animatediff(ModelOptions(model="tiny", device="cpu"))
    assert adapter == "tiny"
    assert type(loaded.pipe).__name__ == "AnimateDiffVideoToVideoPipeline"
    assert type(loaded.pipe.unet).__name__ == "UNetMotionModel"
    assert loaded.family == "tiny"


def test_the_motion_unet_holds_every_weight_of_the_sd_unet_and_the_adapter(tiny_model_dir):
    """The motion UNet is built without initialising its weights (load_animatediff skips diffusers' random
    init): each one must then come from the SD UNet or the adapter, none left as uninitialised memory."""
    import torch

    from rotoscope.models.loader import load_pipeline

    loaded, _ = load_animatediff(ModelOptions(model="tiny", device="cpu"))
    unet = load_pipeline(ModelOptions(model="tiny", device="cpu")).pipe.unet.state_dict()
    motion = load_motion_adapter("tiny").state_dict()
    built = loaded.pipe.unet.state_dict()
    assert {k for k in built if "motion_modules" in k} == {k for k in motion if "motion_modules" in k} != set()
    for name, value in built.items():
        source = motion if "motion_modules" in name else unet
        assert torch.equal(value, source[name]), name


def test_tiny_svd_is_saved_and_loaded_from_its_folder(tiny_model_dir):
    from rotoscope.models.tiny_video import TINY_SVD_FRAMES, ensure_tiny_svd_folder

    folder = ensure_tiny_svd_folder()
    loaded = load_svd(str(folder), device="cpu")
    pipe = loaded.pipe
    assert type(pipe).__name__ == "StableVideoDiffusionPipeline"
    assert type(pipe.vae).__name__ == "AutoencoderKLTemporalDecoder"
    assert type(pipe.image_encoder).__name__ == "CLIPVisionModelWithProjection"
    assert pipe.unet.config.num_frames == TINY_SVD_FRAMES


def test_defaults_follow_the_model():
    assert motion_adapter_for(None, "tiny") == "tiny"
    assert motion_adapter_for(None, "stable-diffusion-v1-5/stable-diffusion-v1-5") == DEFAULT_MOTION_ADAPTER
    assert motion_adapter_for("my/adapter", "tiny") == "my/adapter"
    assert svd_for(None, "tiny") == "tiny" and svd_for(None, "x/y") == DEFAULT_SVD


def test_missing_motion_adapter_offline_is_one_clear_line(offline):
    with pytest.raises(ModelError) as info:
        load_motion_adapter(DEFAULT_MOTION_ADAPTER)
    message = str(info.value)
    assert "\n" not in message
    assert DEFAULT_MOTION_ADAPTER in message and "HF_HUB_OFFLINE" in message
    assert "motion adapter" in message and "hf download" in message and "--motion-adapter DIR" in message


def test_missing_svd_offline_is_one_clear_line(offline):
    with pytest.raises(ModelError) as info:
        load_svd(DEFAULT_SVD, device="cpu")
    message = str(info.value)
    assert "\n" not in message
    assert DEFAULT_SVD in message and "HF_HUB_OFFLINE" in message and "Stable Video Diffusion" in message


def test_wrong_folders_are_named(tiny_model_dir, tmp_path):
    with pytest.raises(ModelError, match="has no config.json"):
        load_motion_adapter(str(tmp_path))
    with pytest.raises(ModelError, match="holds a StableDiffusionImg2ImgPipeline"):
        load_svd(str(tiny_model_dir), device="cpu")
    with pytest.raises(ModelError, match="does not exist"):
        load_motion_adapter(str(tmp_path / "missing"))
