"""Model errors say true things: the `hf` command that exists, the option that takes the download, what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rotoscope.errors import ModelError
from rotoscope.models.options import ModelOptions


@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """No hub, and an empty cache: what a user without the weights sees."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))


def _line(info: pytest.ExceptionInfo) -> str:
    text = str(info.value)
    assert "\n" not in text
    return text


def test_the_hf_command_the_messages_name_is_installed():
    import shutil
    import sys

    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "hf").exists() or shutil.which("hf"), "huggingface_hub's `hf` command is missing"


def test_unreachable_model_names_hf_download_and_the_options(offline):
    from rotoscope.models.loader import load_pipeline

    with pytest.raises(ModelError) as info:
        load_pipeline(ModelOptions(model="org/name", device="cpu"))
    text = _line(info)
    assert "huggingface-cli" not in text and "copy the folder here" not in text
    assert "`hf download org/name --local-dir DIR`" in text and "pass --model DIR" in text
    assert "--model FILE --model-config CONFIG_DIR" in text


def test_single_file_without_configs_names_model_config(offline, tmp_path):
    from safetensors.torch import save_file

    from rotoscope.models.loader import load_pipeline

    file = tmp_path / "sd15.safetensors"  # SD 1.x-shaped keys: the family is told from them, the configs are missing
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(8, 4, 3, 3),
               "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": torch.zeros(8, 768)}, str(file))
    with pytest.raises(ModelError) as info:
        load_pipeline(ModelOptions(model=str(file), device="cpu"))
    text = _line(info)
    assert "huggingface-cli" not in text and "--config " not in text
    assert "--model-config DIR" in text
    assert "`hf download stable-diffusion-v1-5/stable-diffusion-v1-5 --include '*.json' --include '*.txt' --local-dir DIR`" in text


def test_unreachable_vae_and_controlnet_name_their_own_option(offline):
    from rotoscope.models.controlnet import load_controlnet
    from rotoscope.models.loader import _load_vae

    with pytest.raises(ModelError) as info:
        _load_vae("org/some-vae", torch.float32, None)
    text = _line(info)
    assert "`hf download org/some-vae --local-dir DIR`" in text and "pass --vae DIR" in text and "--model" not in text
    with pytest.raises(ModelError) as info:
        load_controlnet(None, "depth", base="org/name", dtype=torch.float32)
    text = _line(info)
    assert "`hf download lllyasviel/control_v11f1p_sd15_depth --local-dir DIR`" in text
    assert "pass --control-model depth=DIR" in text and "huggingface-cli" not in text


@pytest.mark.parametrize("spec", ["models/cn.safetensors", "./models/cn.safetensors", "./cn_folder", "~/no-such-dir/cn.pth",
                                  "cn/control.bin"])
def test_missing_local_controlnet_path_says_it_does_not_exist(offline, tmp_path, monkeypatch, spec):
    from rotoscope.models.controlnet import load_controlnet

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as info:
        load_controlnet(spec, "canny", base="org/name", dtype=torch.float32)
    text = _line(info)
    assert f"ControlNet {spec} (canny) does not exist: there is no such file or folder here" in text
    assert "--control-model canny=PATH" in text and "hub" in text and "HF_HUB_OFFLINE" not in text


def test_missing_weight_file_given_as_model_is_a_path_not_a_hub_id(offline, tmp_path, monkeypatch):
    from rotoscope.models.loader import is_hub_id, load_pipeline

    monkeypatch.chdir(tmp_path)
    assert is_hub_id("org/name") and not is_hub_id("models/sd15.safetensors") and not is_hub_id("models/sd.CKPT")
    with pytest.raises(ModelError, match=r"model path models/sd15.safetensors does not exist"):
        load_pipeline(ModelOptions(model="models/sd15.safetensors", device="cpu"))


def test_animatediff_offline_names_the_adapter_and_the_model(offline):
    from rotoscope.models.video import DEFAULT_MOTION_ADAPTER, load_animatediff

    model = "stable-diffusion-v1-5/stable-diffusion-v1-5"
    with pytest.raises(ModelError) as info:
        load_animatediff(ModelOptions(model=model, device="cpu"))
    text = _line(info)
    assert f"motion adapter {DEFAULT_MOTION_ADAPTER!r}" in text and f"model {model!r}" in text
    assert f"`hf download {DEFAULT_MOTION_ADAPTER} --local-dir ADAPTER_DIR`" in text
    assert f"`hf download {model} --local-dir MODEL_DIR`" in text
    assert "--motion-adapter ADAPTER_DIR --model MODEL_DIR" in text


def test_animatediff_with_a_local_model_names_only_the_adapter(offline, tiny_model_dir):
    from rotoscope.models.video import DEFAULT_MOTION_ADAPTER, load_animatediff

    with pytest.raises(ModelError) as info:
        load_animatediff(ModelOptions(model=str(tiny_model_dir), device="cpu"), DEFAULT_MOTION_ADAPTER)
    text = _line(info)
    assert text.startswith(f"motion adapter {DEFAULT_MOTION_ADAPTER!r} cannot be loaded")
    assert "pass --motion-adapter DIR" in text and str(tiny_model_dir) not in text and "--model" not in text


def test_svd_messages_suggest_only_what_svd_loads(offline, tmp_path):
    from rotoscope.models.video import DEFAULT_SVD, load_svd

    with pytest.raises(ModelError) as info:
        load_svd(DEFAULT_SVD, device="cpu")
    text = _line(info)
    assert ".safetensors" not in text and ".ckpt" not in text and "huggingface-cli" not in text
    assert f"`hf download {DEFAULT_SVD} --local-dir DIR`" in text and "pass --video-model DIR" in text
    single = tmp_path / "svd.safetensors"
    single.write_bytes(b"\0" * 16)
    with pytest.raises(ModelError) as info:
        load_svd(str(single), device="cpu")
    text = _line(info)
    assert "SVD cannot load" in text and "diffusers folder or a hub id as --video-model" in text
