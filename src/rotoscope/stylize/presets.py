"""Speed presets: ``--preset quality | balanced | fast`` set the speed pieces; every piece is also its own option.

A preset only fills in what the user did not give: ``--preset fast --steps 6``
runs 6 LCM steps. The spec stores the resolved pieces (not the preset's name),
so a job's look is fully described by its options, as before.

Measured by ``bench/speed.py --quick`` (full-size SD 1.5 architecture, 320×192,
strength 0.3, 2-core CPU): quality 17.9 s a frame, balanced 6.7 s, fast 0.85 s;
see README "Speed".

| preset | what it sets | what it gives up |
| --- | --- | --- |
| quality | nothing: full precision (fp32 CPU / fp16 CUDA), your sampler, steps, CFG, the model's VAE | nothing; the slowest |
| balanced | half precision (bf16 CPU / fp16 CUDA) + step cache every 2nd step | bf16 rounding (pixels differ slightly, same look); outer-blocks-only steps lose a little fine detail |
| fast | half precision + LCM-LoRA (LCM sampler, 4 steps, CFG 1: no unconditional pass) + TAESD + the fastest UNet engine verified here (``--engine auto``) | CFG and the negative prompt (ignored at CFG 1), sampler choice, some detail (LCM look, TAESD decoder); needs the LCM-LoRA + TAESD downloads |

With an SD-Turbo / SDXL-Turbo model (``turbo`` in its name) ``fast`` uses the
model's own few-step settings instead of an LCM-LoRA: 2 steps, CFG 0,
trailing timestep spacing, Euler a.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import OptionError
from ..notices import notice


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    gives_up: str
    model: dict = field(default_factory=dict)  # ModelOptions fields
    style: dict = field(default_factory=dict)  # StyleOptions fields
    turbo_style: dict | None = None  # instead of ``style`` (and no LCM-LoRA) for SD-Turbo style models


PRESETS: dict[str, Preset] = {
    "quality": Preset(
        "quality", "full precision, your sampler / steps / CFG, the model's VAE",
        "nothing; the slowest (2-core CPU: ~18 s a frame for SD 1.5 at 320×192, 20 steps × 0.3; bench/speed.py)",
        model=dict(dtype="auto", attention="sdpa"),
        style=dict(step_cache=0),
    ),
    "balanced": Preset(
        "balanced", "half precision (bf16 on CPU, fp16 on CUDA) + step cache (full UNet every 2nd step)",
        "bf16/fp16 rounding (pixels differ slightly, same look); on the cached steps only the outer UNet blocks "
        "are recomputed (a little fine detail)",
        model=dict(dtype="half", attention="sdpa"),
        style=dict(step_cache=2),
    ),
    "fast": Preset(
        "fast", "half precision + LCM-LoRA (LCM sampler, 4 steps, CFG 1: no unconditional pass) + TAESD (--vae tiny) "
        "+ the UNet in OpenVINO when installed (--engine auto)",
        "CFG and the negative prompt (ignored at CFG 1), the sampler choice, some detail (LCM's look, TAESD's "
        "decoder); needs the LCM-LoRA and TAESD downloads (or local files)",
        model=dict(dtype="half", attention="sdpa", lcm_lora="auto", vae="tiny", engine="auto"),
        style=dict(sampler="LCM", steps=4, cfg_scale=1.0, step_cache=0),
        turbo_style=dict(sampler="Euler a", steps=2, cfg_scale=0.0, timestep_spacing="trailing", step_cache=0),
    ),
}


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(name: str) -> Preset:
    key = str(name).strip().lower()
    if key not in PRESETS:
        raise OptionError(f"--preset {name!r} is not known; use one of {', '.join(PRESETS)}.")
    return PRESETS[key]


def apply_preset(spec, name: str | None, given: set[str] | frozenset[str] = frozenset()):
    """``spec`` with preset ``name``'s pieces, except the fields named in ``given`` (the user's own choices).

    ``dtype="auto"`` counts as not given (it is the option's default)."""
    if not name:
        return spec
    from ..models.speed import is_turbo_model

    preset = get_preset(name)
    turbo = preset.turbo_style is not None and is_turbo_model(spec.model.model)
    style_values = preset.turbo_style if turbo else preset.style
    model_values = {k: v for k, v in preset.model.items() if not (turbo and k == "lcm_lora")}
    if spec.model.dtype != "auto":
        given = set(given) | {"dtype"}
    model = replace(spec.model, **{k: v for k, v in model_values.items() if k not in given})
    style = replace(spec.style, **{k: v for k, v in style_values.items() if k not in given})
    if style.cfg_scale <= 1 and style.negative_prompt.strip():
        notice(f"--preset {preset.name} runs at CFG {style.cfg_scale:g}: the negative prompt has no effect (no unconditional pass).")
    return replace(spec, model=model, style=style)


def speed_look_fields(data: dict) -> dict:
    """For JobSpec.look_key: drop speed options that never change the look (threads, memory modes,
    attention kernel, memory format, compile, engine) and look-changing ones still at their defaults, so job
    dirs made before the speed options existed keep their keys."""
    model, style = data.get("model") or {}, data.get("style") or {}
    for key in ("threads", "low_memory", "attention", "channels_last", "compile", "engine"):
        model.pop(key, None)
    if model.get("lcm_lora") is None:
        model.pop("lcm_lora", None)
    for key, default in (("timestep_spacing", "auto"), ("reuse_threshold", 0.0), ("step_cache", 0)):
        if style.get(key, default) == default:
            style.pop(key, None)
    return data
