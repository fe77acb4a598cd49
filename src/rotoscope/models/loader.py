"""One loader around diffusers' ``from_pretrained`` / ``from_single_file``.

``load_pipeline(ModelOptions(...), kind="img2img" | "inpaint")`` accepts a hub
id, a local diffusers folder, a single ``.safetensors``/``.ckpt`` file (SD 1.x,
2.x or XL, told apart from its weights) or ``"tiny"``; applies a VAE override,
LoRAs and textual-inversion embeddings; and places the pipeline on the device
and dtype asked for. Every failure a user can fix raises :class:`ModelError`
with a one-line message naming the model and the way out.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import ModelError, OptionError
from .options import ModelOptions


def _quiet_libraries() -> None:
    """Our progress bar and notes are what users read: no loading bars or torchvision hints from the libraries."""
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


_quiet_libraries()

log = logging.getLogger(__name__)

KINDS = ("img2img", "inpaint")
SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
TINY_NAMES = {"tiny": False, "tiny-inpaint": True}
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# diffusers' own defaults for configs of single files (fetched from the hub, or its cache)
_DEFAULT_CONFIG_REPO = {
    ("sd1", False): "stable-diffusion-v1-5/stable-diffusion-v1-5",
    ("sd1", True): "stable-diffusion-v1-5/stable-diffusion-inpainting",
    ("sd2", False): "stabilityai/stable-diffusion-2-1",
    ("sd2", True): "stabilityai/stable-diffusion-2-inpainting",
    ("sdxl", False): "stabilityai/stable-diffusion-xl-base-1.0",
    ("sdxl", True): "diffusers/stable-diffusion-xl-1.0-inpainting-0.1",
}


@dataclass
class LoadedModel:
    """A ready pipeline and what infotext / callers need to know about it."""

    pipe: object
    device: torch.device
    dtype: torch.dtype
    name: str  # for infotext "Model: …"
    family: str  # "sd1" | "sd2" | "sdxl" | "tiny"
    inpaint_unet: bool = False  # UNet takes 9 channels (an inpainting model)
    loras: list[tuple[str, float]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # textual-inversion tokens added


# ---------------------------------------------------------------- device, dtype


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → cuda, then mps, then cpu; an explicit device must exist."""
    name = str(name).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError("CUDA was asked for but torch sees no GPU; use --device cpu or auto")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ModelError(
                f"device {name} was asked for but torch sees {torch.cuda.device_count()} GPU(s); use cuda:0 … "
                f"cuda:{torch.cuda.device_count() - 1}, or --device auto"
            )
        return dev
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ModelError("MPS (Apple GPU) was asked for but torch cannot use it here; use --device cpu or auto")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise OptionError(f"device {name!r} is not known: use auto, cpu, cuda, cuda:N or mps")


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` → fp16 on CUDA, fp32 elsewhere; ``half`` → fp16 on CUDA/MPS, bf16 on a CPU that has it (models/speed.py)."""
    table = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if name == "half":
        from .speed import resolve_half

        return resolve_half(device)
    if name not in table:
        raise OptionError(f"dtype {name!r} is not known: use auto, fp32, fp16 or bf16")
    if name == "fp16" and device.type == "cpu":
        log.warning("fp16 on the CPU is slow and some ops are missing; bf16 or fp32 are better there")
    return table[name]


# ---------------------------------------------------------------- hub helpers


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def is_hub_id(text: str) -> bool:
    """``org/name`` that is not a path here; a name ending in a weight-file suffix is a (missing) file, not a hub id."""
    return bool(_HUB_ID_RE.match(text)) and not text.lower().endswith(SINGLE_FILE_SUFFIXES) and not Path(text).exists()


#: how a single-file checkpoint gets its configs offline (the model's alternative to a downloaded folder)
MODEL_FILE_ALTERNATIVE = "; a .safetensors/.ckpt file works too: --model FILE --model-config CONFIG_DIR (a diffusers folder of the same family)"


def _hub_unreachable_message(what: str, repo: str, option: str = "--model DIR", alternative: str = MODEL_FILE_ALTERNATIVE) -> str:
    """``option``: how the downloaded folder is passed back, e.g. ``--vae DIR``; ``alternative``: other ways, appended."""
    why = "HF_HUB_OFFLINE is set and it is not in the local cache" if _offline() else "the Hugging Face hub cannot be reached and it is not in the local cache"
    return (
        f"{what} {repo!r} cannot be loaded: {why}; on a machine with internet run `hf download {repo} --local-dir DIR`, "
        f"copy DIR here and pass {option}{alternative}"
    )


def _looks_like_network_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    needles = (
        "connect", "offline", "not fully cached", "cannot find an appropriate cached", "local_files_only",
        "name or service", "timed out", "timeout", "resolve", "network", "localentrynotfound", "outgoing traffic",
    )
    return any(n in text for n in needles)


def _hub_error(what: str, repo: str, exc: BaseException, option: str = "--model DIR",
               alternative: str = MODEL_FILE_ALTERNATIVE) -> ModelError:
    name = type(exc).__name__
    if name in ("RepositoryNotFoundError", "GatedRepoError") or "404" in str(exc):
        return ModelError(
            f"{what} {repo!r} was not found on the Hugging Face hub (a gated one needs `hf auth login`); check the id, "
            f"or pass a local copy as {option}{alternative}"
        )
    if _looks_like_network_error(exc):
        return ModelError(_hub_unreachable_message(what, repo, option, alternative))
    return ModelError(f"{what} {repo!r} could not be loaded ({name}: {_first_line(exc)}); check that it is a diffusers model")


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


# ---------------------------------------------------------------- single files


def read_checkpoint_shapes(path: Path, damaged: str | None = None) -> dict[str, tuple[int, ...]]:
    """Key → shape of a single-file checkpoint, without loading all the weights.

    A damaged (truncated, corrupt) file raises :class:`ModelError` (``damaged``: its message, naming what the file
    was given as).
    """
    damaged = damaged or f"model file {path} is damaged (truncated or not a checkpoint); download it again"
    if path.suffix.lower() == ".safetensors":
        from safetensors import safe_open

        try:
            shapes = {}
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():
                    shapes[key] = tuple(f.get_slice(key).get_shape())
            # the header can be intact while the data is cut short
            expected = _safetensors_data_end(path)
            if expected is not None and path.stat().st_size < expected:
                raise ModelError(damaged)
            return shapes
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(damaged) from exc
    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except Exception:
        try:
            sd = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            if "weights only load failed" in str(exc).lower():
                raise ModelError(pickled_message(path)) from None
            raise ModelError(damaged) from exc
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise ModelError(damaged)
    return {k: tuple(v.shape) for k, v in sd.items() if isinstance(v, torch.Tensor)}


def pickled_message(path: Path) -> str:
    return (f"{path} holds pickled Python objects besides its tensors, which torch refuses to load safely "
            "(weights_only=True; a pickle can run code); get the .safetensors version of it, or convert it on a "
            "machine you trust")


ASSET_CONFIGS = Path(__file__).parent / "assets" / "configs"


def shipped_config(name: str) -> Path:
    """A config folder that ships with the project (models/assets/configs): what a single component file needs offline."""
    return ASSET_CONFIGS / name


def lora_family(shapes: dict[str, tuple[int, ...]]) -> str | None:
    """``sd1`` / ``sd2`` / ``sdxl`` for a kohya / LyCORIS / diffusers LoRA, from the width of the text its
    cross-attention reads (768, 1024, 2048) or SDXL's two text encoders; None when it cannot tell."""
    keys = list(shapes)
    if any(k.startswith(("lora_te1_", "lora_te2_", "text_encoder_2.")) for k in keys):
        return "sdxl"
    widths = {768: "sd1", 1024: "sd2", 2048: "sdxl"}
    for key, shape in shapes.items():
        if ("attn2_to_k" in key or "attn2.to_k" in key) and ("lora_down" in key or "lora_A" in key or "hada_w1_b" in key) and len(shape) >= 2:
            return widths.get(shape[1])
        if "attn2_to_k" in key and key.endswith(".lokr_w1"):  # LoKr: the input width is the factors' product
            w2 = shapes.get(key[: -len("w1")] + "w2")
            return widths.get(shape[1] * w2[1]) if w2 and len(w2) == 2 and len(shape) == 2 else None
    return None


FAMILY_NAMES = {"sd1": "SD 1.x", "sd2": "SD 2.x", "sdxl": "SDXL", "tiny": "tiny"}


def check_loras_fit(family: str, loras, model_name: str) -> None:
    """A LoRA of another model family fails in one line, before any model is loaded."""
    for file, _weight in loras:
        path = Path(file).expanduser()
        if not path.is_file():
            raise ModelError(f"LoRA file {file} does not exist; check the path given to --lora")
        theirs = lora_family(read_checkpoint_shapes(path, f"LoRA file {file} is damaged or not a LoRA: it is truncated or not a "
                                                          ".safetensors checkpoint; download it again, or check the path given to --lora"))
        if theirs and family in FAMILY_NAMES and family != "tiny" and theirs != family:
            raise ModelError(f"LoRA {path.name} is an {FAMILY_NAMES[theirs]} LoRA but model {model_name} is {FAMILY_NAMES[family]}; "
                             f"use a LoRA trained for {FAMILY_NAMES[family]}, or an {FAMILY_NAMES[theirs]} model")


def _safetensors_data_end(path: Path) -> int | None:
    import struct

    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return None
        (n,) = struct.unpack("<Q", head)
        try:
            header = json.loads(f.read(n))
        except Exception:
            return None
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and "data_offsets" in v]
    return 8 + n + (max(ends) if ends else 0)


def detect_family(shapes: dict[str, tuple[int, ...]], path: Path | str = "checkpoint") -> tuple[str, bool]:
    """``(family, inpaint_unet)`` of an original (LDM-layout) checkpoint."""
    keys = shapes.keys()
    unet_keys = [k for k in keys if k.startswith("model.diffusion_model.")]
    if not unet_keys:
        if any(k.startswith(("lora_", "lora_unet", "unet.")) or ".lora" in k for k in keys):
            raise ModelError(f"{path} is a LoRA, not a model; pass it with --lora {path}[:WEIGHT] beside a model")
        if any(k.startswith(("encoder.", "decoder.", "first_stage_model.")) for k in keys):
            raise ModelError(f"{path} is a VAE, not a model; pass it with --vae {path} beside a model")
        raise ModelError(f"{path} is not a Stable Diffusion checkpoint (no UNet weights); pass an SD 1.x/2.x/XL model file")
    in_conv = shapes.get("model.diffusion_model.input_blocks.0.0.weight")
    inpaint = bool(in_conv and len(in_conv) == 4 and in_conv[1] == 9)
    if any(k.startswith("conditioner.embedders.1.") for k in keys) or any(
        k.startswith("model.diffusion_model.label_emb.") for k in keys
    ):
        return "sdxl", inpaint
    context = [s[-1] for k, s in shapes.items() if k.startswith("model.diffusion_model.") and k.endswith("attn2.to_k.weight")]
    dim = context[0] if context else None
    if any(k.startswith("cond_stage_model.model.") for k in keys) or dim == 1024:
        return "sd2", inpaint
    if dim == 768:
        return "sd1", inpaint
    if dim is not None and dim < 256:
        return "tiny", inpaint
    raise ModelError(
        f"{path} is not a Stable Diffusion 1.x/2.x/XL checkpoint (cross-attention width {dim}); pass an SD model file"
    )


V_NORM_KEY = "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.norm1.bias"


def prediction_type(path: Path, shapes: dict[str, tuple[int, ...]], family: str, inpaint: bool) -> str:
    """``v_prediction`` for an SD 2.x 768-v checkpoint, else ``epsilon``. The weights say it: a v model's last
    output block's first norm bias is spread out (std > 0.09, ComfyUI's test); inpainting SD 2 models are epsilon."""
    if family != "sd2" or inpaint or V_NORM_KEY not in shapes:
        return "epsilon"
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                bias = f.get_tensor(V_NORM_KEY)
        else:
            sd = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
            bias = (sd.get("state_dict", sd))[V_NORM_KEY]
    except Exception:
        return "epsilon"
    return "v_prediction" if float(bias.float().std(unbiased=False)) > 0.09 else "epsilon"


# ---------------------------------------------------------------- pipeline classes


def _pipeline_class(family: str, kind: str):
    import diffusers

    if family == "sdxl":
        return diffusers.StableDiffusionXLInpaintPipeline if kind == "inpaint" else diffusers.StableDiffusionXLImg2ImgPipeline
    return diffusers.StableDiffusionInpaintPipeline if kind == "inpaint" else diffusers.StableDiffusionImg2ImgPipeline


def _extra_kwargs(family: str) -> dict:
    if family == "sdxl":
        return {}
    return dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)


def folder_family(folder: Path) -> str:
    """Family of a diffusers folder, from its model_index.json and text encoder config."""
    index_file = folder / "model_index.json"
    try:
        index = json.loads(index_file.read_text())
    except FileNotFoundError:
        raise ModelError(
            f"model folder {folder} has no model_index.json, so it is not a diffusers pipeline folder; "
            "pass the folder that holds model_index.json, or a single .safetensors/.ckpt file"
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"model folder {folder} has a damaged model_index.json; download the model again") from exc
    if "XL" in str(index.get("_class_name", "")) or "text_encoder_2" in index:
        return "sdxl"
    try:
        te = json.loads((folder / "text_encoder" / "config.json").read_text())
        hidden = int(te.get("hidden_size", 768))
    except (OSError, ValueError):
        return "sd1"
    return {768: "sd1", 1024: "sd2"}.get(hidden, "tiny" if hidden < 256 else "sd1")


# ---------------------------------------------------------------- the loader


class _DropPromptEcho(logging.Filter):
    """diffusers logs the whole cut-off part of a long prompt (kilobytes) and transformers warns that it is long;
    the stylizer says it once, in one line ("prompt is N tokens; the model reads the first 75 …")."""

    ECHOES = ("The following part of your input was truncated", "Token indices sequence length is longer")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.ECHOES)


_PROMPT_ECHO = _DropPromptEcho()


def quiet_prompt_echo() -> None:
    """Drop the long-prompt echoes from every diffusers / transformers logger and handler loaded so far."""
    import diffusers  # noqa: F401  (its loggers exist once it is imported)

    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.split(".")[0] in ("diffusers", "transformers") and isinstance(logger, logging.Logger):
            if _PROMPT_ECHO not in logger.filters:
                logger.addFilter(_PROMPT_ECHO)
            for handler in logger.handlers:
                if _PROMPT_ECHO not in handler.filters:
                    handler.addFilter(_PROMPT_ECHO)


def load_pipeline(options: ModelOptions, kind: str = "img2img") -> LoadedModel:
    """Load the pipeline ``options`` names, for ``kind`` "img2img" or "inpaint"."""
    quiet_prompt_echo()
    if kind not in KINDS:
        raise OptionError(f"pipeline kind {kind!r} is not known: use one of {', '.join(KINDS)}")
    options.validate()
    device = resolve_device(options.device)
    # --low-memory halves the weights too, unless a dtype was chosen (they are most of the memory on a CPU)
    dtype = resolve_dtype("half" if options.low_memory and options.dtype == "auto" else options.dtype, device)

    model = options.model.strip()
    path = Path(model).expanduser()
    if model.lower() in TINY_NAMES:
        from .tiny import ensure_tiny_folder

        folder = ensure_tiny_folder(inpaint=TINY_NAMES[model.lower()])
        pipe, family = _load_folder(folder, kind, dtype)
        name = model.lower()
    elif path.is_dir():
        pipe, family = _load_folder(path, kind, dtype)
        name = path.resolve().name
    elif path.is_file():
        pipe, family = _load_single_file(path, kind, dtype, options.config, options.loras)
        name = path.stem
    elif is_hub_id(model):
        pipe, family = _load_hub(model, kind, dtype)
        name = model
    else:
        raise ModelError(
            f"model path {model} does not exist; pass an existing diffusers folder, a .safetensors/.ckpt file, "
            "a hub id like org/name, or 'tiny'"
        )

    inpaint_unet = int(pipe.unet.config.in_channels) == 9
    if kind == "img2img" and inpaint_unet:
        raise ModelError(f"model {name} is an inpainting model (9-channel UNet); use it with a mask, or pick an ordinary model")

    if options.vae == "tiny" or (is_hub_id(options.vae or "") and "taesd" in options.vae.lower()):  # TAESD (models/speed.py)
        from .speed import load_taesd

        pipe.vae = load_taesd(options.vae, family, dtype)
    elif options.vae:
        pipe.vae = _load_vae(options.vae, dtype, options.config, family)

    pipe.to(device)
    loaded = LoadedModel(pipe=pipe, device=device, dtype=dtype, name=name, family=family, inpaint_unet=inpaint_unet)
    if options.loras:
        _apply_loras(loaded, options.loras)
    for emb in options.embeddings:
        loaded.tokens.append(_load_embedding(loaded, emb))
    from .speed import apply_speed, load_lcm_lora

    if options.lcm_lora:
        load_lcm_lora(loaded, options.lcm_lora)
    apply_speed(loaded, options)
    pipe.set_progress_bar_config(disable=True)
    quiet_prompt_echo()  # pipeline modules imported while loading have their own loggers
    return loaded


def _load_folder(folder: Path, kind: str, dtype: torch.dtype):
    family = folder_family(folder)
    cls = _pipeline_class(family, kind)
    try:
        pipe = cls.from_pretrained(str(folder), dtype=dtype, local_files_only=True, **_extra_kwargs(family))
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"model folder {folder} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); "
            "it may be incomplete: download it again"
        ) from exc
    return pipe, family


def hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe of the hub (``HF_ENDPOINT``), so an unreachable hub fails in
    seconds instead of huggingface_hub's ~25 s of retries. Behind a proxy, assume yes."""
    import socket
    from urllib.parse import urlparse

    if _offline():
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme != "http" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _load_hub(repo: str, kind: str, dtype: torch.dtype):
    from huggingface_hub import hf_hub_download

    # 1) a cached snapshot works offline; 2) otherwise the hub must answer
    try:
        index_path = hf_hub_download(repo, "model_index.json", local_files_only=True)
        local = True
    except Exception:
        if not hub_reachable():
            raise ModelError(_hub_unreachable_message("model", repo)) from None
        try:
            index_path = hf_hub_download(repo, "model_index.json", etag_timeout=10)
        except Exception as exc:
            raise _hub_error("model", repo, exc) from exc
        local = False
    family = folder_family(Path(index_path).parent)
    cls = _pipeline_class(family, kind)
    try:
        pipe = cls.from_pretrained(repo, dtype=dtype, local_files_only=local and (_offline() or not hub_reachable()), **_extra_kwargs(family))
    except Exception as exc:
        raise _hub_error("model", repo, exc) from exc
    return pipe, family


def _config_for_weights(folder: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    """``folder`` itself, or a copy of its configs (no weights) whose UNet ``in_channels`` is the checkpoint's:
    an inpainting checkpoint (9 channels) loads with its base model's configs."""
    import hashlib
    import shutil

    conv = shapes.get("model.diffusion_model.input_blocks.0.0.weight")
    unet_cfg = folder / "unet" / "config.json"
    if not conv or not unet_cfg.exists():
        return folder
    config = json.loads(unet_cfg.read_text())
    if config.get("in_channels") == conv[1]:
        return folder
    from .tiny import tiny_cache_root

    key = hashlib.sha256(f"{folder.resolve()}:{conv[1]}".encode()).hexdigest()[:16]
    out = tiny_cache_root() / "derived-configs" / key
    if not (out / "model_index.json").exists():
        tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
        shutil.copytree(folder, tmp, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "*.ckpt", "*.pt", "*.pth", "*.onnx", "*.msgpack"))
        config["in_channels"] = conv[1]
        (tmp / "unet" / "config.json").write_text(json.dumps(config, indent=2))
        os.replace(tmp, out) if not out.exists() else shutil.rmtree(tmp)
    return out


def _load_single_file(path: Path, kind: str, dtype: torch.dtype, config: str | None, loras=()):
    if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
        raise ModelError(
            f"model file {path} is not a .safetensors or .ckpt checkpoint; pass one of those, or a diffusers folder"
        )
    shapes = read_checkpoint_shapes(path)
    family, inpaint = detect_family(shapes, path)
    if inpaint and kind == "img2img":
        raise ModelError(f"model {path.name} is an inpainting checkpoint (9-channel UNet), which img2img cannot use; "
                         "give a mask (--mask FILE) to inpaint with it, or pick an ordinary checkpoint")
    if loras:
        check_loras_fit(family, loras, path.stem)
    cls = _pipeline_class(family, kind)
    kwargs = dict(dtype=dtype, **_extra_kwargs(family))
    if config:
        cfg = Path(config).expanduser()
        if not (cfg / "model_index.json").exists():
            raise ModelError(f"--model-config {config} is not a diffusers folder (no model_index.json); pass one of the same model family")
        kwargs.update(config=str(_config_for_weights(cfg, shapes)), local_files_only=True)
    elif family == "tiny":
        from .tiny import ensure_tiny_folder

        kwargs.update(config=str(ensure_tiny_folder(inpaint=inpaint)), local_files_only=True)
    else:
        kwargs.update(local_files_only=not hub_reachable())
    try:
        # offline without configs, diffusers logs that it is "attempting to download" them: our one line says what to do
        with _quiet_diffusers() if kwargs.get("local_files_only") and not config else contextlib.nullcontext():
            pipe = cls.from_single_file(str(path), **kwargs)
    except Exception as exc:
        if not config and family != "tiny" and _looks_like_network_error(exc):
            repo = _DEFAULT_CONFIG_REPO[(family, inpaint)]
            raise ModelError(
                f"model file {path} ({family}) needs the configs of {repo!r}, but {'HF_HUB_OFFLINE is set' if _offline() else 'the Hugging Face hub cannot be reached'} and they are not cached; "
                f"pass --model-config DIR with a local diffusers folder of the same family, e.g. from `hf download {repo} --include '*.json' --include '*.txt' --local-dir DIR` on a machine with internet"
            ) from None
        raise ModelError(f"model file {path} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); it may be damaged: download it again") from exc
    wanted = prediction_type(path, shapes, family, inpaint)
    if family == "sd2" and pipe.scheduler.config.get("prediction_type") != wanted:
        log.info("%s is an SD 2.x %s model: the sampler predicts %s", path.name, "768-v" if wanted == "v_prediction" else "epsilon", wanted)
        pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, prediction_type=wanted)
    return pipe, family


def _is_sd_vae(shapes: dict[str, tuple[int, ...]]) -> bool:
    for prefix in ("", "first_stage_model.", "vae."):
        conv = shapes.get(prefix + "decoder.conv_in.weight")
        if conv is not None:
            return tuple(conv) == (512, 4, 3, 3) and tuple(shapes.get(prefix + "encoder.conv_in.weight", ())) == (128, 3, 3, 3)
    return False


def _load_vae(spec: str, dtype: torch.dtype, config: str | None, family: str = "sd1"):
    from diffusers import AutoencoderKL, AutoencoderTiny

    path = Path(spec).expanduser()
    try:
        if path.is_dir():
            cfg_file = path / "config.json"
            if not cfg_file.exists() and (path / "vae" / "config.json").exists():
                path, cfg_file = path / "vae", path / "vae" / "config.json"
            if not cfg_file.exists():
                raise ModelError(f"VAE folder {spec} has no config.json; pass a diffusers VAE folder or a .safetensors file")
            cls_name = json.loads(cfg_file.read_text()).get("_class_name", "AutoencoderKL")
            cls = AutoencoderTiny if cls_name == "AutoencoderTiny" else AutoencoderKL
            return cls.from_pretrained(str(path), dtype=dtype, local_files_only=True)
        if path.is_file():
            shapes = read_checkpoint_shapes(path)
            if any(k.startswith(("encoder.layers", "decoder.layers")) for k in shapes):
                raise ModelError(f"VAE file {spec} is a TAESD (AutoencoderTiny) file; pass its diffusers folder instead")
            kwargs = dict(dtype=dtype)
            if config:
                kwargs.update(config=str(Path(config).expanduser()), subfolder="vae", local_files_only=True)
            elif _is_sd_vae(shapes):  # SD 1.x/2.x/XL VAEs share one architecture: the shipped config, no hub
                kwargs.update(config=str(shipped_config("vae-sd15")), local_files_only=True)
            else:
                kwargs.update(local_files_only=not hub_reachable())
            try:
                vae = AutoencoderKL.from_single_file(str(path), **kwargs)
                if family == "sdxl" and not config:
                    vae.register_to_config(scaling_factor=0.13025)  # SDXL's latent scale (same architecture)
                return vae
            except Exception as exc:
                if not config and _looks_like_network_error(exc):
                    raise ModelError(
                        f"VAE file {spec} needs a VAE config from the hub, which cannot be reached; pass --model-config DIR with a local diffusers folder, or a diffusers VAE folder as --vae DIR"
                    ) from None
                raise
        if is_hub_id(spec):
            if not hub_reachable():
                try:
                    return AutoencoderKL.from_pretrained(spec, dtype=dtype, local_files_only=True)
                except Exception:
                    raise ModelError(_hub_unreachable_message("VAE", spec, "--vae DIR", "")) from None
            try:
                return AutoencoderKL.from_pretrained(spec, dtype=dtype, local_files_only=_offline())
            except Exception as exc:
                raise _hub_error("VAE", spec, exc, "--vae DIR", "") from None
        raise ModelError(f"VAE path {spec} does not exist; pass a diffusers VAE folder, a .safetensors file or a hub id")
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"VAE {spec} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); check it is a VAE for this model") from exc


def _apply_loras(loaded: LoadedModel, loras: list[tuple[str, float]]) -> None:
    pipe = loaded.pipe
    names, weights = [], []
    for i, (file, weight) in enumerate(loras):
        path = Path(file).expanduser()
        if not path.is_file():
            raise ModelError(f"LoRA file {file} does not exist; check the path given to --lora")
        if path.suffix.lower() == ".safetensors":
            read_checkpoint_shapes(path, f"LoRA file {file} is damaged or not a LoRA: it is truncated or not a "
                                         ".safetensors checkpoint; download it again, or check the path given to --lora")
        if _is_lycoris(path):
            _fuse_lycoris(loaded, path, float(weight))
            continue
        adapter = f"lora{i}_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
        before = _adapter_names(pipe)
        try:
            with _quiet_diffusers():
                pipe.load_lora_weights(str(path), adapter_name=adapter)
        except Exception as exc:
            _drop_adapter(pipe, adapter)
            why = "its layer shapes differ" if "size mismatch" in str(exc) else _first_line(exc)[:160]
            raise ModelError(
                f"LoRA {file} does not fit model {loaded.name} ({loaded.family}): {why}; "
                "use a LoRA trained for this model family"
            ) from exc
        if adapter not in _adapter_names(pipe) - before:
            raise ModelError(
                f"LoRA {file} does not fit model {loaded.name} ({loaded.family}): none of its layers match; "
                "use a LoRA trained for this model family"
            )
        names.append(adapter)
        weights.append(float(weight))
    if names:
        pipe.set_adapters(names, adapter_weights=weights)
        pipe.fuse_lora(adapter_names=names, lora_scale=1.0)
    loaded.loras = [(str(f), float(w)) for f, w in loras]


def _is_lycoris(path: Path) -> bool:
    if path.suffix.lower() != ".safetensors":
        return False
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return any(".hada_" in k or ".lokr_" in k for k in f.keys())


def kohya_modules(pipe) -> dict[str, torch.nn.Module]:
    """kohya module name (``lora_unet_…`` / ``lora_te_…``, dots as underscores) → the pipeline's layer."""
    out = {}
    for prefix, model in (("lora_unet_", pipe.unet), ("lora_te_", pipe.text_encoder)):
        for name, mod in model.named_modules():
            if not isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)) or ".lora_" in name:
                continue  # peft's own lora_A / lora_B layers
            name = name.replace(".base_layer", "")  # a layer a LoRA already wraps
            if prefix == "lora_te_" and not name.startswith("text_model."):
                name = "text_model." + name
            out[prefix + name.replace(".", "_")] = mod
    return out


def lycoris_delta(sd: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """ΔW of one LyCORIS layer: LoHa (w1_a w1_b) ⊙ (w2_a w2_b) · alpha/rank; LoKr kron(w1, w2), a rank-split
    factor scaled by alpha/rank."""
    f = {k[len(name) + 1:]: v.float() for k, v in sd.items() if k.startswith(name + ".")}
    if "hada_w1_a" in f:
        if "hada_t1" in f:
            raise ValueError("its LoHa layers use the Tucker (CP) form, which is not supported")
        rank = f["hada_w1_b"].shape[0]
        scale = float(f["alpha"]) / rank if "alpha" in f else 1.0
        # in place: a full-size layer's ΔW is tens of MB, and each temporary costs as much as the product
        return (f["hada_w1_a"] * scale @ f["hada_w1_b"]).mul_(f["hada_w2_a"] @ f["hada_w2_b"])
    w1 = f["lokr_w1"] if "lokr_w1" in f else f["lokr_w1_a"] @ f["lokr_w1_b"]
    if "lokr_t2" in f:
        raise ValueError("its LoKr layers use the Tucker (CP) form, which is not supported")
    w2 = f["lokr_w2"] if "lokr_w2" in f else f["lokr_w2_a"] @ f["lokr_w2_b"].flatten(1)
    rank = f["lokr_w2_b"].shape[0] if "lokr_w2_b" in f else f["lokr_w1_b"].shape[0] if "lokr_w1_b" in f else None
    scale = float(f["alpha"]) / rank if rank and "alpha" in f else 1.0
    return torch.kron(w1 * scale, w2)


@torch.no_grad()
def _fuse_lycoris(loaded: LoadedModel, path: Path, weight: float) -> None:
    """Add a LyCORIS (LoHa / LoKr) file's ΔW · weight into the layers it names (diffusers reads only LoRA)."""
    from safetensors.torch import load_file

    sd = load_file(str(path))
    modules = kohya_modules(loaded.pipe)
    names = sorted({k.rsplit(".", 1)[0] for k in sd if ".hada_" in k or ".lokr_" in k})
    missing = [n for n in names if n not in modules]
    if missing:
        raise ModelError(f"LoRA {path.name} does not fit model {loaded.name} ({loaded.family}): {len(missing)} of its "
                         f"{len(names)} layers are not in the model (e.g. {missing[0]}); use a LoRA trained for this model family")
    for name in names:
        w = modules[name].weight
        try:
            delta = lycoris_delta(sd, name)
            w.add_(delta.reshape(w.shape).to(w.dtype, copy=False), alpha=weight)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"LoRA {path.name} could not be applied to {loaded.name}: {_first_line(exc)[:160]}; "
                             "use a kohya LoRA, LoHa or LoKr file for this model") from None


class _quiet_diffusers:
    """Silence diffusers' and peft's logging (a shape mismatch logs hundreds of lines)."""

    def __enter__(self):
        from diffusers.utils import logging as dlog

        self._level = dlog.get_verbosity()
        dlog.set_verbosity(dlog.CRITICAL)
        self._peft = logging.getLogger("peft")
        self._peft_level = self._peft.level
        self._peft.setLevel(logging.CRITICAL)

    def __exit__(self, *exc):
        from diffusers.utils import logging as dlog

        dlog.set_verbosity(self._level)
        self._peft.setLevel(self._peft_level)
        return False


def _adapter_names(pipe) -> set[str]:
    try:
        return {n for names in pipe.get_list_adapters().values() for n in names}
    except Exception:
        return set()


def _drop_adapter(pipe, adapter: str) -> None:
    try:
        if adapter in _adapter_names(pipe):
            pipe.delete_adapters(adapter)
    except Exception:
        pass


def _read_embedding(path: Path):
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise ModelError(f"embedding file {path} is damaged (truncated or not an embedding); download it again") from exc
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"embedding file {path} is damaged or not a plain tensor file; download it again") from exc


def _load_embedding(loaded: LoadedModel, file: str) -> str:
    """Load one textual-inversion file; its token is the file name (as in the web UI)
    unless the file names its own (diffusers ``{token: tensor}`` files)."""
    pipe = loaded.pipe
    path = Path(file).expanduser()
    if not path.is_file():
        raise ModelError(f"embedding file {file} does not exist; check the path given to --embedding")
    sd = _read_embedding(path)
    token = path.stem
    try:
        if isinstance(sd, dict) and "clip_l" in sd and "clip_g" in sd:
            if loaded.family != "sdxl":
                raise ValueError("it is an SDXL embedding")
            pipe.load_textual_inversion(sd["clip_l"], token=token, text_encoder=pipe.text_encoder, tokenizer=pipe.tokenizer)
            pipe.load_textual_inversion(sd["clip_g"], token=token, text_encoder=pipe.text_encoder_2, tokenizer=pipe.tokenizer_2)
            return token
        if isinstance(sd, dict) and len(sd) == 1 and "emb_params" not in sd:
            token, tensor = next(iter(sd.items()))
        elif isinstance(sd, dict) and "string_to_param" in sd:
            tensor = sd["string_to_param"]["*"]
        elif isinstance(sd, dict) and "emb_params" in sd:
            tensor = sd["emb_params"]
        elif isinstance(sd, torch.Tensor):
            tensor = sd
        else:
            raise ValueError("no embedding tensor in it")
        tensor = tensor.to(dtype=loaded.dtype)
        width = pipe.text_encoder.get_input_embeddings().weight.shape[-1]
        if tensor.shape[-1] != width:
            raise ValueError(f"its vectors have width {tensor.shape[-1]}, the text encoder's {width}")
        if token in pipe.tokenizer.get_vocab():
            raise ValueError(f"token {token!r} is already in the vocabulary (loaded twice?)")
        pipe.load_textual_inversion(tensor, token=token)
    except Exception as exc:
        raise ModelError(
            f"embedding {file} does not fit model {loaded.name} ({loaded.family}): {_first_line(exc)[:160]}; "
            "use an embedding trained for this model family"
        ) from exc
    return token
