"""Speed pieces applied to a loaded pipeline.

Each piece is its own option (``ModelOptions`` fields) and is measured by
``bench/speed.py`` on the full-size SD 1.5 architecture:

- precision: ``dtype="half"`` is bf16 on a CPU that has bf16 instructions
  (AVX512-BF16 / AMX), fp16 on CUDA / MPS, else fp32 (:func:`resolve_half`);
- ``channels_last`` memory format for the UNet and VAE convolutions;
- ``attention``: PyTorch's scaled-dot-product attention (``sdpa``, diffusers'
  default) or the classic matmul + softmax (``classic``, for comparison);
- ``threads``: ``torch.set_num_threads`` (0 leaves torch's default);
- ``vae="tiny"``: TAESD (``AutoencoderTiny``) for encode and decode;
- ``lcm_lora``: LCM-LoRA fused into the UNet (``"auto"``: the family's hub LoRA);
- ``low_memory``: half precision when ``dtype`` is auto (the loader), attention
  slicing, VAE slicing + tiling, and on CUDA model CPU offload;
- ``compile`` / ``engine``: ``torch.compile`` of the UNet (Inductor on CPU, max-autotune on CUDA) or the UNet
  in OpenVINO — models/engines.py.

The step cache (DeepCache idea) lives here too: :class:`StepCachedUNet` stands in
for the UNet and recomputes only its outermost blocks on the steps between full
ones; :func:`pipeline_with` builds a stylizer's own pipeline around it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from ..errors import ModelError, OptionError
from ..notices import notice
from .engines import cpu_has_bf16  # one bf16 test for --dtype half and the engines

log = logging.getLogger(__name__)

#: TAESD per model family (madebyollin's diffusers folders)
TAESD_REPOS = {"sd1": "madebyollin/taesd", "sd2": "madebyollin/taesd", "sdxl": "madebyollin/taesdxl"}
#: LCM-LoRA per model family (latent-consistency's releases)
LCM_LORA_REPOS = {"sd1": "latent-consistency/lcm-lora-sdv1-5", "sd2": "latent-consistency/lcm-lora-sdv1-5",
                  "sdxl": "latent-consistency/lcm-lora-sdxl"}
LCM_LORA_FILE = "pytorch_lora_weights.safetensors"
ATTENTIONS = ("sdpa", "classic")


# ---------------------------------------------------------------- precision, threads


def resolve_half(device: torch.device) -> torch.dtype:
    """``dtype="half"``: fp16 on CUDA / MPS, bf16 on a CPU with bf16 instructions, else fp32 (with a notice)."""
    if device.type in ("cuda", "mps"):
        return torch.float16
    if cpu_has_bf16():
        return torch.bfloat16
    notice("--dtype half: this CPU has no bf16 instructions (AVX512-BF16 / AMX), where bf16 is slower than fp32; using fp32.")
    return torch.float32


def set_threads(threads: int) -> None:
    """``threads`` > 0 sets torch's intra-op threads (the cores the model uses); 0 keeps torch's default."""
    if threads and threads > 0:
        torch.set_num_threads(int(threads))


# ---------------------------------------------------------------- pieces on a loaded pipeline


def apply_speed(loaded, options) -> None:
    """Apply the load-time speed pieces of ``options`` (a ModelOptions) to ``loaded`` (a LoadedModel)."""
    pipe = loaded.pipe
    set_threads(getattr(options, "threads", 0))
    set_attention(pipe, getattr(options, "attention", "sdpa"))
    if getattr(options, "channels_last", False):
        to_channels_last(pipe)
    if getattr(options, "low_memory", False):
        low_memory(pipe, loaded.device)
    from .engines import compile_unet, openvino_unet, resolve_engine

    engine = resolve_engine(getattr(options, "engine", "torch"), loaded.device, pipe.unet)
    if engine == "openvino":
        if getattr(options, "compile", False):
            notice("--compile is for the torch engine; --engine openvino compiles the UNet its own way.")
        openvino_unet(pipe, loaded.name, getattr(options, "threads", 0))
    elif getattr(options, "compile", False):
        compile_unet(pipe, loaded.device)


def set_attention(pipe, kind: str) -> None:
    """``sdpa``: ``torch.nn.functional.scaled_dot_product_attention`` — diffusers' default with torch 2, so
    nothing is changed (other processors a model brings stay); ``classic``: matmul + softmax, for comparison."""
    from diffusers.models.attention_processor import AttnProcessor

    if kind not in ATTENTIONS:
        raise OptionError(f"--attention {kind!r} is not known; use one of {', '.join(ATTENTIONS)}.")
    if kind == "sdpa":
        return
    for name in ("unet", "vae"):
        model = getattr(pipe, name, None)
        if model is not None and hasattr(model, "set_attn_processor") and getattr(model, "attn_processors", None):
            model.set_attn_processor(AttnProcessor())


def to_channels_last(pipe) -> None:
    """NHWC memory format for the UNet's and VAE's convolutions (oneDNN / cuDNN prefer it)."""
    for name in ("unet", "vae"):
        model = getattr(pipe, name, None)
        if model is not None:
            model.to(memory_format=torch.channels_last)


def low_memory(pipe, device: torch.device) -> None:
    """For 8 GB machines / small GPUs: attention one slice at a time, VAE a frame and a tile at a time,
    and on CUDA the models moved to the GPU only while they run."""
    pipe.enable_attention_slicing("max")
    vae = pipe.vae
    # TAESD is small already, and diffusers' AutoencoderTiny tiled encode returns fp32 latents under bf16 weights
    methods = ("enable_slicing",) if type(vae).__name__ == "AutoencoderTiny" else ("enable_slicing", "enable_tiling")
    for method in methods:
        if hasattr(vae, method):
            getattr(vae, method)()
    if device.type == "cuda":
        pipe.enable_model_cpu_offload(device=device)



# ---------------------------------------------------------------- TAESD (--vae tiny)


def load_taesd(spec: str, family: str, dtype: torch.dtype):
    """``spec`` "tiny" → the family's TAESD (the tiny test model gets its own, built here); or a hub id / folder
    of an ``AutoencoderTiny``. Missing offline → one-line ModelError naming the download."""
    from diffusers import AutoencoderTiny

    from .loader import _first_line, _hub_unreachable_message, hub_reachable, is_hub_id

    if spec == "tiny":
        if family == "tiny":
            from .tiny_speed import ensure_tiny_taesd_folder

            spec = str(ensure_tiny_taesd_folder())
        else:
            spec = TAESD_REPOS.get(family, TAESD_REPOS["sd1"])
    path = Path(spec).expanduser()
    if path.is_dir():
        try:
            return AutoencoderTiny.from_pretrained(str(path), dtype=dtype, local_files_only=True)
        except Exception as exc:
            raise ModelError(f"TAESD folder {spec} could not be loaded ({type(exc).__name__}: {_first_line(exc)}); "
                             "pass a diffusers AutoencoderTiny folder such as a download of madebyollin/taesd") from None
    if not is_hub_id(spec):
        raise ModelError(f"TAESD {spec} does not exist; pass 'tiny', a hub id such as madebyollin/taesd, or its local folder")
    try:
        return AutoencoderTiny.from_pretrained(spec, dtype=dtype, local_files_only=True)
    except Exception:
        pass
    if not hub_reachable():
        raise ModelError(_hub_unreachable_message("TAESD (--vae tiny)", spec, "--vae DIR", ", or drop --vae tiny"))
    try:
        return AutoencoderTiny.from_pretrained(spec, dtype=dtype)
    except Exception as exc:
        raise ModelError(f"TAESD {spec!r} could not be downloaded ({type(exc).__name__}: {_first_line(exc)}); "
                         f"run `hf download {spec} --local-dir DIR` and pass --vae DIR, or drop --vae tiny") from None


# ---------------------------------------------------------------- LCM-LoRA


def resolve_lcm_lora(spec: str, family: str) -> str:
    """``auto`` → the family's LCM-LoRA (the tiny model's is built here); else a file, folder or hub id."""
    if spec != "auto":
        return spec
    if family == "tiny":
        from .tiny_speed import ensure_tiny_lcm_lora

        return str(ensure_tiny_lcm_lora())
    return LCM_LORA_REPOS.get(family, LCM_LORA_REPOS["sd1"])


def load_lcm_lora(loaded, spec: str) -> str:
    """Fuse the LCM-LoRA into the UNet (so it costs nothing per step) and record it; returns what was loaded."""
    from .loader import _first_line, _hub_unreachable_message, _quiet_diffusers, hub_reachable, is_hub_id

    pipe = loaded.pipe
    source = resolve_lcm_lora(spec, loaded.family)
    path = Path(source).expanduser()
    way_out = "pass --lcm-lora FILE (a local pytorch_lora_weights.safetensors), or use another --preset"
    if path.exists():
        target = str(path)
        kwargs = {}
        if path.is_dir():
            kwargs["weight_name"] = LCM_LORA_FILE
    elif is_hub_id(source):
        target, kwargs = source, {"weight_name": LCM_LORA_FILE}
        from huggingface_hub import hf_hub_download

        try:
            hf_hub_download(source, LCM_LORA_FILE, local_files_only=True)
        except Exception:
            if not hub_reachable():
                raise ModelError(_hub_unreachable_message("LCM-LoRA", source, "--lcm-lora DIR", f"; or {way_out}")) from None
    else:
        raise ModelError(f"LCM-LoRA {source} does not exist; {way_out}")
    try:
        with _quiet_diffusers():
            pipe.load_lora_weights(target, adapter_name="lcm", **kwargs)
            pipe.fuse_lora(adapter_names=["lcm"], lora_scale=1.0)
            pipe.unload_lora_weights()  # the fused weights stay; the adapter layers go (no per-step cost)
    except Exception as exc:
        raise ModelError(f"LCM-LoRA {source} does not fit model {loaded.name} ({loaded.family}): "
                         f"{_first_line(exc)[:160]}; use the LCM-LoRA of this model family") from None
    loaded.loras = list(loaded.loras) + [(f"lcm:{source}", 1.0)]
    return source


def is_turbo_model(name: str) -> bool:
    """SD-Turbo / SDXL-Turbo style models (adversarially distilled: 1–2 steps, guidance 0)."""
    return "turbo" in os.path.basename(str(name).rstrip("/")).lower()


# ---------------------------------------------------------------- step cache (DeepCache idea)


class StepCachedUNet(torch.nn.Module):
    """DeepCache (Ma et al., 2023): reuse the UNet's deep features between adjacent steps.

    Every ``interval``-th call runs the whole UNet and keeps the output of the
    second-to-last up block; the calls between run only ``conv_in``, the first
    down block and the last up block (the full-resolution ones) on that cached
    feature. The pipeline calls the UNet once per denoising step (the CFG pair
    is one batch), so calls count steps; ``reset()`` at each new frame.
    SD 1.x / 2.x-shaped UNets only.

    It stands in for the UNet in a pipeline built with it (as ``torch.compile``'s
    wrapper does): the UNet itself is not changed, so a pipeline that shares it
    without this wrapper runs the plain UNet. Attributes it does not have itself
    (``config``, ``dtype``, ``attn_processors``, …) are the UNet's.
    """

    def __init__(self, unet: torch.nn.Module, interval: int) -> None:
        from .engines import OpenVINOUNet

        if isinstance(unet, OpenVINOUNet):  # its blocks never run in PyTorch: nothing would be cached
            raise OptionError("--step-cache needs the PyTorch UNet: drop --engine openvino (or --step-cache).")
        config = unet.config
        if getattr(config, "addition_embed_type", None) or getattr(config, "class_embed_type", None):
            raise OptionError("--step-cache works with SD 1.x / 2.x models only (this UNet has extra embeddings).")
        super().__init__()
        self.unet = unet
        self.interval = max(1, int(interval))
        self.calls = 0
        self.full_calls = 0
        self.cached: torch.Tensor | None = None
        # the hook stays on the shared UNet, but records only during this wrapper's own full passes: another
        # pipeline running the same UNet neither fills nor overwrites this cache
        self._recording = False
        self._hook = None
        self.attach()

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)  # this module's own parameters, buffers and submodules (``unet``)
        except AttributeError:
            if name == "unet":  # not set yet (during __init__): no UNet to ask
                raise
            return getattr(self.unet, name)

    def attach(self) -> None:
        """Record the deep feature on full passes (on after construction)."""
        if self._hook is None:
            self._hook = self.unet.up_blocks[-2].register_forward_hook(self._keep)

    def remove(self) -> None:
        """Stop caching: every call runs the whole UNet until ``attach()``."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self.cached = None

    def _keep(self, module, args, output) -> None:
        if self._recording:
            self.cached = output

    def reset(self) -> None:
        self.calls = 0
        self.cached = None

    def forward(self, sample, timestep, encoder_hidden_states, *args, **kwargs):
        full = (self._hook is None or self.calls % self.interval == 0 or self.cached is None
                or self.cached.shape[0] != sample.shape[0])
        self.calls += 1
        # ControlNet residuals enter the deep blocks too: those steps always run whole
        if full or args or kwargs.get("down_block_additional_residuals") is not None:
            self.full_calls += 1
            self._recording = True
            try:
                return self.unet(sample, timestep, encoder_hidden_states, *args, **kwargs)
            finally:
                self._recording = False
        return self._shallow(sample, timestep, encoder_hidden_states, kwargs)

    def _shallow(self, sample, timestep, encoder_hidden_states, kwargs):
        from diffusers.models.unets.unet_2d_condition import UNet2DConditionOutput

        unet = self.unet
        cross_attention_kwargs = kwargs.get("cross_attention_kwargs")
        emb = unet.time_embedding(unet.get_time_embed(sample=sample, timestep=timestep), kwargs.get("timestep_cond"))
        if unet.time_embed_act is not None:
            emb = unet.time_embed_act(emb)
        if unet.config.center_input_sample:
            sample = 2 * sample - 1.0
        sample = unet.conv_in(sample)
        res = (sample,) + _outer_down(unet.down_blocks[0], sample, emb, encoder_hidden_states, cross_attention_kwargs)
        last = unet.up_blocks[-1]
        if getattr(last, "has_cross_attention", False):
            out = last(hidden_states=self.cached, temb=emb, res_hidden_states_tuple=res,
                       encoder_hidden_states=encoder_hidden_states, cross_attention_kwargs=cross_attention_kwargs)
        else:
            out = last(hidden_states=self.cached, temb=emb, res_hidden_states_tuple=res)
        if unet.conv_norm_out is not None:
            out = unet.conv_act(unet.conv_norm_out(out))
        out = unet.conv_out(out)
        if kwargs.get("return_dict", True):
            return UNet2DConditionOutput(sample=out)
        return (out,)


def _outer_down(block, hidden: torch.Tensor, emb: torch.Tensor, encoder_hidden_states: torch.Tensor,
                cross_attention_kwargs: dict | None) -> tuple[torch.Tensor, ...]:
    """The first down block's residuals: its resnets (and attentions), as ``CrossAttnDownBlock2D`` /
    ``DownBlock2D`` run them, without the downsampler, whose output feeds only the deep (cached) part."""
    attentions = getattr(block, "attentions", None) or [None] * len(block.resnets)
    residuals: tuple[torch.Tensor, ...] = ()
    for resnet, attn in zip(block.resnets, attentions):
        hidden = resnet(hidden, emb)
        if attn is not None:
            hidden = attn(hidden, encoder_hidden_states=encoder_hidden_states, cross_attention_kwargs=cross_attention_kwargs,
                          return_dict=False)[0]
        residuals += (hidden,)
    return residuals


def pipeline_with(pipe, cls=None, **components):
    """A new pipeline of class ``cls`` (default: ``pipe``'s) from ``pipe``'s components and settings, with
    ``components`` in place of its own (nothing is copied or reloaded; ``pipe`` itself is left as it was).

    Each stylizer builds its pipeline this way, whole (its scheduler, its UNet or step-cached UNet, its
    ControlNet), instead of changing a pipeline that other stylizers may share.
    """
    import inspect

    cls = cls or type(pipe)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    kwargs = {k: v for k, v in pipe.components.items() if k in accepted}
    # settings the pipeline was made with (requires_safety_checker, SDXL's force_zeros_for_empty_prompt, …)
    kwargs.update({k: v for k, v in pipe.config.items() if k in accepted and k not in kwargs and not k.startswith("_")})
    kwargs.update(components)
    new = cls(**kwargs)
    new.set_progress_bar_config(**getattr(pipe, "_progress_bar_config", {}))
    # model CPU offload (--low-memory on CUDA) lives in hooks on the shared models; the pipeline's record of
    # them (data, no methods) comes along so the new pipeline frees them after a call as the old one did
    vars(new).update({k: v for k, v in vars(pipe).items() if k in ("_all_hooks", "_offload_device", "_offload_gpu_id")})
    return new
