"""Engines that run the UNet step: PyTorch eager (``torch``), Inductor (``--compile``) and OpenVINO.

Both compiled engines pay their compile / convert cost once per model, size and dtype and keep it on disk
under the rotoscope cache folder (``$ROTOSCOPE_CACHE/models/engines-inductor``, ``…/models/openvino-*``), so a second process starts its
first frame without recompiling:

- Inductor (``torch.compile``) on CPU: C++ codegen, ``freezing`` (weights folded in and pre-packed for
  oneDNN, convolutions turned channels-last inside the graph); its FX graph / AOTAutograd caches live in
  ``engines-inductor``. On CUDA: ``mode="max-autotune"`` (fp16 comes from ``--dtype half``).
- OpenVINO (``--engine openvino``, PyPI ``openvino``, no torch of its own): the UNet converted with
  ``openvino.convert_model`` at the first frame's shapes, saved as IR keyed by a weights fingerprint, the
  shapes and the dtype; bf16 inference precision where the CPU has matrix units (AMX / AVX512-BF16).

``--engine auto`` (the fast preset) picks OpenVINO for a full-size UNet on the CPU where it is installed
(bf16 on AMX / AVX512-BF16, else f32), else today's eager path with a one-line notice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path

import torch

from ..errors import ModelError
from ..notices import notice

MATRIX_FLAGS = ("amx_bf16", "amx_int8", "avx512_bf16", "avx512_vnni")


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def matrix_units() -> list[str]:
    """Which of the CPU's bf16 / int8 matrix units are present (AMX tiles, AVX-512 BF16 / VNNI)."""
    flags = cpu_flags()
    return [f for f in MATRIX_FLAGS if f in flags]


def cpu_has_bf16() -> bool:
    """True when oneDNN runs bf16 natively here (AVX512-BF16 or AMX); without it bf16 is slower than fp32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # an unusual torch build
        return False


def has_bf16_matrix_units() -> bool:
    """Whether bf16 runs natively here: the same test as ``--dtype half`` (models/speed.py), so OpenVINO's
    precision and torch's half dtype never disagree."""
    return cpu_has_bf16()


def openvino_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


#: below this many UNet parameters ``auto`` keeps PyTorch: converting costs more than it saves (the tiny model)
AUTO_MIN_PARAMS = 100_000_000


def resolve_engine(engine: str, device: torch.device, unet: torch.nn.Module | None = None) -> str:
    """``auto`` → ``openvino`` on the CPU when it is installed and the UNet is full-size (measured 4–5× faster
    than eager PyTorch in fp32 on a 2-core AVX2 CPU, bench/speed.py), else ``torch``; a one-line notice says
    when the matrix units or OpenVINO are missing. An explicit ``openvino`` is checked here."""
    if engine == "openvino":
        if device.type != "cpu":
            raise ModelError(f"--engine openvino runs on the CPU; drop it or use --device cpu (device is {device.type})")
        if not openvino_installed():
            raise ModelError("--engine openvino needs OpenVINO: pip install 'rotoscope[openvino]' (or drop --engine openvino)")
        return engine
    if engine != "auto" or device.type != "cpu":
        return "torch"
    if unet is not None and sum(p.numel() for p in unet.parameters()) < AUTO_MIN_PARAMS:
        return "torch"
    if not openvino_installed():
        notice("--engine auto: OpenVINO is not installed (pip install 'rotoscope[openvino]'); the UNet runs in "
               "PyTorch as before.")
        return "torch"
    if not has_bf16_matrix_units():
        notice("--engine auto: this CPU has no bf16 matrix units (AMX / AVX512-BF16): the UNet runs in OpenVINO at f32.")
    return "openvino"


def engines_root() -> Path:
    from .tiny import tiny_cache_root

    return tiny_cache_root()


def weights_fingerprint(module: torch.nn.Module) -> str:
    """A short hash of a module's weights (a few spread-out tensors' sums and every shape): two models with
    the same name but other weights or LoRAs fused get other cache entries."""
    h = hashlib.sha1(type(module).__name__.encode())
    params = list(module.named_parameters())
    h.update(str([(n, tuple(p.shape), str(p.dtype)) for n, p in params]).encode())
    with torch.no_grad():
        for _, p in params[:: max(1, len(params) // 16)]:
            h.update(f"{p.double().sum().item():.10e}".encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- Inductor (torch.compile)


def use_inductor_cache() -> Path:
    """Point Inductor's on-disk caches (FX graph, AOTAutograd, compiled kernels) at the rotoscope cache,
    unless the user set TORCHINDUCTOR_CACHE_DIR. The entries are keyed by the graph (weights' shapes and dtype,
    input shapes) and the torch version, so one folder serves every model and size."""
    folder = Path(os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(engines_root() / "engines-inductor")))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def compile_unet(pipe, device: torch.device) -> bool:
    """``--compile``: ``torch.compile`` the UNet. CUDA: max-autotune. CPU: Inductor's C++ backend with
    freezing (needs a C++ compiler; without one, a notice and the eager UNet). Returns whether it compiled."""
    if device.type == "cuda":
        pipe.unet = torch.compile(pipe.unet, mode="max-autotune", fullgraph=False)
        return True
    if device.type != "cpu":
        notice(f"--compile: not supported on {device.type}; running without it.")
        return False
    if not (shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++")):
        notice("--compile on CPU needs a C++ compiler (g++ or clang++) on PATH; running without it.")
        return False
    import torch._inductor.config as inductor_config

    use_inductor_cache()
    inductor_config.freezing = True  # weights become constants: pre-packed oneDNN convolutions / matmuls
    inductor_config.fx_graph_cache = True
    pipe.unet = torch.compile(pipe.unet, dynamic=False, fullgraph=False)
    return True


# ---------------------------------------------------------------- OpenVINO


class _UNetGraph(torch.nn.Module):
    """The UNet as convert_model traces it: three tensors in, the noise prediction out."""

    def __init__(self, unet: torch.nn.Module) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        dtype = self.unet.dtype
        return self.unet(sample.to(dtype), timestep, encoder_hidden_states.to(dtype), return_dict=False)[0].float()


def openvino_precision(dtype: torch.dtype) -> str:
    """bf16 inference on a CPU with bf16 matrix units when the model was asked for in half precision; f32 else
    (OpenVINO would emulate bf16 on AVX2, slower than f32)."""
    return "bf16" if dtype == torch.bfloat16 and has_bf16_matrix_units() else "f32"


def convert_unet(unet: torch.nn.Module, shapes: tuple, folder: Path) -> None:
    """Trace ``unet`` at ``shapes`` (sample, encoder_hidden_states) and save it as OpenVINO IR in ``folder``."""
    import openvino as ov

    sample_shape, cond_shape = shapes
    example = (torch.zeros(sample_shape), torch.tensor(500.0), torch.zeros(cond_shape))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on diffusers' shape checks (constant at one shape)
        model = ov.convert_model(_UNetGraph(unet).eval(), example_input=example)
    ov.save_model(model, str(folder / "unet.xml"), compress_to_fp16=False)


class OpenVINOUNet(torch.nn.Module):
    """Stands in for the UNet (as ``torch.compile``'s wrapper does) and runs it in OpenVINO.

    The first call at a new shape converts the UNet (or reads the converted IR from the cache) and compiles it
    for the CPU; calls with extra inputs (ControlNet residuals, added conditions) run the PyTorch UNet.
    Attributes it does not have itself (``config``, ``dtype``, …) are the UNet's.
    """

    def __init__(self, unet: torch.nn.Module, name: str, threads: int = 0) -> None:
        super().__init__()
        self.unet = unet
        self.name = name
        self.threads = threads
        self.fingerprint = weights_fingerprint(unet)
        self.precision = openvino_precision(unet.dtype)
        self.compiled: dict[tuple, object] = {}
        self.converted_now = 0  # conversions this process did (0 when every shape came from the cache)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "unet":
                raise
            return getattr(self.unet, name)

    def cache_folder(self, shapes: tuple) -> Path:
        import openvino as ov

        (b, c, h, w), cond = shapes
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in self.name)[:60]
        key = f"{safe}-{self.fingerprint}-{b}x{c}x{h}x{w}-{cond[1]}x{cond[2]}-{str(self.unet.dtype)[6:]}-ov{ov.__version__.split('-')[0]}"
        return engines_root() / f"openvino-{key}"

    def _compiled_for(self, shapes: tuple):
        if shapes in self.compiled:
            return self.compiled[shapes]
        import openvino as ov

        from .tiny import cached_build

        folder = self.cache_folder(shapes)
        if not (folder / "unet.bin").exists():
            self.converted_now += 1
        folder = cached_build(folder.name, "unet.bin", lambda tmp: convert_unet(self.unet, shapes, tmp))
        core = ov.Core()
        config = {"INFERENCE_PRECISION_HINT": self.precision, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_NUM_THREADS": self.threads or torch.get_num_threads()}
        compiled = core.compile_model(core.read_model(str(folder / "unet.xml")), "CPU", config)
        self.compiled[shapes] = compiled
        return compiled

    def forward(self, sample, timestep, encoder_hidden_states, *args, **kwargs):
        extra = {k: v for k, v in kwargs.items() if v is not None and k != "return_dict"}
        if args or extra:  # ControlNet residuals, added conditions, …: the PyTorch UNet runs them
            return self.unet(sample, timestep, encoder_hidden_states, *args, **kwargs)
        from diffusers.models.unets.unet_2d_condition import UNet2DConditionOutput

        shapes = (tuple(sample.shape), tuple(encoder_hidden_states.shape))
        compiled = self._compiled_for(shapes)
        t = torch.as_tensor(timestep, dtype=torch.float32).reshape(-1)[0]
        result = compiled([sample.float().numpy(), t.numpy(), encoder_hidden_states.float().numpy()])
        out = torch.from_numpy(result[0].copy()).to(sample.dtype)
        if kwargs.get("return_dict", True):
            return UNet2DConditionOutput(sample=out)
        return (out,)


def openvino_unet(pipe, name: str, threads: int = 0) -> None:
    """``--engine openvino``: the pipeline's UNet runs in OpenVINO."""
    if not isinstance(pipe.unet, OpenVINOUNet):
        pipe.unet = OpenVINOUNet(pipe.unet, name, threads)
