"""Where a UNet step's time goes (``bench/speed.py --profile``): the machine's own matmul peaks, measured in
the same run, and a per-op table of one UNet step (torch.profiler with FLOP counting) with each op's
achieved TFLOP/s and its fraction of the peak of the dtype it ran in (the roofline fraction)."""

from __future__ import annotations

import time


def _best_seconds(fn, budget: float = 2.0, least: int = 2) -> float:
    """Min over repeats of ``fn`` (at least ``least`` runs, more while under ``budget`` seconds)."""
    fn()  # warm-up: oneDNN / MKL pick and prepare their kernels
    times, start = [], time.perf_counter()
    while len(times) < least or (time.perf_counter() - start < budget and len(times) < 20):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def matmul_peaks() -> dict[str, float]:
    """TFLOP/s (TOP/s for int8) of square matmuls on this machine, its threads: fp32 and bf16 at 2048
    (bf16 at 512 first: without native bf16 it is emulated and orders of magnitude slower), int8 → int32
    (``torch._int_mm``, the AMX-INT8 / VNNI path where there is one) at 2048."""
    import torch

    out: dict[str, float] = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        n = 2048
        if dtype == torch.bfloat16:
            a = torch.randn(512, 512, dtype=dtype)
            probe = _best_seconds(lambda: a @ a, budget=0.0, least=1)
            if 2 * 512**3 / probe < 50e9:  # emulated: the 2048² one would take minutes
                n = 512
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        out[name] = 2 * n**3 / _best_seconds(lambda: a @ b) / 1e12
    try:
        a8 = torch.randint(-128, 127, (2048, 2048), dtype=torch.int8)
        out["int8"] = 2 * 2048**3 / _best_seconds(lambda: torch._int_mm(a8, a8)) / 1e12
    except (RuntimeError, AttributeError) as exc:  # no int8 matmul kernel on this build / CPU
        out["int8"] = 0.0
        out["int8_error"] = str(exc).splitlines()[0][:80]  # type: ignore[assignment]
    return out


def profile_step(step, peak: float, top: int = 14) -> tuple[list[list], dict]:
    """Profile one call of ``step`` (after a warm-up call). Rows: op, calls, ms, GFLOP, TFLOP/s, fraction
    of ``peak`` (TFLOP/s), share of the step; the ops that count FLOPs first, then the rest by time."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        step()
        t = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
            step()
        wall = time.perf_counter() - t
    events = [e for e in prof.key_averages() if not e.key.startswith("ProfilerStep")]
    # an op's own children (conv2d → mkldnn_convolution) hold its time: FLOP ops are timed with children
    flop_ops = sorted((e for e in events if e.flops), key=lambda e: -e.cpu_time_total)
    total_flops = sum(e.flops for e in flop_ops)
    rows = []
    for e in flop_ops:
        seconds = e.cpu_time_total / 1e6
        tflops = e.flops / seconds / 1e12 if seconds else 0.0
        rows.append([e.key, e.count, round(seconds * 1e3, 1), round(e.flops / 1e9, 1), round(tflops, 3),
                     round(tflops / peak, 2) if peak else "-", round(seconds / wall, 3)])
    flop_time = sum(e.cpu_time_total for e in flop_ops) / 1e6
    children = {"aten::mkldnn_convolution", "aten::convolution", "aten::_convolution", "aten::addmm", "aten::mm",
                "aten::bmm", "aten::matmul", "aten::linear", "aten::baddbmm"}
    rest = sorted((e for e in events if not e.flops and e.key not in children and e.self_cpu_time_total > 0),
                  key=lambda e: -e.self_cpu_time_total)[: max(0, top - len(rows))]
    for e in rest:
        rows.append([e.key + " (self)", e.count, round(e.self_cpu_time_total / 1e3, 1), "-", "-", "-",
                     round(e.self_cpu_time_total / 1e6 / wall, 3)])
    summary = {"step_seconds_profiled": round(wall, 3), "gflop": round(total_flops / 1e9, 1),
               "step_tflops": round(total_flops / wall / 1e12, 3), "flop_ops_share": round(flop_time / wall, 3)}
    return rows, summary
