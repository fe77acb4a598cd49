"""The files web-UI users bring, at full size in their real layouts (rotoscope.models.zoo), through the CLI flags
a user would type. Random weights: these test loading paths, not pictures.

The zoo is built once into ``$ROTOSCOPE_ZOO`` (default ~/.cache/rotoscope-zoo, keyed by ZOO_VERSION) and reused
across sessions; ``python scripts/make_zoo.py`` builds it ahead of time (about 8 GB written; under a minute of CPU
on 2 cores, the rest of its time is the disk). Three full-size loads in all: the inpainting .ckpt with
every add-on (CLI), the fp16 file with the LoRAs (fusion checked), the fp16 file under AnimateDiff (CLI).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.jobs.infotext import parse_infotext
from rotoscope.models import ModelOptions, detect_family, load_pipeline
from rotoscope.models import zoo as zoo_module
from rotoscope.models.files import short_hash
from rotoscope.models.loader import lora_family, prediction_type, read_checkpoint_shapes

pytestmark = pytest.mark.fullsize

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "cup.mp4"
ONE_FRAME = ["--max-frames", "1", "--width", "64", "--steps", "2", "--strength", "0.5", "--seed", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def zoo() -> dict[str, Path]:
    files = zoo_module.ensure_all()
    files["config"] = zoo_module.ensure_config_dir()
    files["config-sd21"] = zoo_module.ensure_config_dir("sd21")
    return files


@pytest.fixture(autouse=True)
def hash_cache(monkeypatch):
    """Hashes of zoo files cached beside the zoo (keyed by file identity, size, mtime), so they are hashed once:
    the CLI run's Model hash is the listing's (and a second session reads them all)."""
    monkeypatch.setenv("ROTOSCOPE_CACHE", str(zoo_module.zoo_root() / "cache"))


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"HF_HUB_OFFLINE": "1"})


def error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("error:") and sum(ln.startswith("error:") for ln in lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[-1]


def one_frame(folder: Path) -> np.ndarray:
    frames = sorted(folder.glob("*.png"))
    assert len(frames) == 1, frames
    image = np.asarray(Image.open(frames[0]).convert("RGB"))
    assert image.shape == (48, 64, 3) and image.std() > 0
    return image


# ---------------------------------------------------------------- the real layouts


def test_zoo_files_have_the_real_layouts(zoo):
    sd = read_checkpoint_shapes(zoo["sd15-fp16.safetensors"])
    assert {k.split(".")[0] for k in sd} >= {"model", "first_stage_model", "cond_stage_model"}
    assert sd["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"] == (320, 768)
    assert sd["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"] == (49408, 768)
    assert sd["first_stage_model.decoder.conv_in.weight"] == (512, 4, 3, 3)
    assert sum(np.prod(s) for k, s in sd.items() if k.startswith("model.diffusion_model.")) == 859_520_964
    with safe_open(str(zoo["sd15-fp16.safetensors"]), "pt") as f:
        assert f.get_slice("model.diffusion_model.out.2.weight").get_dtype() == "F16"
    assert not any(k.startswith("model_ema.") for k in sd)
    ema = torch.load(zoo["sd15-inpainting-fp32-ema.ckpt"], map_location="cpu", weights_only=True, mmap=True)
    assert ema["state_dict"]["model.diffusion_model.out.2.weight"].dtype == torch.float32
    assert ema["state_dict"]["model.diffusion_model.input_blocks.0.0.weight"].shape == (320, 9, 3, 3)
    assert "model_ema.diffusion_modelinput_blocks00weight" in ema["state_dict"]
    assert detect_family(sd) == ("sd1", False)
    assert detect_family(read_checkpoint_shapes(zoo["sd15-inpainting-fp32-ema.ckpt"])) == ("sd1", True)
    xl = read_checkpoint_shapes(zoo["sdxl-base-sparse.safetensors"])
    assert detect_family(xl, "sdxl") == ("sdxl", False)
    assert sum(np.prod(s) for k, s in xl.items() if k.startswith("model.diffusion_model.")) == 2_567_463_684
    sd2 = read_checkpoint_shapes(zoo["sd21-v-sparse.safetensors"])
    assert detect_family(sd2) == ("sd2", False) and sd2["cond_stage_model.model.transformer.resblocks.23.attn.in_proj_weight"] == (3072, 1024)
    assert prediction_type(zoo["sd21-v-sparse.safetensors"], sd2, "sd2", False) == "v_prediction"
    assert prediction_type(zoo["sd15-fp16.safetensors"], sd, "sd1", False) == "epsilon"
    lora = read_checkpoint_shapes(zoo["lora-sd15-kohya.safetensors"])
    assert "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight" in lora
    assert "lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha" in lora
    assert any(k.endswith(".hada_w1_a") for k in read_checkpoint_shapes(zoo["loha-sd15.safetensors"]))
    assert any(k.endswith(".lokr_w1") for k in read_checkpoint_shapes(zoo["lokr-sd15.safetensors"]))
    for name in ("lora-sdxl-kohya", "loha-sdxl", "lokr-sdxl"):
        assert lora_family(read_checkpoint_shapes(zoo[name + ".safetensors"])) == "sdxl", name
    cn = read_checkpoint_shapes(zoo["control_v11p_sd15_canny.pth"])
    assert cn["control_model.input_hint_block.0.weight"] == (16, 3, 3, 3) and "control_model.zero_convs.11.0.weight" in cn
    mm = read_checkpoint_shapes(zoo["mm_sd_v15_v2.ckpt"])
    assert mm["down_blocks.0.motion_modules.0.temporal_transformer.transformer_blocks.0.attention_blocks.0.pos_encoder.pe"] == (1, 32, 320)
    assert "mid_block.motion_modules.0.temporal_transformer.norm.bias" in mm
    assert "encoder.conv_in.weight" in read_checkpoint_shapes(zoo["vae-ft-mse-840000-ema-pruned.safetensors"])


# ---------------------------------------------------------------- loading through the CLI, one frame


def test_inpainting_file_with_kohya_lycoris_embeddings_vae_and_controlnet(zoo, tmp_path):
    """One full-size load covers the inpainting checkpoint (9-channel UNet, told from its weights, used with
    --mask) and every add-on flag: --lora (kohya, LoHa, LoKr), --embedding (.pt and .safetensors), --vae FILE,
    --control-model canny=FILE (the original .pth)."""
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (16, 8, 48, 40))
    mask.save(tmp_path / "mask.png")
    model = zoo["sd15-inpainting-fp32-ema.ckpt"]
    result = invoke("run", SAMPLE, "-p", "a cup, emb-pt-sd15, emb-st-sd15", "--model", model, "--mask", tmp_path / "mask.png",
                    "--model-config", zoo["config"], "--lora", f"{zoo['lora-sd15-kohya.safetensors']}:0.8",
                    "--lora", f"{zoo['loha-sd15.safetensors']}:0.5", "--lora", f"{zoo['lokr-sd15.safetensors']}:0.5",
                    "--embedding", zoo["emb-pt-sd15.pt"], "--embedding", zoo["emb-st-sd15.safetensors"],
                    "--vae", zoo["vae-ft-mse-840000-ema-pruned.safetensors"], "--control", "canny",
                    "--control-model", f"canny={zoo['control_v11p_sd15_canny.pth']}", *ONE_FRAME,
                    "--job", tmp_path / "job", "-o", f"{tmp_path / 'out'}/", "--json")
    assert result.exit_code == 0, result.output
    one_frame(tmp_path / "out")
    info = json.loads(result.stdout[result.stdout.index("{"):])["infotext"]
    _, _, params = parse_infotext(info)
    assert params["Model"].endswith("sd15-inpainting-fp32-ema.ckpt") and params["ControlNet 0"].startswith("Module: canny")
    assert params["Mask"].endswith("mask.png")
    # the web UI's hashes: the checkpoint's sha256, first 10 hex (short_hash, checked against hashlib in the listing
    # test: not read again here); each LoRA's sha256 after the safetensors header, 12 hex
    assert params["Model hash"] == short_hash(model)
    expected = []
    for name in ("lora-sd15-kohya", "loha-sd15", "lokr-sd15"):
        data = zoo[name + ".safetensors"].read_bytes()
        expected.append(f"{name}: {hashlib.sha256(data[8 + int.from_bytes(data[:8], 'little'):]).hexdigest()[:12]}")
    assert params["Lora hashes"] == ", ".join(expected)


def test_kohya_lora_and_lycoris_fuse_to_base_plus_delta(zoo):
    """The fp16 .safetensors with kohya, LoHa and LoKr files: the fused weights equal the base plus each file's
    delta computed here, from the files' raw tensors (kohya: up·down·alpha/rank; LoHa: Hadamard of two products;
    LoKr: Kronecker), and a layer a file does not name gets nothing from it."""
    files = [(zoo["lora-sd15-kohya.safetensors"], 0.8), (zoo["loha-sd15.safetensors"], 0.5), (zoo["lokr-sd15.safetensors"], 0.25)]
    loaded = load_pipeline(ModelOptions(model=str(zoo["sd15-fp16.safetensors"]), config=str(zoo["config"]), device="cpu",
                                        loras=[(str(f), w) for f, w in files]))
    assert loaded.family == "sd1" and loaded.dtype == torch.float32
    base = _Keys(zoo["sd15-fp16.safetensors"])
    raw = [{k: f.get_tensor(k).double() for k in f.keys()} for f in (safe_open(str(p), "pt") for p, _ in files)]
    checks = {  # diffusers layer → (original key, kohya name)
        "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v": (
            "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_v.weight",
            "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_v"),
        "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.2": (
            "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.ff.net.2.weight",
            "lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_2"),
    }
    unet = dict(loaded.pipe.unet.named_modules())
    for layer, (ldm_key, name) in checks.items():
        (kohya, w_k), (hada, w_h), (kron, w_x) = zip(raw, [w for _, w in files])
        r = kohya[f"{name}.lora_down.weight"].shape[0]
        expected = base[ldm_key].double() + w_k * kohya[f"{name}.alpha"] / r * (kohya[f"{name}.lora_up.weight"] @ kohya[f"{name}.lora_down.weight"])
        # the LyCORIS files are attention-only (their preset): the feed-forward layer gets the kohya delta alone
        assert (f"{name}.hada_w1_a" in hada) == (f"{name}.lokr_w1" in kron) == ("_attn2_" in name)
        if f"{name}.hada_w1_a" in hada:
            r = hada[f"{name}.hada_w1_b"].shape[0]
            expected += w_h * hada[f"{name}.alpha"] / r * ((hada[f"{name}.hada_w1_a"] @ hada[f"{name}.hada_w1_b"])
                                                             * (hada[f"{name}.hada_w2_a"] @ hada[f"{name}.hada_w2_b"]))
            a, b = kron[f"{name}.lokr_w1"], kron[f"{name}.lokr_w2"]
            expected += w_x * (a[:, None, :, None] * b[None, :, None, :]).reshape(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])
        got = unet[layer].weight.double()
        assert not torch.allclose(got, base[ldm_key].double(), atol=1e-4)
        torch.testing.assert_close(got, expected, rtol=0, atol=2e-5)
    te = dict(loaded.pipe.text_encoder.named_modules())
    q = te.get("text_model.encoder.layers.3.self_attn.q_proj") or te["encoder.layers.3.self_attn.q_proj"]
    name = "lora_te_text_model_encoder_layers_3_self_attn_q_proj"
    kohya = raw[0]
    expected = base["cond_stage_model.transformer.text_model.encoder.layers.3.self_attn.q_proj.weight"].double() + 0.8 * kohya[
        f"{name}.alpha"] / 4 * (kohya[f"{name}.lora_up.weight"] @ kohya[f"{name}.lora_down.weight"])
    hada = raw[1]
    expected += 0.5 * hada[f"{name}.alpha"] / 4 * ((hada[f"{name}.hada_w1_a"] @ hada[f"{name}.hada_w1_b"])
                                                    * (hada[f"{name}.hada_w2_a"] @ hada[f"{name}.hada_w2_b"]))
    expected += 0.25 * torch.kron(raw[2][f"{name}.lokr_w1"], raw[2][f"{name}.lokr_w2"])
    torch.testing.assert_close(q.weight.double(), expected, rtol=0, atol=2e-5)


class _Keys:
    """Tensors of a .safetensors read by key (the few a test compares, not the 2 GB)."""

    def __init__(self, path: Path):
        self.path = path

    def __getitem__(self, key: str) -> torch.Tensor:
        with safe_open(str(self.path), "pt") as f:
            return f.get_tensor(key)


def test_motion_module_ckpt_runs_animatediff(zoo, tmp_path):
    """mm_sd_v15_v2.ckpt through --motion-adapter, on the fp16 SD 1.5 file through --model."""
    result = invoke("run", SAMPLE, "--method", "animatediff", "-p", "ink", "--model", zoo["sd15-fp16.safetensors"],
                    "--model-config", zoo["config"], "--motion-adapter", zoo["mm_sd_v15_v2.ckpt"], "--context-length", 2,
                    "--context-overlap", 0, "--max-frames", 2, "--width", 64, "--steps", 2, "--strength", 0.5,
                    "--seed", 1, "--device", "cpu", "--job", tmp_path / "job", "-o", tmp_path / "ad.gif", "--json")
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "ad.gif") as gif:
        assert (gif.n_frames, gif.size) == (2, (64, 48))


def test_sd21_v_file_runs_a_frame_with_v_prediction(zoo, tmp_path):
    """The SD 2.1-v file through --model, with SD 2.1's configs offline (--model-config): the config folder's
    scheduler says epsilon, the loader reads v-prediction from the weights and sets it, and a frame comes out
    (the UNet's weights are zeros but for one bias, so the frame's look is not the point)."""
    result = invoke("run", SAMPLE, "-p", "ink", "--model", zoo["sd21-v-sparse.safetensors"], "--model-config",
                    zoo["config-sd21"], *ONE_FRAME, "--job", tmp_path / "job", "-o", tmp_path / "v.gif")
    assert result.exit_code == 0, result.output
    assert "sd21-v-sparse.safetensors is an SD 2.x 768-v model: the sampler predicts v_prediction" in result.output
    assert json.loads((zoo["config-sd21"] / "scheduler" / "scheduler_config.json").read_text())["prediction_type"] == "epsilon"
    with Image.open(tmp_path / "v.gif") as gif:
        assert (gif.n_frames, gif.size) == (1, (64, 48))


# ---------------------------------------------------------------- near misses: one line each, before any model loads


def test_inpainting_checkpoint_for_img2img_says_so(zoo, tmp_path):
    line = error_line(invoke("run", SAMPLE, "-p", "x", "--model", zoo["sd15-inpainting-fp32-ema.ckpt"], *ONE_FRAME,
                             "--job", tmp_path / "job", "-o", tmp_path / "o.gif"))
    assert "sd15-inpainting-fp32-ema.ckpt is an inpainting checkpoint (9-channel UNet)" in line and "--mask" in line


@pytest.mark.parametrize("lora", ["lora-sdxl-kohya", "loha-sdxl", "lokr-sdxl"])
def test_sdxl_lora_on_sd15_says_so(zoo, tmp_path, lora):
    line = error_line(invoke("run", SAMPLE, "-p", "x", "--model", zoo["sd15-fp16.safetensors"], "--lora",
                             f"{zoo[lora + '.safetensors']}:0.8", *ONE_FRAME, "--job", tmp_path / "job", "-o", tmp_path / "o.gif"))
    assert f"{lora}.safetensors is an SDXL LoRA but model sd15-fp16 is SD 1.x" in line


def test_sdxl_checkpoint_is_told_from_its_keys_through_the_cli(zoo, tmp_path):
    """--model on the SDXL file: its family is read from the header (the run stops at the LoRA check, before
    6.9 GB of weights would load), so an SD 1.5 LoRA beside it is the near-miss, the other way round."""
    line = error_line(invoke("run", SAMPLE, "-p", "x", "--model", zoo["sdxl-base-sparse.safetensors"], "--lora",
                             f"{zoo['lora-sd15-kohya.safetensors']}:0.8", *ONE_FRAME, "--job", tmp_path / "job", "-o", tmp_path / "o.gif"))
    assert "lora-sd15-kohya.safetensors is an SD 1.x LoRA but model sdxl-base-sparse is SDXL" in line


def test_pickled_ckpt_is_refused_with_the_reason(zoo, tmp_path):
    line = error_line(invoke("run", SAMPLE, "-p", "x", "--model", zoo["sd15-pickled.ckpt"], *ONE_FRAME,
                             "--job", tmp_path / "job", "-o", tmp_path / "o.gif"))
    assert "pickled Python objects" in line and "weights_only" in line and ".safetensors" in line


# ---------------------------------------------------------------- rotoscope models


A1111 = {
    "models/Stable-diffusion": ["sd15-inpainting-fp32-ema.ckpt", "sdxl-base-sparse.safetensors", "sd15-pickled.ckpt",
                                "sd21-v-sparse.safetensors"],
    "models/Lora": ["lora-sd15-kohya.safetensors", "loha-sd15.safetensors", "lokr-sd15.safetensors", "lora-sdxl-kohya.safetensors",
                    "loha-sdxl.safetensors", "lokr-sdxl.safetensors"],
    "models/VAE": ["vae-ft-mse-840000-ema-pruned.safetensors"],
    "embeddings": ["emb-pt-sd15.pt", "emb-st-sd15.safetensors"],
    "models/ControlNet": ["control_v11p_sd15_canny.pth"],
    "models/AnimateDiff": ["mm_sd_v15_v2.ckpt"],
}


def _tree(root: Path, zoo: dict[str, Path], layout: dict[str, list[str]]) -> Path:
    for folder, names in layout.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            os.link(zoo[name], root / folder / name)  # inside the folder, as a server lists it; same file, same hash
    return root


def test_models_lists_an_a1111_folder_with_kinds_families_and_hashes(zoo, tmp_path):
    root = _tree(tmp_path / "webui", zoo, A1111)
    result = invoke("models", "--models-dir", root, "--json")
    assert result.exit_code == 0, result.output
    listed = {(f["kind"], f["name"], f["family"]) for f in json.loads(result.stdout)}
    assert listed == {
        ("checkpoint", "sd15-inpainting-fp32-ema", "sd1-inpaint"), ("checkpoint", "sdxl-base-sparse", "sdxl"),
        ("checkpoint", "sd15-pickled", "?"), ("checkpoint", "sd21-v-sparse", "sd2-v"),
        ("lora", "lora-sd15-kohya", "sd1"), ("lora", "loha-sd15", "sd1"), ("lora", "lokr-sd15", "sd1"),
        ("lora", "lora-sdxl-kohya", "sdxl"), ("lora", "loha-sdxl", "sdxl"), ("lora", "lokr-sdxl", "sdxl"),
        ("vae", "vae-ft-mse-840000-ema-pruned", "sd/sdxl"),
        ("embedding", "emb-pt-sd15", "sd1"), ("embedding", "emb-st-sd15", "sd1"),
        ("controlnet", "control_v11p_sd15_canny", "sd1"), ("motion", "mm_sd_v15_v2", "sd1"),
    }
    by_name = {f["name"]: f for f in json.loads(result.stdout)}
    for name in ("lora-sd15-kohya", "emb-pt-sd15", "sd15-pickled"):  # A1111's short hash: sha256, first 10 hex
        assert by_name[name]["hash"] == hashlib.sha256(Path(by_name[name]["path"]).read_bytes()).hexdigest()[:10]
    # the page's model picker and the HTTP API's sd-models read the same scanner (hashes once computed, as here)
    from rotoscope.http.checkpoints import scan as sd_models
    from rotoscope.ui.workspace import Workspace

    picker = Workspace(tmp_path / "jobs", root).models()
    stable = root.resolve() / "models" / "Stable-diffusion"
    assert {str(stable / n) for n in A1111["models/Stable-diffusion"]} <= set(picker)
    assert not any("Lora" in choice for choice in picker)
    listed = {c.title: c.as_json()["hash"] for c in sd_models(root)}
    assert listed["sd21-v-sparse.safetensors"] == by_name["sd21-v-sparse"]["hash"] and "lora-sd15-kohya.safetensors" not in listed
    table = invoke("models", "--models-dir", root)
    assert table.exit_code == 0 and "15 files" in table.stdout
    row = next(line for line in table.stdout.splitlines() if "lora-sdxl-kohya" in line)
    assert row.split()[:3] == ["lora", "sdxl", by_name["lora-sdxl-kohya"]["hash"]]


def test_models_reads_a_comfyui_folder(zoo, tmp_path):
    root = _tree(tmp_path / "comfy", zoo, {"checkpoints": ["sd15-pickled.ckpt"], "loras": ["lora-sdxl-kohya.safetensors"],
                                           "vae": ["vae-ft-mse-840000-ema-pruned.safetensors"], "embeddings": ["emb-st-sd15.safetensors"]})
    result = invoke("models", "--models-dir", root, "--json")
    assert result.exit_code == 0, result.output
    assert [(f["kind"], f["name"]) for f in json.loads(result.stdout)] == [
        ("checkpoint", "sd15-pickled"), ("lora", "lora-sdxl-kohya"), ("embedding", "emb-st-sd15"),
        ("vae", "vae-ft-mse-840000-ema-pruned")]
    assert error_line(invoke("models", "--models-dir", tmp_path / "nope")).startswith("error: --models-dir")
