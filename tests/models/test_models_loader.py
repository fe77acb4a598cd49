"""The loader on real tiny diffusers pipelines (no mocks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from rotoscope.errors import ModelError
from rotoscope.models import LoadedModel, ModelOptions, detect_family, load_pipeline
from rotoscope.models.tiny import tiny_unet_config

from tests.models.ldm_convert import pipeline_to_ldm


def scene(w=96, h=64) -> Image.Image:
    """A test image: a gradient with a coloured disc and a bar."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 / w, yy * 255 / h, np.full_like(xx, 120)], -1).astype(np.float32)
    img[(xx - w * 0.35) ** 2 + (yy - h * 0.5) ** 2 < (h * 0.3) ** 2] = (230, 40, 40)
    img[:, int(w * 0.7) : int(w * 0.8)] = (20, 20, 200)
    return Image.fromarray(img.astype(np.uint8))


def run(model: LoadedModel, seed=1, strength=0.3, steps=10, image=None, prompt="a red ball") -> np.ndarray:
    image = image or scene()
    out = model.pipe(
        prompt=prompt, image=image, strength=strength, num_inference_steps=steps, guidance_scale=7.0,
        generator=torch.Generator().manual_seed(seed), output_type="np",
    ).images[0]
    return (out * 255).astype(np.float64)


def psnr(a, b) -> float:
    return float(10 * np.log10(255.0**2 / max(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2), 1e-12)))


@pytest.fixture(scope="module")
def tiny(tiny_model_dir) -> LoadedModel:
    return load_pipeline(ModelOptions(model=str(tiny_model_dir), device="cpu"))


def test_tiny_loads_through_folder(tiny, tiny_model_dir):
    assert (tiny_model_dir / "model_index.json").exists()
    assert tiny.family == "tiny" and tiny.device.type == "cpu" and tiny.dtype == torch.float32
    assert tiny.name == tiny_model_dir.name
    assert tiny.pipe.safety_checker is None
    again = load_pipeline(ModelOptions(model="tiny", device="cpu"))
    assert again.name == "tiny" and again.family == "tiny"


def test_same_seed_same_output_other_seed_differs(tiny):
    a, b, c = run(tiny, seed=1), run(tiny, seed=1), run(tiny, seed=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def cup_frame(size=(160, 120)) -> Image.Image:
    import av

    with av.open(str(Path(__file__).resolve().parents[2] / "samples" / "cup.mp4")) as container:
        frame = next(container.decode(video=0))
    return frame.to_image().resize(size)


def test_img2img_keeps_the_scene(tiny):
    image = cup_frame()
    out = run(tiny, strength=0.3, image=image)
    assert out.shape == (120, 160, 3)
    assert psnr(out, image) > 15.0  # the trained tiny VAE carries the scene through


def test_single_file_ldm_layout_equals_folder(tiny, tmp_path):
    ckpt = tmp_path / "tiny-original.safetensors"
    state = pipeline_to_ldm(tiny.pipe)
    assert any(k.startswith("model.diffusion_model.input_blocks.") for k in state)
    save_file(state, str(ckpt))
    single = load_pipeline(ModelOptions(model=str(ckpt), device="cpu"))
    assert single.family == "tiny" and single.name == "tiny-original"
    for comp in ("unet", "vae", "text_encoder"):
        a, b = getattr(tiny.pipe, comp).state_dict(), getattr(single.pipe, comp).state_dict()
        assert a.keys() == b.keys()
    assert np.array_equal(run(single, steps=4), run(tiny, steps=4))


def test_truncated_safetensors(tmp_path, tiny):
    ckpt = tmp_path / "model.safetensors"
    save_file({k: v for k, v in list(pipeline_to_ldm(tiny.pipe).items())[:40]}, str(ckpt))
    data = ckpt.read_bytes()
    for name, blob in (("cut.safetensors", data[: len(data) // 2]), ("head.safetensors", data[:5]), ("junk.safetensors", b"x" * 100)):
        bad = tmp_path / name
        bad.write_bytes(blob)
        with pytest.raises(ModelError, match="damaged") as info:
            load_pipeline(ModelOptions(model=str(bad), device="cpu"))
        assert name in str(info.value) and "\n" not in str(info.value)


def test_missing_path():
    with pytest.raises(ModelError, match="does not exist"):
        load_pipeline(ModelOptions(model="/no/such/model.safetensors", device="cpu"))


def test_hub_offline_one_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = "rotoscope-tests/not-a-model"
    with pytest.raises(ModelError) as info:
        load_pipeline(ModelOptions(model=repo, device="cpu"))
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert repo in msg and "--model DIR" in msg and ".safetensors" in msg and "--model-config" in msg
    assert f"hf download {repo} --local-dir DIR" in msg
    assert info.value.__cause__ is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu():
    with pytest.raises(ModelError, match="CUDA was asked for but torch sees no GPU; use --device cpu or auto"):
        load_pipeline(ModelOptions(model="tiny", device="cuda"))


def test_detect_family_from_keys():
    sd1 = {"model.diffusion_model.input_blocks.0.0.weight": (320, 4, 3, 3),
           "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (320, 768)}
    assert detect_family(sd1) == ("sd1", False)
    sd2 = dict(sd1, **{"model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (320, 1024),
                       "cond_stage_model.model.token_embedding.weight": (49408, 1024)})
    assert detect_family(sd2) == ("sd2", False)
    xl = dict(sd1, **{"conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias": (1280,)})
    assert detect_family(xl) == ("sdxl", False)
    inpaint = dict(sd1, **{"model.diffusion_model.input_blocks.0.0.weight": (320, 9, 3, 3)})
    assert detect_family(inpaint) == ("sd1", True)
    with pytest.raises(ModelError, match="LoRA"):
        detect_family({"lora_unet_down_blocks_0.alpha": ()})


def test_inpaint_kinds(tiny_model_dir):
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    for model in ("tiny", "tiny-inpaint"):
        m = load_pipeline(ModelOptions(model=model, device="cpu"), kind="inpaint")
        assert m.inpaint_unet == (model == "tiny-inpaint")
        out = m.pipe(prompt="x", image=scene(64, 64), mask_image=mask, strength=0.5, num_inference_steps=2,
                     height=64, width=64, generator=torch.Generator().manual_seed(0), output_type="np").images[0]
        assert out.shape == (64, 64, 3)
    with pytest.raises(ModelError, match="inpainting model"):
        load_pipeline(ModelOptions(model="tiny-inpaint", device="cpu"))


def _save_lora(folder, unet_config, seed=3):
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**unet_config)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False))
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=get_peft_model_state_dict(unet), weight_name="lora.safetensors")
    return folder / "lora.safetensors"


def test_lora_changes_output(tiny, tmp_path):
    lora = _save_lora(tmp_path, tiny_unet_config())
    m = load_pipeline(ModelOptions(model="tiny", device="cpu", loras=[(str(lora), 0.5)]))
    assert m.loras == [(str(lora), 0.5)]
    base = run(tiny, steps=4, strength=0.5)
    with_lora = run(m, steps=4, strength=0.5)
    assert np.abs(with_lora - base).mean() > 0.1


def test_lora_of_another_shape(tiny_model_dir, tmp_path):
    cfg = dict(tiny_unet_config(), block_out_channels=(64, 128), cross_attention_dim=48)
    lora = _save_lora(tmp_path, cfg)
    with pytest.raises(ModelError) as info:
        load_pipeline(ModelOptions(model="tiny", device="cpu", loras=[(str(lora), 1.0)]))
    msg = str(info.value)
    assert str(lora) in msg and "tiny" in msg and "does not fit" in msg and "\n" not in msg


def test_textual_inversion(tiny, tmp_path):
    emb = tmp_path / "my-style.safetensors"
    torch.manual_seed(0)
    save_file({"emb_params": torch.randn(2, 32) * 3}, str(emb))  # web-UI layout: the token is the file name
    named = tmp_path / "learned_embeds.safetensors"
    save_file({"<cat-toy>": torch.randn(32)}, str(named))  # diffusers layout: the token is the key
    m = load_pipeline(ModelOptions(model="tiny", device="cpu", embeddings=[str(emb), str(named)]))
    assert m.tokens == ["my-style", "<cat-toy>"]
    ids = m.pipe.tokenizer("a my-style <cat-toy> cup").input_ids
    vocab = m.pipe.tokenizer.get_vocab()
    assert vocab["my-style"] in ids and vocab["<cat-toy>"] in ids
    plain = run(m, steps=4, prompt="a cup")
    styled = run(m, steps=4, prompt="a my-style <cat-toy> cup")
    assert not np.array_equal(plain, styled)
    wide = tmp_path / "wide.safetensors"
    save_file({"<wide>": torch.randn(768)}, str(wide))
    with pytest.raises(ModelError, match="width 768"):
        load_pipeline(ModelOptions(model="tiny", device="cpu", embeddings=[str(wide)]))


def test_vae_override(tiny, tmp_path):
    from diffusers import AutoencoderTiny

    from rotoscope.models.tiny import TINY_VAE_DIR

    kl = load_pipeline(ModelOptions(model="tiny", device="cpu", vae=str(TINY_VAE_DIR)))
    assert type(kl.pipe.vae).__name__ == "AutoencoderKL"
    torch.manual_seed(0)
    taesd = AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8))
    taesd.save_pretrained(tmp_path / "taesd")
    m = load_pipeline(ModelOptions(model="tiny", device="cpu", vae=str(tmp_path / "taesd")))
    assert type(m.pipe.vae).__name__ == "AutoencoderTiny"
    assert run(m, steps=4, strength=0.5).shape == (64, 96, 3)
    with pytest.raises(ModelError, match="VAE path"):
        load_pipeline(ModelOptions(model="tiny", device="cpu", vae=str(tmp_path / "nope")))
