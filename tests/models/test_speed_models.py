"""Speed add-ons on the model side (models/speed.py, tiny_speed.py, fullsize.py), with real tiny components.

The full-size SD 1.5 builder is checked on the meta device (shapes and parameter
counts, no memory); the tiny TAESD and LCM-LoRA are built, saved and loaded
through the project's loader; a missing add-on offline is one clear line.
"""

from __future__ import annotations

import torch
import pytest

from rotoscope.errors import ModelError
from rotoscope.models.loader import load_pipeline
from rotoscope.models.options import ModelOptions


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_fullsize_sd15_architecture_has_sd15_parameter_counts():
    from diffusers import AutoencoderKL, AutoencoderTiny, UNet2DConditionModel
    from transformers import CLIPTextModel

    from rotoscope.models.fullsize import UNET_PARAMS, clip_l_config, sd15_unet_config, sd15_vae_config

    with torch.device("meta"):
        unet = UNet2DConditionModel(**sd15_unet_config())
        vae = AutoencoderKL(**sd15_vae_config())
        text = CLIPTextModel(clip_l_config())
        taesd = AutoencoderTiny()
    assert _count(unet) == UNET_PARAMS  # 859.5 M, SD 1.5's UNet
    assert round(_count(vae) / 1e6, 1) == 83.7
    assert round(_count(text) / 1e6) == 123  # CLIP ViT-L/14 text tower
    assert round(_count(taesd) / 1e6, 1) == 2.4  # TAESD


def test_fullsize_random_weights_are_well_scaled():
    """The random-fill recipe keeps activations normal (no overflow, no denormals): checked on a narrow UNet."""
    from diffusers import UNet2DConditionModel

    from rotoscope.models.fullsize import _build
    from rotoscope.models.tiny import tiny_unet_config

    unet = _build(UNet2DConditionModel, tiny_unet_config(), torch.bfloat16, torch.Generator().manual_seed(0))
    assert unet.dtype == torch.bfloat16
    with torch.inference_mode():
        out = unet(torch.randn(1, 4, 8, 8, dtype=torch.bfloat16), 500,
                   encoder_hidden_states=torch.randn(1, 77, 32, dtype=torch.bfloat16)).sample
    assert torch.isfinite(out).all() and 0.05 < float(out.float().std()) < 20


def test_tiny_taesd_loads_as_autoencoder_tiny_with_the_pipelines_latent_layout(tiny_model_dir):
    from diffusers import AutoencoderTiny

    loaded = load_pipeline(ModelOptions(model="tiny", vae="tiny"))
    vae = loaded.pipe.vae
    assert isinstance(vae, AutoencoderTiny)
    with torch.inference_mode():
        latents = vae.encode(torch.zeros(1, 3, 64, 96)).latents
        image = vae.decode(latents).sample
    assert latents.shape == (1, 4, 8, 12) and image.shape == (1, 3, 64, 96)


def test_lcm_lora_is_fused_into_the_unet_and_leaves_no_adapter_layers(tiny_model_dir):
    plain = load_pipeline(ModelOptions(model="tiny"))
    fused = load_pipeline(ModelOptions(model="tiny", lcm_lora="auto"))
    a, b = dict(plain.pipe.unet.named_parameters()), dict(fused.pipe.unet.named_parameters())
    assert a.keys() == b.keys()  # no lora_A / lora_B left: nothing extra to run per step
    changed = [k for k in a if not torch.equal(a[k], b[k])]
    assert any("attn1.to_q" in k for k in changed) and any("resnets" in k and "conv1" in k for k in changed)
    assert fused.loras and fused.loras[-1][0].startswith("lcm:")


def test_half_precision_is_bf16_on_a_bf16_cpu_and_fp16_on_cuda():
    from rotoscope.models.loader import resolve_dtype
    from rotoscope.models.speed import cpu_has_bf16, resolve_half

    assert resolve_half(torch.device("cuda")) == torch.float16
    assert resolve_dtype("half", torch.device("cpu")) == (torch.bfloat16 if cpu_has_bf16() else torch.float32)


def test_half_precision_loads_bf16_weights(tiny_model_dir):
    from rotoscope.models.speed import cpu_has_bf16

    # "half" is bf16 on a CPU with bf16 instructions and full precision on one without (bf16 emulated
    # in software would be slower than fp32): either way the weights are loaded in that one dtype.
    want = torch.bfloat16 if cpu_has_bf16() else torch.float32
    loaded = load_pipeline(ModelOptions(model="tiny", dtype="half"))
    assert loaded.dtype == want
    assert {p.dtype for p in loaded.pipe.unet.parameters()} == {want}
    assert {p.dtype for p in loaded.pipe.vae.parameters()} == {want}


def test_channels_last_sdpa_and_threads_are_applied(tiny_model_dir):
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    threads = torch.get_num_threads()
    try:
        loaded = load_pipeline(ModelOptions(model="tiny", channels_last=True, threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    conv = loaded.pipe.unet.conv_in.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert loaded.pipe.vae.encoder.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    assert all(isinstance(p, AttnProcessor2_0) for p in loaded.pipe.unet.attn_processors.values())
    classic = load_pipeline(ModelOptions(model="tiny", attention="classic"))
    assert all(isinstance(p, AttnProcessor) for p in classic.pipe.unet.attn_processors.values())


def test_low_memory_slices_attention_and_tiles_the_vae(tiny_model_dir):
    from diffusers.models.attention_processor import SlicedAttnProcessor

    from rotoscope.models.speed import cpu_has_bf16

    loaded = load_pipeline(ModelOptions(model="tiny", low_memory=True))
    assert all(isinstance(p, SlicedAttnProcessor) for p in loaded.pipe.unet.attn_processors.values())
    assert loaded.pipe.vae.use_tiling and loaded.pipe.vae.use_slicing
    assert loaded.dtype == (torch.bfloat16 if cpu_has_bf16() else torch.float32)  # the weights are halved too
    assert load_pipeline(ModelOptions(model="tiny", low_memory=True, dtype="fp32")).dtype == torch.float32


# -- missing add-ons offline: one line, with the way out ------------------------------------------


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty hub cache


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_missing_lcm_lora_offline_is_one_line_with_the_way_out(tiny_model_dir, offline):
    with pytest.raises(ModelError) as exc:
        load_pipeline(ModelOptions(model="tiny", lcm_lora="latent-consistency/lcm-lora-sdv1-5"))
    text = _one_line(exc)
    assert "LCM-LoRA 'latent-consistency/lcm-lora-sdv1-5'" in text and "HF_HUB_OFFLINE" in text
    assert "--lcm-lora FILE" in text and "hf download latent-consistency/lcm-lora-sdv1-5 --local-dir DIR" in text
    with pytest.raises(ModelError, match="LCM-LoRA /nowhere/lcm.safetensors does not exist"):
        load_pipeline(ModelOptions(model="tiny", lcm_lora="/nowhere/lcm.safetensors"))


def test_missing_taesd_offline_is_one_line_with_the_way_out(offline):
    from rotoscope.models.speed import load_taesd

    with pytest.raises(ModelError) as exc:
        load_taesd("tiny", "sd1", torch.float32)  # an SD 1.x model's --vae tiny is madebyollin/taesd
    text = _one_line(exc)
    assert "TAESD (--vae tiny) 'madebyollin/taesd'" in text and "HF_HUB_OFFLINE" in text
    assert "hf download madebyollin/taesd --local-dir DIR" in text and "--vae DIR" in text and "drop --vae tiny" in text


def test_missing_turbo_model_offline_is_one_line_with_the_way_out(offline):
    with pytest.raises(ModelError) as exc:
        load_pipeline(ModelOptions(model="stabilityai/sd-turbo"))
    text = _one_line(exc)
    assert "'stabilityai/sd-turbo'" in text and "hf download stabilityai/sd-turbo --local-dir DIR" in text
