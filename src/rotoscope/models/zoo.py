"""The model-file zoo: the files web-UI users bring, built offline at full size with random weights.

Each file is in the layout its community ships it in — SD 1.5 checkpoints in
the original LDM layout (``model.diffusion_model.`` / ``first_stage_model.`` /
``cond_stage_model.``): an fp16 ``.safetensors`` without EMA keys and an fp32
``.ckpt`` with them, the latter an inpainting one (9-channel UNet), kohya LoRA /
LyCORIS LoHa / LoKr files for SD 1.5 and SDXL, A1111 embeddings, a ControlNet
``.pth`` (``control_model.``), an AnimateDiff motion module ``.ckpt``, a
standalone VAE, SDXL and SD 2.1-v checkpoints (real keys and shapes; zero
weights in a sparse file, for family detection).
Tests and benches load them through the normal loader; the values are random,
so they test loading paths, not pictures.

Built once into ``$ROTOSCOPE_ZOO`` (default ``~/.cache/rotoscope-zoo``) under
:data:`ZOO_VERSION`; ``python scripts/make_zoo.py`` builds it ahead of time.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from pathlib import Path

import torch

#: Bump when any file's construction changes: it keys the cache folder.
ZOO_VERSION = "zoo-v3"
SEED = 20
LORA_RANK, LORA_ALPHA = 4, 2.0  # kohya's scale is alpha / rank


def zoo_root() -> Path:
    root = os.environ.get("ROTOSCOPE_ZOO") or Path.home() / ".cache" / "rotoscope-zoo"
    return Path(root) / ZOO_VERSION


# ---------------------------------------------------------------- random weights in diffusers layout


def _meta(cls, **config):
    with torch.device("meta"):
        return cls(**config)


class RandomPool:
    """Random-looking tensors at memory speed: slices of one block of N(0, 1) draws at seeded offsets.

    Drawing ~2 B normals for the zoo costs about a minute on 2 cores; a slice of a 16 M block costs a copy. Every
    tensor still gets its own values (a different offset), so a key mapped to the wrong place changes the
    weights a test compares; the values only need to be non-degenerate, not independent."""

    SIZE = 1 << 24

    def __init__(self, gen: torch.Generator):
        self.gen = gen
        block = torch.randn(self.SIZE, generator=gen)
        self.block = torch.cat([block, block])  # any offset has SIZE values after it

    def normal(self, shape: tuple[int, ...], std: float, dtype: torch.dtype) -> torch.Tensor:
        n = math.prod(shape)
        start = int(torch.randint(self.SIZE, (1,), generator=self.gen))
        flat = self.block[start:start + n] if n <= self.SIZE else self.block[:self.SIZE].repeat(n // self.SIZE + 2)[start:start + n]
        return (flat * std).to(dtype).reshape(shape)


def random_state(model: torch.nn.Module, dtype: torch.dtype, rand: torch.Generator | RandomPool) -> dict[str, torch.Tensor]:
    """Random tensors for every entry of ``model.state_dict()`` (built on the meta device): ~N(0, 1/fan_in)
    for matrices (from a :class:`RandomPool`), 1 for norm scales, 0 for biases."""
    pool = rand if isinstance(rand, RandomPool) else RandomPool(rand)
    out = {}
    for name, t in model.state_dict().items():
        if t.dim() <= 1:
            out[name] = torch.full(t.shape, 1.0 if name.endswith("weight") else 0.0, dtype=dtype)
        else:
            out[name] = pool.normal(tuple(t.shape), 1.0 / math.sqrt(math.prod(t.shape[1:])), dtype)
    return out


def _text_encoder_ldm(state: dict, prefix: str) -> dict:
    # original checkpoints keep transformers' "text_model." level, which transformers 5 drops
    return {prefix + (k if k.startswith("text_model.") else "text_model." + k): v
            for k, v in state.items() if not k.endswith("position_ids")}


def _schedule_buffers() -> dict[str, torch.Tensor]:
    """The DDPM schedule an LDM checkpoint carries beside the weights (``betas``, ``alphas_cumprod``, …)."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas = torch.cumprod(1 - betas, 0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), alphas[:-1]])
    return {k: v.float() for k, v in dict(
        betas=betas, alphas_cumprod=alphas, alphas_cumprod_prev=prev, sqrt_alphas_cumprod=alphas.sqrt(),
        sqrt_one_minus_alphas_cumprod=(1 - alphas).sqrt(), log_one_minus_alphas_cumprod=(1 - alphas).log(),
        sqrt_recip_alphas_cumprod=alphas.rsqrt(), sqrt_recipm1_alphas_cumprod=(1 / alphas - 1).sqrt(),
    ).items()}


def sd15_parts(dtype: torch.dtype, seed: int = SEED) -> tuple[dict, dict, dict]:
    """(unet, vae, text encoder) state dicts in diffusers layout, SD 1.5's shapes."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel

    from .fullsize import clip_l_config, sd15_unet_config, sd15_vae_config

    pool = RandomPool(torch.Generator().manual_seed(seed))
    unet = random_state(_meta(UNet2DConditionModel, **sd15_unet_config()), dtype, pool)
    vae = random_state(_meta(AutoencoderKL, **sd15_vae_config()), dtype, pool)
    with torch.device("meta"):
        te_model = CLIPTextModel(clip_l_config())
    te = random_state(te_model, dtype, pool)
    return unet, vae, te


def sd15_checkpoint(dtype: torch.dtype, *, ema: bool = False, inpaint: bool = False) -> dict[str, torch.Tensor]:
    """An SD 1.5 single-file state dict in the original LDM layout."""
    from .fullsize import sd15_unet_config, sd15_vae_config
    from .ldm import unet_to_ldm, vae_to_ldm

    unet, vae, te = sd15_parts(dtype)
    if inpaint:  # latent 4 + mask 1 + masked-image latent 4
        w = unet["conv_in.weight"]
        unet["conv_in.weight"] = torch.cat([w, w[:, :1], w], 1).contiguous()
    sd = unet_to_ldm(unet, sd15_unet_config())
    sd.update(vae_to_ldm(vae, sd15_vae_config()))
    sd.update(_text_encoder_ldm(te, "cond_stage_model.transformer."))
    sd.update(_schedule_buffers())
    if ema:  # LDM's EMA copy: "model_ema." + the UNet key after "model.", dots dropped (shares storage: a .ckpt stores it once)
        for k in [k for k in sd if k.startswith("model.diffusion_model.")]:
            sd["model_ema." + k[len("model."):].replace(".", "")] = sd[k]
        sd["model_ema.decay"] = torch.tensor(0.9999)
        sd["model_ema.num_updates"] = torch.tensor(840000, dtype=torch.int32)
    return sd


# ---------------------------------------------------------------- kohya LoRA and LyCORIS


def sd15_lora_targets() -> dict[str, tuple[int, ...]]:
    """kohya module name → weight shape of every layer an SD 1.5 LoRA trains (UNet attention + text encoder)."""
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel

    from .fullsize import clip_l_config, sd15_unet_config

    with torch.device("meta"):
        te = CLIPTextModel(clip_l_config())
    return lora_targets(_meta(UNet2DConditionModel, **sd15_unet_config()), te)


def lora_targets(unet: torch.nn.Module, text_encoder: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """kohya module name → weight shape of the layers kohya's sd-scripts train: the UNet's transformer blocks
    (proj_in / proj_out, attention, feed-forward) and the text encoder's linear layers."""
    out = {}
    for name, mod in unet.named_modules():
        if ".attentions." in name and isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)) and (
                name.endswith(("proj_in", "proj_out", "to_q", "to_k", "to_v", "to_out.0", "ff.net.2", "ff.net.0.proj"))):
            out["lora_unet_" + name.replace(".", "_")] = tuple(mod.weight.shape)
    for name, mod in text_encoder.named_modules():
        if isinstance(mod, torch.nn.Linear) and ".layers." in name:
            name = name if name.startswith("text_model.") else "text_model." + name
            out["lora_te_" + name.replace(".", "_")] = tuple(mod.weight.shape)
    return out


def _down_up(shape: tuple[int, ...], gen: torch.Generator, rank: int = LORA_RANK):
    out_f, in_f = shape[0], shape[1]
    tail = (1, 1) if len(shape) == 4 else ()
    down = torch.randn((rank, in_f, *tail), generator=gen) / math.sqrt(in_f)
    up = torch.randn((out_f, rank, *tail), generator=gen) * 0.1
    return down, up


def kohya_lora(targets: dict[str, tuple[int, ...]], seed: int = SEED + 1) -> dict[str, torch.Tensor]:
    """A kohya sd-scripts LoRA: ``NAME.lora_down.weight``, ``NAME.lora_up.weight``, ``NAME.alpha`` (fp16, as saved)."""
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shape in targets.items():
        down, up = _down_up(shape, gen)
        sd[f"{name}.lora_down.weight"] = down.half()
        sd[f"{name}.lora_up.weight"] = up.half()
        sd[f"{name}.alpha"] = torch.tensor(LORA_ALPHA).half()
    return sd


def attention_only(targets: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """LyCORIS's "attn-only" preset: the attention projections alone (a third of the weights of every linear
    layer, so a third of the fusing; the names and shapes are the full preset's)."""
    return {k: v for k, v in targets.items() if "_attn1_" in k or "_attn2_" in k or "_self_attn_" in k}


def loha(targets: dict[str, tuple[int, ...]], seed: int = SEED + 2) -> dict[str, torch.Tensor]:
    """A LyCORIS LoHa: ΔW = (w1_a @ w1_b) ⊙ (w2_a @ w2_b) · alpha / rank (linear layers only here)."""
    def factors(out_f: int, in_f: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        tensors = {}
        for w in ("w1", "w2"):
            tensors[f"hada_{w}_a"] = torch.randn(out_f, LORA_RANK, generator=gen) * 0.1
            tensors[f"hada_{w}_b"] = torch.randn(LORA_RANK, in_f, generator=gen) / math.sqrt(in_f)
        return tensors

    return _lycoris(targets, seed, factors, LORA_ALPHA)


def _lycoris(targets: dict[str, tuple[int, ...]], seed: int, factors, alpha: float) -> dict[str, torch.Tensor]:
    """A LyCORIS file over the linear layers of ``targets``: ``factors(out, in, gen)`` names each layer's tensors,
    saved fp16 with ``NAME.alpha`` (as LyCORIS saves them)."""
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shape in targets.items():
        if len(shape) != 2:
            continue
        for key, tensor in factors(*shape, gen).items():
            sd[f"{name}.{key}"] = tensor.half()
        sd[f"{name}.alpha"] = torch.tensor(alpha).half()
    return sd


def _factor(n: int, factor: int = 8) -> tuple[int, int]:
    """LyCORIS's ``factorization(n, 8)``-like split: (m, n / m) with m ≤ factor dividing n."""
    m = max(d for d in range(1, factor + 1) if n % d == 0)
    return m, n // m


def lokr(targets: dict[str, tuple[int, ...]], seed: int = SEED + 3) -> dict[str, torch.Tensor]:
    """A LyCORIS LoKr with full factors: ΔW = kron(lokr_w1, lokr_w2) (no alpha scaling when neither is decomposed)."""
    def factors(out_f: int, in_f: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        (o1, o2), (i1, i2) = _factor(out_f), _factor(in_f)
        return {"lokr_w1": torch.randn(o1, i1, generator=gen) * 0.1,
                "lokr_w2": torch.randn(o2, i2, generator=gen) / math.sqrt(i2 * i1)}

    return _lycoris(targets, seed, factors, float(LORA_RANK))


def sdxl_lora_targets() -> dict[str, tuple[int, ...]]:
    """A few layers an SDXL LoRA trains, in their real shapes: UNet cross-attention reads 2048-wide text, two
    text encoders ``lora_te1_`` / ``lora_te2_`` (the family is told from these; the whole set adds nothing)."""
    return {
        "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k": (640, 2048),
        "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_v": (640, 2048),
        "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q": (640, 640),
        "lora_unet_middle_block_1_transformer_blocks_0_attn2_to_k": (1280, 2048),
        "lora_te1_text_model_encoder_layers_0_self_attn_q_proj": (768, 768),
        "lora_te2_text_model_encoder_layers_0_self_attn_q_proj": (1280, 1280),
    }


# ---------------------------------------------------------------- ControlNet, motion module, SDXL


def controlnet_config() -> dict:
    from .fullsize import sd15_unet_config

    unet = sd15_unet_config()
    keep = ("in_channels", "down_block_types", "block_out_channels", "layers_per_block", "cross_attention_dim",
            "attention_head_dim", "norm_num_groups")
    return {k: unet[k] for k in keep} | {"conditioning_embedding_out_channels": (16, 32, 96, 256)}


def controlnet_checkpoint(dtype: torch.dtype) -> dict[str, torch.Tensor]:
    from diffusers import ControlNetModel

    from .ldm import controlnet_to_ldm

    state = random_state(_meta(ControlNetModel, **controlnet_config()), dtype, torch.Generator().manual_seed(SEED + 5))
    return controlnet_to_ldm(state, controlnet_config())


def motion_checkpoint(dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """``mm_sd_v15_v2.ckpt``'s layout: MotionAdapter's defaults are that module's shape (mid block, 32 frames)."""
    from diffusers import MotionAdapter

    from .ldm import motion_to_ldm

    state = random_state(_meta(MotionAdapter), dtype, torch.Generator().manual_seed(SEED + 6))
    return motion_to_ldm({k: v for k, v in state.items() if not k.endswith("pos_embed.pe")})


def sdxl_unet_config() -> dict:
    return dict(
        sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(320, 640, 1280), transformer_layers_per_block=(1, 2, 10), cross_attention_dim=2048,
        attention_head_dim=(5, 10, 20), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816, norm_num_groups=32,
    )


def sdxl_shapes() -> dict[str, tuple[int, ...]]:
    """Key → shape of an SDXL base single file (``model.diffusion_model.``, ``first_stage_model.``,
    ``conditioner.embedders.0.transformer.`` CLIP-L, ``conditioner.embedders.1.model.`` OpenCLIP bigG)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel

    from .fullsize import clip_l_config, sd15_vae_config
    from .ldm import unet_to_ldm, vae_to_ldm

    unet = _meta(UNet2DConditionModel, **sdxl_unet_config()).state_dict()
    vae = _meta(AutoencoderKL, **sd15_vae_config()).state_dict()
    with torch.device("meta"):
        te = CLIPTextModel(clip_l_config()).state_dict()
    shapes = {k: tuple(v.shape) for k, v in unet_to_ldm(unet, sdxl_unet_config()).items()}
    shapes.update({k: tuple(v.shape) for k, v in vae_to_ldm(vae, sd15_vae_config()).items()})
    shapes.update({k: tuple(v.shape) for k, v in _text_encoder_ldm(te, "conditioner.embedders.0.transformer.").items()})
    shapes.update(_open_clip_shapes("conditioner.embedders.1.model.", width=1280, layers=32))  # OpenCLIP bigG
    return shapes


def sd21_unet_config() -> dict:
    """SD 2.1-v's UNet: SD 1.5's blocks reading 1024-wide text through linear projections, 768 px (96 latent)."""
    from .fullsize import sd15_unet_config

    return sd15_unet_config() | dict(cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20),
                                     use_linear_projection=True, sample_size=96)


def open_clip_h_config():
    """OpenCLIP ViT-H's text tower as transformers' CLIPTextModel holds it for SD 2.x: 23 of its 24 blocks (SD 2
    reads the penultimate layer, so diffusers' converter drops the last), GELU, 1024 wide."""
    from transformers import CLIPTextConfig

    from .fullsize import clip_l_config

    return CLIPTextConfig(**(clip_l_config().to_dict() | dict(
        hidden_size=1024, intermediate_size=4096, num_hidden_layers=23, num_attention_heads=16, hidden_act="gelu",
        projection_dim=512)))


def sd21_shapes() -> dict[str, tuple[int, ...]]:
    """Key → shape of an SD 2.1 (768-v) single file: a UNet reading 1024-wide text with linear projections, and
    OpenCLIP ViT-H's text tower under ``cond_stage_model.model.`` (24 blocks, as the original files keep them)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from .fullsize import sd15_vae_config
    from .ldm import unet_to_ldm, vae_to_ldm

    config = sd21_unet_config()
    shapes = {k: tuple(v.shape) for k, v in unet_to_ldm(_meta(UNet2DConditionModel, **config).state_dict(), config).items()}
    vae = _meta(AutoencoderKL, **sd15_vae_config()).state_dict()
    shapes.update({k: tuple(v.shape) for k, v in vae_to_ldm(vae, sd15_vae_config()).items()})
    shapes.update(_open_clip_shapes("cond_stage_model.model.", width=1024, layers=24))
    return shapes


def _open_clip_shapes(p: str, width: int, layers: int) -> dict[str, tuple[int, ...]]:
    g = width
    shapes = {p + "token_embedding.weight": (49408, g), p + "positional_embedding": (77, g), p + "ln_final.weight": (g,),
              p + "ln_final.bias": (g,), p + "text_projection": (g, g), p + "logit_scale": ()}
    for i in range(layers):
        b = f"{p}transformer.resblocks.{i}."
        shapes.update({b + "ln_1.weight": (g,), b + "ln_1.bias": (g,), b + "ln_2.weight": (g,), b + "ln_2.bias": (g,),
                       b + "attn.in_proj_weight": (3 * g, g), b + "attn.in_proj_bias": (3 * g,),
                       b + "attn.out_proj.weight": (g, g), b + "attn.out_proj.bias": (g,),
                       b + "mlp.c_fc.weight": (4 * g, g), b + "mlp.c_fc.bias": (4 * g,),
                       b + "mlp.c_proj.weight": (g, 4 * g), b + "mlp.c_proj.bias": (g,)})
    return shapes


def _sd21_v(path: Path) -> None:
    """SD 2.1-v: zero weights except the last output block's first norm bias, whose spread (std 0.2) is what
    marks a v-prediction SD 2.x model (ComfyUI's test: std > 0.09)."""
    key = "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.norm1.bias"
    bias = torch.randn(320, generator=torch.Generator().manual_seed(SEED + 10)) * 0.2
    write_sparse_safetensors(path, sd21_shapes(), data={key: bias.half()})


def write_sparse_safetensors(path: Path, shapes: dict[str, tuple[int, ...]], dtype: str = "F16",
                             data: dict[str, torch.Tensor] | None = None) -> None:
    """A valid ``.safetensors`` with these keys and shapes whose data are zeros in a sparse file: the real header
    (what family detection, hashing and listing read) at no memory and little disk; ``data``: tensors written
    for real (in ``dtype``)."""
    size = {"F16": 2, "F32": 4}[dtype]
    header, offset = {}, 0
    for key, shape in shapes.items():
        n = math.prod(shape) * size
        header[key] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        f.truncate(8 + len(raw) + offset)
        for key, tensor in (data or {}).items():
            f.seek(8 + len(raw) + header[key]["data_offsets"][0])
            f.write(tensor.contiguous().numpy().tobytes())


# ---------------------------------------------------------------- the files


def _save_st(sd: dict, path: Path, metadata: dict | None = None) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata=metadata or {"format": "pt"})


def _embedding_pt(path: Path) -> None:
    vectors = torch.randn(2, 768, generator=torch.Generator().manual_seed(SEED + 7)) * 0.02
    torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": vectors}, "name": path.stem, "step": 3000,
                "sd_checkpoint": "e1441589a6", "sd_checkpoint_name": "v1-5-pruned-emaonly"}, str(path))


def _embedding_st(path: Path) -> None:
    _save_st({"emb_params": torch.randn(3, 768, generator=torch.Generator().manual_seed(SEED + 8)) * 0.02}, path)


def _pickled_ckpt(path: Path) -> None:
    """An old-style training checkpoint: tensors plus a pickled Python object, which ``weights_only`` refuses."""
    import argparse

    torch.save({"state_dict": {"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(320, 4, 3, 3)},
                "hyper_parameters": argparse.Namespace(learning_rate=1e-4)}, str(path))


def _sd15_inpainting_ckpt(path: Path) -> None:
    """``sd-v1-5-inpainting.ckpt``'s form: fp32, pickled zip, EMA keys beside the weights, 9-channel UNet (one
    file for the fp32 / .ckpt / EMA / inpainting variants: each costs gigabytes of disk, the layouts combine)."""
    torch.save({"state_dict": sd15_checkpoint(torch.float32, ema=True, inpaint=True), "global_step": 440000, "epoch": 5}, str(path))


#: file name → (kind, builder). Names are the ones users know where there is one.
FILES: dict[str, Callable[[Path], None]] = {
    "sd15-fp16.safetensors": lambda p: _save_st(sd15_checkpoint(torch.float16), p),
    "sd15-inpainting-fp32-ema.ckpt": _sd15_inpainting_ckpt,
    "sd15-pickled.ckpt": _pickled_ckpt,
    "sdxl-base-sparse.safetensors": lambda p: write_sparse_safetensors(p, sdxl_shapes()),
    "sd21-v-sparse.safetensors": _sd21_v,
    "lora-sd15-kohya.safetensors": lambda p: _save_st(kohya_lora(sd15_lora_targets()), p, {"ss_network_module": "networks.lora"}),
    "loha-sd15.safetensors": lambda p: _save_st(loha(attention_only(sd15_lora_targets())), p, {"ss_network_module": "lycoris.kohya"}),
    "lokr-sd15.safetensors": lambda p: _save_st(lokr(attention_only(sd15_lora_targets())), p, {"ss_network_module": "lycoris.kohya"}),
    "lora-sdxl-kohya.safetensors": lambda p: _save_st(kohya_lora(sdxl_lora_targets(), SEED + 4), p, {"ss_network_module": "networks.lora"}),
    "loha-sdxl.safetensors": lambda p: _save_st(loha(sdxl_lora_targets(), SEED + 11), p, {"ss_network_module": "lycoris.kohya"}),
    "lokr-sdxl.safetensors": lambda p: _save_st(lokr(sdxl_lora_targets(), SEED + 12), p, {"ss_network_module": "lycoris.kohya"}),
    "emb-pt-sd15.pt": _embedding_pt,
    "emb-st-sd15.safetensors": _embedding_st,
    "control_v11p_sd15_canny.pth": lambda p: torch.save(controlnet_checkpoint(torch.float16), str(p)),
    "mm_sd_v15_v2.ckpt": lambda p: torch.save(motion_checkpoint(torch.float16), str(p)),
    "vae-ft-mse-840000-ema-pruned.safetensors": lambda p: _save_st(_vae_file(), p),
}


def _vae_file() -> dict:
    from .fullsize import sd15_vae_config
    from .ldm import vae_to_ldm

    from diffusers import AutoencoderKL

    vae = random_state(_meta(AutoencoderKL, **sd15_vae_config()), torch.float32, torch.Generator().manual_seed(SEED + 9))
    return vae_to_ldm(vae, sd15_vae_config(), prefix="")


def ensure_config_dir(family: str = "sd15") -> Path:
    """A diffusers folder of SD 1.5's (``sd15``) or SD 2.1-v's (``sd21``) configs, no weights, with the project's
    byte tokenizer: what ``--model-config`` takes for the zoo's checkpoints offline."""
    folder = zoo_root() / f"config-{family}"
    if (folder / "model_index.json").exists():
        return folder
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    from .fullsize import clip_l_config, sd15_unet_config, sd15_vae_config
    from .tiny import tiny_scheduler_config
    from .tokenizer import build_byte_tokenizer

    unet, text = {"sd15": (sd15_unet_config, clip_l_config), "sd21": (sd21_unet_config, open_clip_h_config)}[family]
    tmp = folder.with_name(f".config-{family}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    _meta(UNet2DConditionModel, **unet()).save_config(tmp / "unet")
    _meta(AutoencoderKL, **sd15_vae_config()).save_config(tmp / "vae")
    text().save_pretrained(tmp / "text_encoder")
    # epsilon, as a folder of the wrong prediction type would be: the loader sets v from the weights
    DDIMScheduler(**tiny_scheduler_config()).save_config(tmp / "scheduler")
    build_byte_tokenizer().save_pretrained(tmp / "tokenizer")
    (tmp / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "DDIMScheduler"], "safety_checker": [None, None], "feature_extractor": [None, None],
        "requires_safety_checker": False}))
    os.replace(tmp, folder)
    return folder


def ensure(name: str) -> Path:
    """The zoo file ``name``, built on first use (written to a temp name, then renamed)."""
    path = zoo_root() / name
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    try:
        FILES[name](tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def ensure_all(names=None) -> dict[str, Path]:
    return {name: ensure(name) for name in (names or FILES)}
