"""Loading the video models: AnimateDiff motion adapters and Stable Video Diffusion.

Chosen like a model: a hub id (the defaults below), a local diffusers folder, a single
``.safetensors``/``.ckpt`` file (motion adapters: the original AnimateDiff ``mm_sd_v15_v2``
files), or ``"tiny"`` (built offline, models/tiny_video.py). Every failure a user can fix
raises :class:`ModelError` with one line naming the model and the way out, like loader.py.

* :func:`load_animatediff` builds diffusers' ``AnimateDiffVideoToVideoPipeline`` from the SD
  1.x pipeline loader.py loads (so any base, VAE, LoRA and embedding gif2gif accepts works;
  LoRAs are fused into the UNet before the motion modules are added) plus a motion adapter.
* :func:`load_svd` loads a ``StableVideoDiffusionPipeline``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..errors import ModelError
from .loader import (LoadedModel, SINGLE_FILE_SUFFIXES, _first_line, _hub_error, _hub_unreachable_message, _offline,
                     hub_reachable, is_hub_id, load_pipeline, resolve_device, resolve_dtype)
from .options import ModelOptions

DEFAULT_MOTION_ADAPTER = "guoyww/animatediff-motion-adapter-v1-5-2"
DEFAULT_SVD = "stabilityai/stable-video-diffusion-img2vid-xt"
TINY = "tiny"


def is_tiny(name: str | None) -> bool:
    return str(name or "").strip().lower() == TINY


def motion_adapter_for(adapter: str | None, model: str) -> str:
    """The adapter to load: the one given, else the tiny one for ``--model tiny``, else the hub default."""
    if adapter:
        return adapter
    return TINY if is_tiny(model) else DEFAULT_MOTION_ADAPTER


def svd_for(video_model: str | None, model: str) -> str:
    """The SVD model to load: the one given, else the tiny one for ``--model tiny``, else the hub default."""
    if video_model:
        return video_model
    return TINY if is_tiny(model) else DEFAULT_SVD


def _quiet():
    from .loader import _quiet_diffusers

    return _quiet_diffusers()


# ---------------------------------------------------------------- motion adapter


def load_motion_adapter(spec: str, dtype: torch.dtype = torch.float32):
    """A ``MotionAdapter`` from "tiny", a diffusers folder, a single file or a hub id."""
    from diffusers import MotionAdapter

    what = "motion adapter"
    spec = spec.strip()
    path = Path(spec).expanduser()
    try:
        if is_tiny(spec):
            from .tiny_video import ensure_tiny_motion_adapter

            return MotionAdapter.from_pretrained(str(ensure_tiny_motion_adapter()), dtype=dtype, local_files_only=True)
        if path.is_dir():
            if not (path / "config.json").exists():
                raise ModelError(f"{what} folder {spec} has no config.json; pass a diffusers MotionAdapter folder, "
                                 "a single .safetensors/.ckpt motion module, or a hub id")
            cls = json.loads((path / "config.json").read_text()).get("_class_name")
            if cls and cls != "MotionAdapter":
                raise ModelError(f"{what} folder {spec} holds a {cls}, not a MotionAdapter; pass an AnimateDiff motion adapter")
            return MotionAdapter.from_pretrained(str(path), dtype=dtype, local_files_only=True)
        if path.is_file():
            if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
                raise ModelError(f"{what} file {spec} is not a .safetensors or .ckpt file; pass one of those, or a diffusers folder")
            from .loader import read_checkpoint_shapes

            shapes = read_checkpoint_shapes(path)
            if not any("motion_modules" in k for k in shapes):
                raise ModelError(f"{what} file {spec} has no motion modules; pass an AnimateDiff motion module (e.g. mm_sd_v15_v2.ckpt)")
            pe = shapes.get("down_blocks.0.motion_modules.0.temporal_transformer.transformer_blocks.0.attention_blocks.0.pos_encoder.pe")
            if any(k.startswith("mid_block.motion_modules.") for k in shapes) and pe and pe[1] == 32 and pe[-1] == 320:
                from .loader import shipped_config  # mm_sd_v15_v2's config ships with the project: no hub needed

                return MotionAdapter.from_single_file(str(path), config=str(shipped_config("motion-adapter-sd15-v2")),
                                                      dtype=dtype, local_files_only=True)
            return MotionAdapter.from_single_file(str(path), dtype=dtype)
        if is_hub_id(spec):
            return _from_hub(MotionAdapter, what, spec, dtype, option="--motion-adapter DIR")
        raise ModelError(f"{what} path {spec} does not exist; pass a diffusers folder, a .safetensors/.ckpt file, "
                         f"a hub id like {DEFAULT_MOTION_ADAPTER}, or 'tiny'")
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{what} {spec} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); "
                         "check that it is an AnimateDiff motion adapter for SD 1.5") from None


def _from_hub(cls, what: str, repo: str, dtype: torch.dtype, *, option: str, **kwargs):
    """A cached snapshot works offline; otherwise the hub must answer, quickly. ``option``: how a local copy is passed."""
    import warnings

    try:
        with warnings.catch_warnings():  # huggingface_hub's deprecation chatter would break the one-line error
            warnings.simplefilter("ignore")
            return cls.from_pretrained(repo, dtype=dtype, local_files_only=True, **kwargs)
    except Exception:
        pass
    if not hub_reachable():
        raise ModelError(_hub_unreachable_message(what, repo, option, ""))
    try:
        return cls.from_pretrained(repo, dtype=dtype, local_files_only=_offline(), **kwargs)
    except Exception as exc:
        raise _hub_error(what, repo, exc, option, "") from None


def load_animatediff(model: ModelOptions, adapter: str | None = None) -> tuple[LoadedModel, str]:
    """``(LoadedModel with an AnimateDiffVideoToVideoPipeline, adapter name)``.

    The SD 1.x base comes through :func:`~.loader.load_pipeline` (VAE override, LoRAs fused,
    embeddings); the motion adapter is checked before the base is loaded, so a missing
    adapter fails in seconds.
    """
    from diffusers import AnimateDiffVideoToVideoPipeline
    from diffusers.models.modeling_utils import no_init_weights

    name = motion_adapter_for(adapter, model.model)
    device = resolve_device(model.device)
    dtype = resolve_dtype(model.dtype, device)
    try:
        motion = load_motion_adapter(name, dtype)
    except ModelError as exc:
        raise _with_missing_base(exc, name, model.model.strip()) from None
    base = load_pipeline(model, kind="img2img")
    if base.family not in ("sd1", "tiny"):
        raise ModelError(f"--method animatediff needs an SD 1.x model; {base.name} is {base.family} "
                         "(AnimateDiff motion adapters are trained for SD 1.5)")
    sd = base.pipe
    _check_fits(motion, sd.unet, name, base.name)
    # The pipeline builds a UNetMotionModel from the SD UNet (from_unet2d): it random-initialises all of
    # its weights (1.3 B for SD 1.5, ~20 CPU-s) and then copies every one of them in from the UNet and
    # the adapter, so the initialisation is skipped (tests/models/test_video_models.py checks that no
    # weight is left uncopied).
    with _quiet(), no_init_weights():
        pipe = AnimateDiffVideoToVideoPipeline(vae=sd.vae, text_encoder=sd.text_encoder, tokenizer=sd.tokenizer,
                                               unet=sd.unet, motion_adapter=motion, scheduler=sd.scheduler)
    pipe.to(base.device, base.dtype)
    pipe.set_progress_bar_config(disable=True)
    loaded = LoadedModel(pipe=pipe, device=base.device, dtype=base.dtype, name=base.name, family=base.family,
                         loras=base.loras, tokens=base.tokens)
    return loaded, name


def _missing_from_hub(repo: str) -> bool:
    """A hub id that is neither in the local cache nor downloadable now (a quick check: no weights are read)."""
    from huggingface_hub import hf_hub_download

    if not is_hub_id(repo):
        return False
    try:
        hf_hub_download(repo, "model_index.json", local_files_only=True)
        return False
    except Exception:
        return not hub_reachable()


def _with_missing_base(exc: ModelError, adapter: str, model: str) -> ModelError:
    """The motion adapter failed; when the SD model is missing too, one message names both."""
    if not _missing_from_hub(model):
        return exc
    if _missing_from_hub(adapter):
        why = "HF_HUB_OFFLINE is set" if _offline() else "the Hugging Face hub cannot be reached"
        return ModelError(
            f"--method animatediff needs motion adapter {adapter!r} and model {model!r}, and neither is in the local cache "
            f"({why}); on a machine with internet run `hf download {adapter} --local-dir ADAPTER_DIR` and "
            f"`hf download {model} --local-dir MODEL_DIR`, copy both here and pass --motion-adapter ADAPTER_DIR --model MODEL_DIR"
        )
    return ModelError(f"{exc}; model {model!r} is not in the local cache either: run `hf download {model} --local-dir MODEL_DIR` "
                      "on a machine with internet and pass --model MODEL_DIR")


def _check_fits(motion, unet, adapter: str, model: str) -> None:
    blocks = tuple(motion.config.block_out_channels)
    want = tuple(unet.config.block_out_channels)
    if blocks != want:
        raise ModelError(f"motion adapter {adapter} does not fit model {model}: its blocks have {list(blocks)} channels, "
                         f"the UNet's {list(want)}; use an SD 1.5 motion adapter with an SD 1.5 model (or both 'tiny')")


# ---------------------------------------------------------------- Stable Video Diffusion


def load_svd(spec: str, device: str = "auto", dtype: str = "auto") -> LoadedModel:
    """A ``StableVideoDiffusionPipeline`` from "tiny", a diffusers folder or a hub id."""
    from diffusers import StableVideoDiffusionPipeline

    what = "Stable Video Diffusion model"
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    spec = spec.strip()
    path = Path(spec).expanduser()
    kwargs = {}
    if torch_dtype == torch.float16 and not is_tiny(spec) and not path.exists():
        kwargs["variant"] = "fp16"
    try:
        with _quiet():
            if is_tiny(spec):
                from .tiny_video import ensure_tiny_svd_folder

                pipe = StableVideoDiffusionPipeline.from_pretrained(str(ensure_tiny_svd_folder()), dtype=torch_dtype,
                                                                    local_files_only=True)
                name = TINY
            elif path.is_dir():
                index = path / "model_index.json"
                if not index.exists():
                    raise ModelError(f"{what} folder {spec} has no model_index.json; pass the folder that holds it")
                cls = json.loads(index.read_text()).get("_class_name")
                if cls != "StableVideoDiffusionPipeline":
                    raise ModelError(f"{what} folder {spec} holds a {cls}, not a StableVideoDiffusionPipeline; pass an SVD model")
                pipe = StableVideoDiffusionPipeline.from_pretrained(str(path), dtype=torch_dtype, local_files_only=True)
                name = path.resolve().name
            elif path.is_file():
                raise ModelError(f"{what} {spec} is a single file, which SVD cannot load; pass a diffusers folder or a hub id "
                                 f"as --video-model (e.g. {DEFAULT_SVD})")
            elif is_hub_id(spec):
                try:
                    pipe = _from_hub(StableVideoDiffusionPipeline, what, spec, torch_dtype, option="--video-model DIR", **kwargs)
                except ModelError:
                    if not kwargs:
                        raise
                    pipe = _from_hub(StableVideoDiffusionPipeline, what, spec, torch_dtype, option="--video-model DIR")  # no fp16 variant
                name = spec
            else:
                raise ModelError(f"{what} path {spec} does not exist; pass --video-model with a diffusers folder, a hub id like {DEFAULT_SVD}, or 'tiny'")
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{what} {spec} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); "
                         "it may be incomplete: download it again") from None
    pipe.to(dev)
    pipe.set_progress_bar_config(disable=True)
    return LoadedModel(pipe=pipe, device=dev, dtype=torch_dtype, name=name, family="svd")
