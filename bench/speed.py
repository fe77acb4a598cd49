"""How fast is a frame? Seconds per frame of the full-size SD 1.5 architecture (random weights), per speed
piece and preset, all in one process, on frames of the sample clip.

    python bench/speed.py --quick          # 320x192 only, 3 timed frames per row (+1 warm-up), < 10 min on 2 cores
    python bench/speed.py                  # 320x192 and 512x512, 10 timed frames per row, + peak memory at 512x512
    python bench/speed.py --memory         # only the peak-memory rows (each preset in its own process, 512x512)
    python bench/speed.py --profile        # one UNet step of the fast preset op by op, against this CPU's matmul peaks
    python bench/speed.py --quick --compile  # + the torch.compile (Inductor, freezing) row: minutes of compiling

Timing needs no trained weights: models/fullsize.py builds SD 1.5's UNet (859.5 M parameters), VAE and
CLIP-L text encoder from their configs with random numbers, which run exactly as fast as the trained ones.
The rows run through the project's own DiffusersImg2Img stylizer (prompt encoded once, the real schedulers,
step cache, TAESD swap, LCM-LoRA fused by models/speed.py). Rows are measured in rounds — every row does
frame k before any row does frame k+1 — so a busy machine slows all rows alike; a row's s/frame is the min
over its frames (mean beside it). The baseline is the web-UI default: fp32, Euler a, 20 steps × strength 0.3
(6 denoising steps), CFG 7 (UNet batch of 2), the full VAE.

Engine rows (models/engines.py) run the fast preset's UNet in OpenVINO (when installed) and, with --compile,
through torch.compile; their first frame converts / compiles into a fresh cache folder (cold), and a second
engine over the same cache folder times its first frame again (warm: what the next process pays).
The fast preset's own row is what ``--engine auto`` picks on this CPU.

Prints a table and a last line of JSON with baseline_s_per_frame, fast_s_per_frame and speedup.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import SAMPLE, child_peak_rss_mb, print_json, print_table

STRENGTH = 0.3
FULL_VAE: list = []
PROMPT = "a cup on a table, ink drawing"


def load_frames(size: tuple[int, int], count: int):
    import numpy as np
    from PIL import Image

    from rotoscope.media.decode import iter_frames
    from rotoscope.media.options import MediaOptions

    frames = [np.asarray(Image.fromarray(f.image).resize(size, Image.Resampling.LANCZOS))
              for f in iter_frames(SAMPLE, MediaOptions(fps=10, max_frames=count))]
    while len(frames) < count:
        frames += frames[: count - len(frames)]
    return frames


@dataclass
class Row:
    label: str
    piece: str  # what this row adds
    stylizer: object
    vae: object
    times: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)  # frame index → output (engine rows are compared with fast's)
    first: float = 0.0  # the warm-up frame: for an engine row, the compile / convert in it (cold cache)
    unet_calls: int = 0
    threads: int = 0  # 0: the process's (torch's default, one per core)

    def prepare(self, rows) -> None:
        """Rows share loaded models (each stylizer has its own pipeline, step-cached UNet included):
        put this row's scheduler and VAE in place."""
        pipe = self.stylizer.pipe
        pipe.scheduler = self.scheduler
        pipe.vae = self.vae
        torch_threads(self.threads or DEFAULT_THREADS)


DEFAULT_THREADS = 0


def torch_threads(n: int) -> None:
    import torch

    if n and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def make_row(label, piece, loaded, style_kwargs, vae, size):
    from rotoscope.stylize.img2img import DiffusersImg2Img
    from rotoscope.stylize.options import StyleOptions

    style = StyleOptions(prompt=PROMPT, seed=1, strength=STRENGTH, width=size[0], height=size[1], **style_kwargs)
    style.validate()
    stylizer = DiffusersImg2Img(loaded, style)
    row = Row(label, piece, stylizer, vae)
    row.scheduler = stylizer.pipe.scheduler
    return row


def loaded_model(pipe, dtype, name):
    import torch

    from rotoscope.models.loader import LoadedModel

    pipe.set_progress_bar_config(disable=True)
    return LoadedModel(pipe=pipe, device=torch.device("cpu"), dtype=dtype, name=name, family="sd1")


def build_models(log, engines_only: bool = False):
    """fp32 pipeline, bf16 pipeline, bf16 pipeline with a random LCM-LoRA (rank 64, SD 1.5's layers) fused, TAESD."""
    import torch

    from rotoscope.models.fullsize import build_sd15_pipeline, build_taesd
    from rotoscope.models.options import ModelOptions
    from rotoscope.models.speed import apply_speed, cpu_has_bf16, load_lcm_lora
    from rotoscope.models.tiny_speed import write_random_lora

    half = torch.bfloat16 if cpu_has_bf16() else torch.float32
    t = time.perf_counter()
    if engines_only:  # the fast preset's model alone (memory: a shared machine)
        p32 = p16 = None
    else:
        p32 = loaded_model(build_sd15_pipeline(torch.float32, seed=0), torch.float32, "sd15-random-fp32")
    # without native bf16 "half" is fp32 (resolve_half): the same weights as p32, so the same pipeline (memory)
    p16 = (loaded_model(build_sd15_pipeline(half, seed=0), half, "sd15-random-bf16") if half != torch.float32
           and not engines_only else p32)
    if p32 is not None:
        log(f"built fp32 + {half} SD 1.5 pipelines in {time.perf_counter() - t:.0f} s "
            f"(UNet {sum(p.numel() for p in p32.pipe.unet.parameters()) / 1e6:.1f} M params)")
    t = time.perf_counter()
    lora_dir = Path(tempfile.mkdtemp(prefix="rotoscope-bench-lcm-"))
    pfast = loaded_model(build_sd15_pipeline(half, seed=0), half, "sd15-random-bf16-lcm")
    lora_file = write_random_lora(pfast.pipe.unet, lora_dir, rank=64, seed=7)  # SD 1.5 LCM-LoRA's layers and rank
    load_lcm_lora(pfast, str(lora_file))  # the real path: load_lora_weights + fuse + unload
    taesd = build_taesd(half, seed=3)
    FULL_VAE.append((p16 or pfast).pipe.vae)  # rows swap pipe.vae; the micro timings need the full one
    for loaded in {id(m): m for m in (p32, p16, pfast) if m is not None}.values():
        apply_speed(loaded, ModelOptions(attention="sdpa"))
    log(f"built the LCM-LoRA ({lora_file.stat().st_size / 1e6:.0f} MB, fused) + TAESD in {time.perf_counter() - t:.0f} s")
    gc.collect()
    return p32, p16, pfast, taesd, half


def frame_rows(models, size, full: bool, engines_only: bool = False):
    p32, p16, pfast, taesd, half = models
    global DEFAULT_THREADS
    import torch

    DEFAULT_THREADS = torch.get_num_threads()
    hname = "bf16" if str(half) == "torch.bfloat16" else "fp32"
    base = dict(sampler="Euler a", steps=20, cfg_scale=7.0)
    lcm = dict(sampler="LCM", steps=4, cfg_scale=1.0)
    if engines_only:  # the fast preset and its engines only (a busy machine: the baseline rows take most of a run)
        return ([make_row(f"{hname} + LCM-LoRA + TAESD = fast preset, torch engine", "TAESD", pfast, lcm, taesd, size)]
                + [engine_row(name, pfast, lcm, taesd, size) for name in ENGINES])
    rows = [
        make_row("baseline = quality preset: fp32, Euler a 20×0.3, CFG 7", "-", p32, base, p32.pipe.vae, size),
        make_row(f"{hname}", "precision", p16, base, p16.pipe.vae, size),
        make_row(f"{hname} + step cache 2 = balanced preset", "step cache (DeepCache)", p16, dict(base, step_cache=2), p16.pipe.vae, size),
        make_row(f"{hname}, CFG 1 (no unconditional pass)", "skip uncond", p16, dict(base, cfg_scale=1.0), p16.pipe.vae, size),
        make_row(f"{hname} + LCM-LoRA 4×0.3, CFG 1", "LCM-LoRA", pfast, lcm, pfast.pipe.vae, size),
        make_row(f"{hname} + LCM-LoRA + TAESD = fast preset, torch engine", "TAESD", pfast, lcm, taesd, size),
        make_row(f"SD-Turbo settings: {hname}, 2×0.3→1 step, CFG 0, trailing, TAESD", "turbo", p16,
                 dict(sampler="Euler a", steps=2, cfg_scale=0.0, timestep_spacing="trailing"), taesd, size),
        make_row("fast + similar-frame reuse (threshold 3)", "frame reuse", pfast, dict(lcm, reuse_threshold=3.0), taesd, size),
        make_row("fast preset, 1 thread", "threads", pfast, lcm, taesd, size),
    ]
    rows[-1].threads = 1
    rows += [engine_row(name, pfast, lcm, taesd, size) for name in ENGINES]
    if full:
        rows.insert(2, make_row(f"{hname} + channels-last", "channels-last", p16, base, p16.pipe.vae, size))
    return rows


ENGINES: list[str] = []  # engine rows asked for (main: openvino when installed, compile with --compile)


def engine_pipeline(name: str, pfast):
    """The fast model's own pipeline with its UNet run by engine ``name`` (the UNet itself is shared)."""
    from dataclasses import replace

    from rotoscope.models.engines import OpenVINOUNet, compile_unet
    from rotoscope.models.speed import pipeline_with

    if name == "openvino":
        return replace(pfast, pipe=pipeline_with(pfast.pipe, unet=OpenVINOUNet(pfast.pipe.unet, pfast.name)))
    import torch

    pipe = pipeline_with(pfast.pipe)
    compile_unet(pipe, torch.device("cpu"))
    return replace(pfast, pipe=pipe)


def engine_row(name, pfast, lcm, taesd, size):
    from rotoscope.models.engines import openvino_precision

    label = (f"fast preset, UNet in OpenVINO ({openvino_precision(pfast.dtype)}; --engine auto here)" if name == "openvino"
             else "fast preset, UNet torch.compile (Inductor C++, freezing)")
    return make_row(label, f"engine {name}", engine_pipeline(name, pfast), lcm, taesd, size)


def warm_first_frames(rows, models, frames, size, log) -> dict:
    """Each engine again over the same cache folder, as the next process would: its first frame's seconds."""
    import torch

    p32, p16, pfast, taesd, half = models
    out = {}
    for row in rows:
        if not row.piece.startswith("engine "):
            continue
        name = row.piece.split()[1]
        if name == "compile":
            torch._dynamo.reset()  # forget the in-memory compiled code: only the disk caches remain
        else:
            row.stylizer.pipe.unet.compiled.clear()  # its compiled model's memory (3.4 GB fp32) goes first
        again = engine_row(name, pfast, dict(sampler="LCM", steps=4, cfg_scale=1.0), taesd, size)
        again.prepare(rows)
        t = time.perf_counter()
        again.stylizer.stylize([frames[0]], seed=1, indices=[0])
        warm = time.perf_counter() - t
        unet = again.stylizer.pipe.unet
        converted = getattr(unet, "converted_now", None)
        out[name] = {"cold_first_frame_s": round(row.first, 1), "warm_first_frame_s": round(warm, 1),
                     "s_per_frame": round(min(row.times), 3)}
        if converted is not None:
            out[name]["converted_again"] = converted  # 0: the IR came from the cache
        log(f"{name}: first frame cold {row.first:.1f} s, warm {warm:.1f} s")
    torch_threads(DEFAULT_THREADS)
    return out


def engine_quality(rows) -> dict:
    """SSIM / PSNR of each engine row's frames against the fast preset's (same frames, same seed)."""
    from rotoscope.metrics import psnr, ssim

    fast = next(r for r in rows if r.piece == "TAESD")  # today's fast preset: the eager UNet
    out = {}
    for row in rows:
        if row.piece.startswith("engine "):
            pairs = [(fast.outputs[i], row.outputs[i]) for i in sorted(row.outputs) if i in fast.outputs]
            out[row.piece.split()[1]] = {"ssim_vs_fast": round(min(ssim(a, b) for a, b in pairs), 4),
                                         "psnr_vs_fast": round(min(psnr(a, b) for a, b in pairs), 2)}
    return out


def time_rows(rows, frames, warmup: int, log):
    import torch

    hooks = []
    counts = {}

    def counter(module, args, output):
        counts[id(module)] = counts.get(id(module), 0) + 1

    unets = {id(r.stylizer.pipe.unet): r.stylizer.pipe.unet for r in rows}
    for unet in unets.values():
        hooks.append(unet.register_forward_hook(counter))
    total = warmup + len(frames)
    for k in range(total):
        for row in rows:
            row.prepare(rows)
            if "channels-last" in row.label:
                row.stylizer.pipe.unet.to(memory_format=torch.channels_last)
            index = max(0, k - warmup) % len(frames)  # the warm-up frame is frame 0, timed frames 0, 1, 2, …
            before = counts.get(id(row.stylizer.pipe.unet), 0)
            t = time.perf_counter()
            out = row.stylizer.stylize([frames[index]], seed=1, indices=[index])
            seconds = time.perf_counter() - t
            row.outputs[index] = out[0]
            if "channels-last" in row.label:
                row.stylizer.pipe.unet.to(memory_format=torch.contiguous_format)
            if k == 0:
                row.first = seconds
            if k >= warmup:
                row.times.append(seconds)
                row.unet_calls += counts.get(id(row.stylizer.pipe.unet), 0) - before
        if k + 1 == warmup:  # similar-frame reuse starts afresh on the timed frames
            for row in rows:
                row.stylizer.reuse = type(row.stylizer.reuse)(row.stylizer.reuse.threshold)
        log(f"round {k + 1}/{total} done" + (" (warm-up)" if k < warmup else "") + f"; load {os.getloadavg()[0]:.1f}")
    torch_threads(DEFAULT_THREADS)
    for h in hooks:
        h.remove()


def micro(models, size, log, repeats=3):
    """Per-UNet-step and VAE timings of single pieces (the half-precision UNet, fp32 without bf16 units; one
    latent), alternating, min of repeats."""
    import torch
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    from rotoscope.models.speed import StepCachedUNet

    p32, p16, pfast, taesd, half = models
    unet = p16.pipe.unet
    vae = FULL_VAE[0]
    w, h = size[0] // 8, size[1] // 8
    x = torch.randn(1, 4, h, w, dtype=half)
    cond = torch.randn(1, 77, 768, dtype=half)
    img = torch.rand(1, 3, size[1], size[0], dtype=half) * 2 - 1

    def step():
        unet(x, 500, encoder_hidden_states=cond)

    cache = StepCachedUNet(unet, 2)  # stands in for the UNet; the UNet itself is unchanged

    def shallow():
        cache.reset()
        cache(x, 500, encoder_hidden_states=cond)  # full, fills the cache
        t = time.perf_counter()
        cache(x, 499, encoder_hidden_states=cond)  # outer blocks only
        return time.perf_counter() - t

    def with_layout():
        unet.to(memory_format=torch.channels_last)
        try:
            step()
        finally:
            unet.to(memory_format=torch.contiguous_format)

    def classic():
        unet.set_attn_processor(AttnProcessor())
        try:
            step()
        finally:
            unet.set_attn_processor(AttnProcessor2_0())

    def one_thread():
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            step()
        finally:
            torch.set_num_threads(n)

    d = "bf16" if half == torch.bfloat16 else "fp32"  # "half" is fp32 on a CPU without bf16 units (cpu_has_bf16)
    tests = {
        f"UNet step, {d} (sdpa, NCHW)": step,
        f"UNet step, {d} + channels-last": with_layout,
        f"UNet step, {d}, classic attention": classic,
        f"UNet step, {d}, 1 thread": one_thread,
        f"UNet step, {d}, step-cache shallow step": shallow,
        f"VAE encode, {d}": lambda: vae.encode(img),
        f"VAE decode, {d}": lambda: vae.decode(x),
        f"TAESD encode, {d}": lambda: taesd.encode(img),
        f"TAESD decode, {d}": lambda: taesd.decode(x),
    }
    results = {k: [] for k in tests}
    with torch.inference_mode():
        for fn in tests.values():  # warm-up
            fn()
        for _ in range(repeats):
            for name, fn in tests.items():
                t = time.perf_counter()
                inner = fn()
                results[name].append(inner if isinstance(inner, float) else time.perf_counter() - t)
    # token merging (ToMe) would shrink the full-resolution transformer blocks: their share bounds what it can save
    spent, shares = [0.0], []

    def pre(module, args):
        module._t0 = time.perf_counter()

    def post(module, args, output):
        spent[0] += time.perf_counter() - module._t0

    blocks = list(unet.down_blocks[0].attentions) + list(unet.up_blocks[-1].attentions)
    handles = [b.register_forward_pre_hook(pre) for b in blocks] + [b.register_forward_hook(post) for b in blocks]
    with torch.inference_mode():
        for _ in range(repeats):
            spent[0] = 0.0
            t = time.perf_counter()
            step()
            shares.append(spent[0] / (time.perf_counter() - t))
    for handle in handles:
        handle.remove()
    log(f"micro timings done; load {os.getloadavg()[0]:.1f}")
    out = {k: min(v) for k, v in results.items()}
    out["share of a UNet step in the full-resolution transformer blocks (ToMe's target)"] = sorted(shares)[len(shares) // 2]
    return out


def memory_child(preset: str, size: tuple[int, int], low_memory: bool) -> None:
    """One preset in this process at ``size``: build straight in its dtype, stylise one frame (peak RSS is read
    by the parent)."""
    import torch

    from rotoscope.models.fullsize import build_sd15_pipeline, build_taesd
    from rotoscope.models.options import ModelOptions
    from rotoscope.models.speed import apply_speed, cpu_has_bf16, load_lcm_lora
    from rotoscope.models.tiny_speed import write_random_lora
    from rotoscope.stylize.presets import get_preset

    p = get_preset(preset)
    half = torch.bfloat16 if cpu_has_bf16() else torch.float32
    dtype = half if p.model.get("dtype") == "half" or low_memory else torch.float32  # as the loader picks
    loaded = loaded_model(build_sd15_pipeline(dtype, seed=0), dtype, f"sd15-{preset}")
    if p.model.get("lcm_lora"):
        lora_dir = Path(tempfile.mkdtemp(prefix="rotoscope-bench-lcm-"))
        load_lcm_lora(loaded, str(write_random_lora(loaded.pipe.unet, lora_dir, rank=64, seed=7)))
    if p.model.get("vae") == "tiny":
        loaded.pipe.vae = build_taesd(dtype, seed=3)
    apply_speed(loaded, ModelOptions(low_memory=low_memory))
    from rotoscope.stylize.img2img import DiffusersImg2Img
    from rotoscope.stylize.options import StyleOptions

    style = {"sampler": "Euler a", "steps": 20, "cfg_scale": 7.0, **p.style}
    stylizer = DiffusersImg2Img(loaded, StyleOptions(prompt=PROMPT, seed=1, strength=STRENGTH, width=size[0], height=size[1], **style))
    frame = load_frames(size, 1)[0]
    stylizer.stylize([frame], seed=1, indices=[0])


def memory_rows(size, log):
    rows, data = [], {}
    for preset, low in (("quality", False), ("balanced", False), ("fast", False), ("quality", True), ("fast", True)):
        args = [sys.executable, str(Path(__file__).resolve()), "--child-memory", preset, "--size", f"{size[0]}x{size[1]}"]
        if low:
            args.append("--low-memory")
        peak, seconds, code = child_peak_rss_mb(args)
        label = preset + (" --low-memory" if low else "")
        log(f"memory {label}: {peak / 1024:.2f} GB peak ({seconds:.0f} s, exit {code})")
        rows.append([label, round(peak / 1024, 2), round(seconds, 1), code])
        data[label] = round(peak / 1024, 2)
    return rows, data


def profile_run(result: dict, log) -> None:
    """``--profile``: the machine's matmul peaks, then one UNet step of the fast preset's model (its dtype, LCM-LoRA
    fused, batch 1 at CFG 1, 320×192) op by op; with OpenVINO installed, its whole step against the same FLOPs."""
    import torch

    from roofline import matmul_peaks, profile_step
    from rotoscope.models.engines import OpenVINOUNet, openvino_installed
    from rotoscope.models.fullsize import build_sd15_pipeline
    from rotoscope.models.speed import cpu_has_bf16

    peaks = matmul_peaks()
    log("peaks: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in peaks.items()))
    half = torch.bfloat16 if cpu_has_bf16() else torch.float32
    unet = build_sd15_pipeline(half, seed=0).unet
    x, cond = torch.randn(1, 4, 24, 40, dtype=half), torch.randn(1, 77, 768, dtype=half)
    peak = peaks["bf16" if half == torch.bfloat16 else "fp32"]
    rows, summary = profile_step(lambda: unet(x, 500, encoder_hidden_states=cond), peak)
    dname = "bf16" if half == torch.bfloat16 else "fp32"
    print(f"\nmatmul peaks measured now ({torch.get_num_threads()} threads): fp32 {peaks['fp32']:.3f}, "
          f"bf16 {peaks['bf16']:.4f} TFLOP/s, int8 {peaks['int8']:.3f} TOP/s; CPU matrix units: "
          f"{', '.join(result['cpu_matrix_units']) or 'none'}")
    print(f"one UNet step, {dname}, 320x192, batch 1 (eager PyTorch; fraction = of the {dname} matmul peak)")
    print_table(["op", "calls", "ms", "GFLOP", "TFLOP/s", "fraction of peak", "share of step"], rows)
    result.update(peaks=peaks, profile_dtype=dname, profile=summary,
                  profile_ops={r[0]: {"ms": r[2], "tflops": r[4], "fraction": r[5]} for r in rows if r[3] != "-"})
    result["profile"]["fraction_of_peak"] = round(summary["step_tflops"] / peak, 3) if peak else None
    if openvino_installed():
        ov = OpenVINOUNet(unet, f"sd15-random-{dname}")
        ov(x, 500, cond)  # convert (or read the cache) and compile
        times = []
        for _ in range(3):
            t = time.perf_counter()
            ov(x, 500, cond)
            times.append(time.perf_counter() - t)
        tflops = summary["gflop"] / 1e3 / min(times)
        result["openvino_step"] = {"seconds": round(min(times), 3), "tflops": round(tflops, 3),
                                   "fraction_of_peak": round(tflops / peak, 3) if peak else None,
                                   "precision": ov.precision}
        print(f"the same step in OpenVINO ({ov.precision}): {min(times):.3f} s, {tflops:.3f} TFLOP/s "
              f"({tflops / peak:.2f} of the peak) against eager {summary['step_seconds_profiled']:.3f} s")
    result["load_average_end"] = round(os.getloadavg()[0], 2)
    print_json(result)


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="320x192 only, 3 timed frames per row")
    parser.add_argument("--frames", type=int, default=None, help="timed frames per row (default 3 quick, 10 full)")
    parser.add_argument("--memory", action="store_true", help="only the peak-memory rows at 512x512")
    parser.add_argument("--profile", action="store_true",
                        help="one UNet step of the fast preset op by op (torch.profiler FLOPs) against this CPU's matmul peaks")
    parser.add_argument("--compile", action="store_true", help="add the torch.compile (Inductor) engine row")
    parser.add_argument("--engines-only", action="store_true",
                        help="only the fast preset's row and its engine rows (speedups against the fast row)")
    parser.add_argument("--child-memory", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--size", default="512x512", help=argparse.SUPPRESS)
    parser.add_argument("--low-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    torch.set_flush_denormal(True)
    os.environ.setdefault("ROTOSCOPE_CACHE", tempfile.mkdtemp(prefix="rotoscope-bench-cache-"))
    if args.child_memory:
        memory_child(args.child_memory, parse_size(args.size), args.low_memory)
        return

    from diffusers.utils import logging as dlog

    dlog.set_verbosity_error()
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", file=sys.stderr, flush=True)

    result: dict = {"torch": torch.__version__, "threads": torch.get_num_threads(), "strength": STRENGTH,
                    "load_average_start": round(os.getloadavg()[0], 2)}
    if args.memory:
        rows, data = memory_rows((512, 512), log)
        print_table(["preset at 512x512", "peak RSS GB", "seconds", "exit"], rows)
        result["peak_memory_gb_512"] = data
        print_json(result)
        return

    from rotoscope.models.engines import matrix_units, openvino_installed, resolve_engine

    result["cpu_matrix_units"] = matrix_units()
    from rotoscope.models.fullsize import sd15_unet_config

    with torch.device("meta"):  # a full-size UNet's shape, no memory: what the fast preset runs here
        from diffusers import UNet2DConditionModel

        result["fast_engine"] = resolve_engine("auto", torch.device("cpu"), UNet2DConditionModel(**sd15_unet_config()))
    if args.profile:
        profile_run(result, log)
        return
    ENGINES[:] = (["openvino"] if openvino_installed() else []) + (["compile"] if args.compile else [])
    frames_per_row = args.frames or (3 if args.quick else 10)
    sizes = [(320, 192)] if args.quick else [(320, 192), (512, 512)]
    models = build_models(log, args.engines_only)
    result["frames_per_row"] = frames_per_row
    result["warmup_frames_per_row"] = 1
    for size in sizes:
        tag = f"{size[0]}x{size[1]}"
        frames = load_frames(size, frames_per_row)
        rows = frame_rows(models, size, full=not args.quick, engines_only=args.engines_only)
        time_rows(rows, frames, warmup=1, log=log)
        base = min(rows[0].times)
        table = []
        for row in rows:
            best, mean = min(row.times), sum(row.times) / len(row.times)
            # a reusing row's min is a reused frame (~0 s): its speedup is on the means
            speedup = (f"{sum(rows[0].times) / len(rows[0].times) / mean:.1f}x (means)" if row.stylizer.reuse.reused
                       else f"{base / best:.1f}x")
            table.append([row.label, row.piece, round(best, 3), round(mean, 3), speedup,
                          round(row.unet_calls / len(row.times), 2), row.stylizer.reuse.reused])
        print(f"\nseconds per frame at {tag} (full-size SD 1.5 architecture, random weights; {frames_per_row} frames a row, min / mean)")
        print(f"load average (1 min) during the rows: {result['load_average_start']} at start, {os.getloadavg()[0]:.2f} now")
        print_table(["configuration", "piece", "s/frame", "mean", "speedup", "UNet calls/frame", "frames reused"], table)
        # the fast preset runs the engine --engine auto picks here (its row when measured), else the eager UNet
        fast = next((r for r in rows if r.piece == f"engine {result['fast_engine']}"), None) or next(
            r for r in rows if r.piece == "TAESD")
        result[tag] = {r.label: {"s_per_frame": round(min(r.times), 3), "mean": round(sum(r.times) / len(r.times), 3),
                                 "unet_calls_per_frame": round(r.unet_calls / len(r.times), 2),
                                 "frames_reused": r.stylizer.reuse.reused} for r in rows}
        if size == (320, 192):
            if ENGINES:
                result["engines"] = warm_first_frames(rows, models, frames, size, log)
                for name, quality in engine_quality(rows).items():
                    result["engines"][name].update(quality)
                    result["engines"][name]["speedup"] = round(base / result["engines"][name]["s_per_frame"], 2)
                    torch_fast = next(r for r in rows if r.piece == "TAESD")
                    result["engines"][name]["vs_fast_row"] = round(min(torch_fast.times) / result["engines"][name]["s_per_frame"], 2)
                print("\nengines for the fast preset's UNet (first frame: cold = convert/compile into an empty cache, "
                      "warm = the next process, reading the cache; quality against the fast preset's frames)")
                print_table(["engine", "s/frame", "× fast row", "speedup (× first row)", "first frame cold s",
                             "first frame warm s", "SSIM", "PSNR"],
                            [[k, v["s_per_frame"], f"{v['vs_fast_row']}x", f"{v['speedup']}x", v["cold_first_frame_s"],
                              v["warm_first_frame_s"], v["ssim_vs_fast"], v["psnr_vs_fast"]] for k, v in result["engines"].items()])
        if size == (320, 192) and not args.engines_only:
            balanced = next(r for r in rows if "balanced preset" in r.label)
            result["baseline_s_per_frame"] = round(base, 3)
            result["fast_s_per_frame"] = round(min(fast.times), 3)
            result["balanced_s_per_frame"] = round(min(balanced.times), 3)
            result["speedup"] = round(base / min(fast.times), 2)
            one = next(r for r in rows if r.threads == 1)
            result["fast_1_thread_s_per_frame"] = round(min(one.times), 3)
            result["baseline_mean_s_per_frame"] = round(sum(rows[0].times) / len(rows[0].times), 3)
            result["fast_mean_s_per_frame"] = round(sum(fast.times) / len(fast.times), 3)
            result["mean_speedup"] = round(result["baseline_mean_s_per_frame"] / result["fast_mean_s_per_frame"], 2)
            steps = micro(models, size, log)
            print(f"\nsingle pieces at {tag} (one UNet step / one VAE call, batch 1, min of 3)")
            print_table(["measurement", "seconds (share: fraction)"], [[k, round(v, 3)] for k, v in steps.items()])
            result["micro_320x192"] = {k: round(v, 3) for k, v in steps.items()}
        for row in rows:
            if row.stylizer.step_cache is not None:
                row.stylizer.step_cache.remove()
    if not args.quick:
        del models
        gc.collect()
        rows, data = memory_rows((512, 512), log)
        print("\npeak memory of one frame at 512x512, each preset in its own process")
        print_table(["preset", "peak RSS GB", "seconds", "exit"], rows)
        result["peak_memory_gb_512"] = data
    result["load_average_end"] = round(os.getloadavg()[0], 2)
    result["seconds"] = round(time.perf_counter() - start, 1)
    print_json(result)


if __name__ == "__main__":
    main()
