"""ControlNet models, one per control type: hub id, local diffusers folder or single file, or tiny.

``load_controlnet(name, type, ...)`` mirrors the base-model loader: a hub id (cached copy first,
then the hub when it answers), a local folder with ``config.json`` (or its ``controlnet/``
subfolder), a single ``.safetensors``/``.pth`` file (configs from the type's default hub id, or
the tiny one for tiny-shaped files), or ``"tiny"``. Without a name, the type's ControlNet 1.1
SD 1.5 model is used (``lllyasviel/control_v11p_sd15_canny``, …), or the tiny ControlNet when the
base model is the tiny one. The tiny ControlNet is built from the tiny UNet's config under a
fixed seed (its zero convolutions given small random weights, so it visibly steers the output),
saved once and loaded back through ``from_pretrained`` like any folder.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ModelError
from .loader import SINGLE_FILE_SUFFIXES, _first_line, _hub_error, _hub_unreachable_message, _looks_like_network_error, hub_reachable, is_hub_id

#: ControlNet 1.1 for SD 1.5, per type
DEFAULT_CONTROLNETS = {
    "canny": "lllyasviel/control_v11p_sd15_canny",
    "tile": "lllyasviel/control_v11f1e_sd15_tile",
    "depth": "lllyasviel/control_v11f1p_sd15_depth",
    "openpose": "lllyasviel/control_v11p_sd15_openpose",
    "lineart": "lllyasviel/control_v11p_sd15_lineart",
    "softedge": "lllyasviel/control_v11p_sd15_softedge",
}
TINY_CONTROLNET_VERSION = "tiny-controlnet-v1"
#: conditioning embedding: three stride-2 convolutions, so the control image meets ÷8 latents
TINY_CONDITIONING_CHANNELS = (8, 16, 16, 32)


def build_tiny_controlnet(kind: str):
    """A ControlNet fitted to the tiny UNet (same blocks, weights copied), seeded per control type."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    from .tiny import TINY_SEED, tiny_unet_config

    torch.manual_seed(TINY_SEED)
    unet = UNet2DConditionModel(**tiny_unet_config(4))
    torch.manual_seed(TINY_SEED + 100 + sorted(DEFAULT_CONTROLNETS).index(kind))
    net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=TINY_CONDITIONING_CHANNELS)
    with torch.no_grad():  # trained ControlNets have non-zero "zero" convolutions; random small ones stand in
        for module in [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]:
            module.weight.normal_(0, 0.05)
            module.bias.zero_()
    return net.eval()


def ensure_tiny_controlnet(kind: str) -> Path:
    """Build the tiny ControlNet for ``kind`` once and ``save_pretrained`` it into the cache."""
    from .tiny import cached_build

    return cached_build(f"{TINY_CONTROLNET_VERSION}-{kind}", "config.json",
                        lambda tmp: build_tiny_controlnet(kind).save_pretrained(tmp, safe_serialization=True))


def load_controlnet(name: str | None, kind: str, *, base: str, dtype: torch.dtype):
    """The ControlNetModel for control type ``kind``; ``base`` is the base model's name (tiny → tiny ControlNet)."""
    from diffusers import ControlNetModel

    if name is None:
        name = "tiny" if base.lower().startswith("tiny") else DEFAULT_CONTROLNETS[kind]
    text = name.strip()
    path = Path(text).expanduser()
    try:
        if text.lower() == "tiny":
            return ControlNetModel.from_pretrained(str(ensure_tiny_controlnet(kind)), dtype=dtype, local_files_only=True)
        if path.is_dir():
            folder = path if (path / "config.json").exists() else path / "controlnet"
            if not (folder / "config.json").exists():
                raise ModelError(f"ControlNet folder {path} has no config.json; pass a diffusers ControlNet folder or a .safetensors file")
            return ControlNetModel.from_pretrained(str(folder), dtype=dtype, local_files_only=True)
        if path.is_file():
            return _load_single_file(path, kind, dtype)
        if is_hub_id(text):
            return _load_hub(text, kind, dtype)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"ControlNet {text} ({kind}) could not be loaded ({type(exc).__name__}: {_first_line(exc)}); "
                         "it may be incomplete: download it again") from None
    raise ModelError(f"ControlNet {text} ({kind}) does not exist: there is no such file or folder here; check the path given to "
                     f"--control-model {kind}=PATH, or pass a hub id (default for {kind}: {DEFAULT_CONTROLNETS[kind]}) or 'tiny'")


def _load_hub(repo: str, kind: str, dtype: torch.dtype):
    from diffusers import ControlNetModel
    from huggingface_hub import hf_hub_download

    try:
        hf_hub_download(repo, "config.json", local_files_only=True)
        return ControlNetModel.from_pretrained(repo, dtype=dtype, local_files_only=True)
    except Exception:
        pass
    if not hub_reachable():
        raise ModelError(_hub_unreachable_message("ControlNet", repo, f"--control-model {kind}=DIR", ""))
    try:
        return ControlNetModel.from_pretrained(repo, dtype=dtype)
    except Exception as exc:
        raise _hub_error("ControlNet", repo, exc, f"--control-model {kind}=DIR", "") from None


def _load_single_file(path: Path, kind: str, dtype: torch.dtype):
    from diffusers import ControlNetModel

    from .loader import read_checkpoint_shapes

    if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
        raise ModelError(f"ControlNet file {path} is not a .safetensors/.pth checkpoint; pass one of those or a diffusers folder")
    shapes = read_checkpoint_shapes(path)
    if any(k.startswith(("controlnet_down_blocks.", "controlnet_cond_embedding.")) for k in shapes):
        # diffusers-layout weights in one file: the config comes from the tiny folder or the type's default
        width = next((s[-1] for k, s in shapes.items() if k.endswith("attn2.to_k.weight")), None)
        config = ensure_tiny_controlnet(kind) if width is not None and width < 256 else None
        if config is None:
            raise ModelError(f"ControlNet file {path} is in diffusers layout; put it in a folder with its config.json")
        net = ControlNetModel.from_config(ControlNetModel.load_config(str(config)))
        from safetensors.torch import load_file

        missing, unexpected = net.load_state_dict(load_file(str(path)), strict=False)
        if missing or unexpected:
            raise ModelError(f"ControlNet file {path} does not fit the {kind} ControlNet layout ({len(missing)} weights missing)")
        return net.to(dtype).eval()
    if not any(k.startswith("control_model.") for k in shapes):
        raise ModelError(f"{path} is not a ControlNet checkpoint (no control_model.* weights); pass a ControlNet file")
    repo = DEFAULT_CONTROLNETS[kind]
    try:
        width = shapes.get("control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight")
        if width and width[-1] == 768:  # SD 1.5's ControlNets share one config: it ships with the project
            from .loader import shipped_config

            return ControlNetModel.from_single_file(str(path), config=str(shipped_config("controlnet-sd15")), dtype=dtype,
                                                    local_files_only=True)
        return ControlNetModel.from_single_file(str(path), dtype=dtype, local_files_only=not hub_reachable())
    except Exception as exc:
        if _looks_like_network_error(exc):
            raise ModelError(f"ControlNet file {path} needs the config of {repo!r}, but the Hugging Face hub cannot be reached "
                             f"and it is not cached; pass a diffusers ControlNet folder as --control-model {kind}=DIR, e.g. from "
                             f"`hf download {repo} --local-dir DIR` on a machine with internet") from None
        raise ModelError(f"ControlNet file {path} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); download it again") from None


def controlnet_pipeline(loaded, units, model_options):
    """The ControlNet variant of ``loaded``'s pipeline, built from the same components (nothing reloaded);
    ``loaded.pipe`` itself is left as it was. The factory calls it before building the stylizer."""
    import diffusers
    from diffusers import MultiControlNetModel

    from .speed import pipeline_with

    pipe = loaded.pipe
    if loaded.family == "sdxl":
        raise ModelError("ControlNet guidance is supported for SD 1.x/2.x models here; SDXL ControlNets are not wired yet")
    nets = []
    for unit in units:
        net = load_controlnet(unit.model, unit.type, base=model_options.model, dtype=loaded.dtype)
        want, have = int(pipe.unet.config.cross_attention_dim), int(net.config.cross_attention_dim)
        if want != have:
            raise ModelError(f"ControlNet {unit.model or DEFAULT_CONTROLNETS[unit.type]} ({unit.type}) was made for another model family "
                             f"(cross-attention width {have}, the model's {want}); use a ControlNet for {loaded.name}")
        nets.append(net.to(loaded.device))
    controlnet = nets[0] if len(nets) == 1 else MultiControlNetModel(nets)
    inpaint = isinstance(pipe, diffusers.StableDiffusionInpaintPipeline)
    cls = diffusers.StableDiffusionControlNetInpaintPipeline if inpaint else diffusers.StableDiffusionControlNetImg2ImgPipeline
    new = pipeline_with(pipe, cls, controlnet=controlnet, requires_safety_checker=False)
    new.set_progress_bar_config(disable=True)
    return new
