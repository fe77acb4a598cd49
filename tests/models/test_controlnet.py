"""ControlNet loading per type: tiny (built from config), a local folder, a single file, clear errors."""

from __future__ import annotations

import pytest
import torch

from rotoscope.errors import ModelError
from rotoscope.models.controlnet import DEFAULT_CONTROLNETS, ensure_tiny_controlnet, load_controlnet
from rotoscope.models.tiny import tiny_unet_config


def test_tiny_controlnet_fits_the_tiny_unet_and_is_cached(tiny_model_dir):
    folder = ensure_tiny_controlnet("canny")
    assert ensure_tiny_controlnet("canny") == folder and (folder / "config.json").exists()
    net = load_controlnet(None, "canny", base="tiny", dtype=torch.float32)  # the default with --model tiny
    assert net.config.cross_attention_dim == tiny_unet_config()["cross_attention_dim"]
    assert tuple(net.config.block_out_channels) == tuple(tiny_unet_config()["block_out_channels"])
    # its "zero" convolutions are not zero, so it steers; each type is seeded differently
    assert net.controlnet_mid_block.weight.abs().sum() > 0
    tile = load_controlnet("tiny", "tile", base="x", dtype=torch.float32)
    assert not torch.equal(tile.controlnet_mid_block.weight, net.controlnet_mid_block.weight)
    from_folder = load_controlnet(str(folder), "canny", base="x", dtype=torch.float32)
    assert torch.equal(from_folder.controlnet_mid_block.weight, net.controlnet_mid_block.weight)


def test_single_file_in_diffusers_layout(tiny_model_dir, tmp_path):
    from safetensors.torch import save_file

    net = load_controlnet("tiny", "canny", base="tiny", dtype=torch.float32)
    path = tmp_path / "canny.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    loaded = load_controlnet(str(path), "canny", base="tiny", dtype=torch.float32)
    assert torch.equal(loaded.controlnet_mid_block.weight, net.controlnet_mid_block.weight)


def test_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="does not exist"):
        load_controlnet(str(tmp_path / "nope"), "canny", base="x", dtype=torch.float32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        load_controlnet(str(tmp_path / "empty"), "canny", base="x", dtype=torch.float32)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="damaged"):
        load_controlnet(str(bad), "canny", base="x", dtype=torch.float32)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelError, match="lllyasviel/control_v11f1e_sd15_tile.*HF_HUB_OFFLINE"):
        load_controlnet(None, "tile", base="stable-diffusion-v1-5/stable-diffusion-v1-5", dtype=torch.float32)
    assert DEFAULT_CONTROLNETS["canny"] == "lllyasviel/control_v11p_sd15_canny"
