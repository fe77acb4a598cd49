"""A1111-style infotext: the settings line users paste between tools.

    a cup, ink drawing
    Negative prompt: blurry
    Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 320x240, Model: tiny, Denoising strength: 0.3

Written into every output frame's PNG ("parameters" chunk, where the web UI
puts it), the GIF comment and the MP4 comment; ``rotoscope run --from`` reads
it back from any of those, or from pasted text.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import av
from PIL import Image

from ..errors import InputError
from .spec import JobSpec

# The web UI's own pattern: "Key: value" pairs, values optionally JSON-quoted.
_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def _quote(value: str) -> str:
    return json.dumps(value) if any(c in value for c in ',:"\n') else value


def format_infotext(spec: JobSpec, *, seed: int, size: tuple[int, int] | None = None) -> str:
    style, model = spec.style, spec.model
    fields: dict[str, str] = {
        "Steps": str(style.steps),
        "Sampler": style.sampler,
        "CFG scale": _fmt_number(style.cfg_scale),
        "Seed": str(seed),
    }
    if size:
        fields["Size"] = f"{size[0]}x{size[1]}"
    fields["Model"] = model.model
    if model.vae:
        fields["VAE"] = model.vae
    fields["Denoising strength"] = _fmt_number(style.strength)
    if style.clip_skip != 1:
        fields["Clip skip"] = str(style.clip_skip)
    fields["Resize mode"] = style.resize_mode
    fields["Noise"] = style.noise
    if model.lcm_lora:
        fields["LCM-LoRA"] = model.lcm_lora
    if style.timestep_spacing != "auto":
        fields["Schedule type"] = style.timestep_spacing
    if style.step_cache > 1:
        fields["Step cache"] = str(style.step_cache)
    if style.reuse_threshold > 0:
        fields["Reuse threshold"] = _fmt_number(style.reuse_threshold)
    if model.loras:
        fields["Lora"] = "; ".join(f"{p}:{_fmt_number(w)}" for p, w in model.loras)
    fields["Method"] = spec.method
    if spec.consistency.techniques:
        fields["Consistency"] = ", ".join(spec.consistency.techniques)
    if spec.control:
        from ..stylize.control import control_infotext_fields

        fields.update(control_infotext_fields(spec.control))
    fields["Version"] = f"rotoscope {metadata.version('rotoscope') if _installed() else 'dev'}"
    lines = [style.prompt]
    if style.negative_prompt:
        lines.append(f"Negative prompt: {style.negative_prompt}")
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in fields.items()))
    return "\n".join(lines)


def _installed() -> bool:
    try:
        metadata.version("rotoscope")
        return True
    except metadata.PackageNotFoundError:
        return False


def parse_infotext(text: str) -> tuple[str, str, dict[str, str]]:
    """(prompt, negative prompt, {key: value}) as the web UI parses it."""
    lines = text.strip().split("\n")
    params: dict[str, str] = {}
    if lines and len(_PAIR.findall(lines[-1])) >= 3:
        for key, value in _PAIR.findall(lines.pop()):
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                value = json.loads(value)
            params[key.strip()] = value
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt).append(line)
    return "\n".join(prompt).strip(), "\n".join(negative).strip(), params


# Infotext key → (which options, field, how to read the value). Keys the web UI
# writes that we have no option for ("Model hash", "Version", …) are ignored.
_FIELDS: dict[str, tuple[str, str, type]] = {
    "Steps": ("style", "steps", int),
    "Sampler": ("style", "sampler", str),
    "CFG scale": ("style", "cfg_scale", float),
    "Seed": ("style", "seed", int),
    "Denoising strength": ("style", "strength", float),
    "Clip skip": ("style", "clip_skip", int),
    "Resize mode": ("style", "resize_mode", str),
    "Noise": ("style", "noise", str),
    "Schedule type": ("style", "timestep_spacing", str),
    "Step cache": ("style", "step_cache", int),
    "Reuse threshold": ("style", "reuse_threshold", float),
    "Model": ("model", "model", str),
    "VAE": ("model", "vae", str),
    "LCM-LoRA": ("model", "lcm_lora", str),
}


def apply_infotext(spec: JobSpec, text: str) -> JobSpec:
    """A copy of ``spec`` with the look (prompt, seed, sampler, …) taken from infotext."""
    prompt, negative, p = parse_infotext(text)
    options = {"style": replace(spec.style, prompt=prompt, negative_prompt=negative), "model": replace(spec.model)}
    try:
        for key, (group, name, read) in _FIELDS.items():
            if key in p:
                setattr(options[group], name, read(p[key]))
        if "Size" in p:
            w, h = p["Size"].lower().split("x")
            options["style"].width, options["style"].height = int(w), int(h)
        if "Lora" in p:
            options["model"].loras = [(path, float(w)) for path, _, w in (item.strip().rpartition(":") for item in p["Lora"].split(";"))]
    except ValueError as exc:
        raise InputError(f"infotext has a value that cannot be read ({exc}); check the pasted text.") from None
    spec = replace(spec, style=options["style"], model=options["model"], method=p.get("Method", spec.method))
    if "Consistency" in p:
        from ..consistency.options import ConsistencyOptions

        spec = replace(spec, consistency=ConsistencyOptions(techniques=[t.strip() for t in p["Consistency"].split(",")]))
    return spec


def read_infotext(source: str) -> str:
    """Infotext from one of our PNG / GIF / MP4 / WebP / APNG files, a text file, or the text itself."""
    path = Path(source)
    if not path.exists():
        if "Steps:" in source or "\n" in source:
            return source
        raise InputError(f"--from {source!r}: no such file, and it is not infotext; give an output of ours or paste the settings.")
    suffix = path.suffix.lower()
    if suffix in (".png", ".gif", ".apng", ".webp", ".jpg", ".jpeg"):
        with Image.open(path) as image:
            text = image.info.get("parameters") or image.info.get("comment")
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if text:
            return text
    if suffix in (".mp4", ".mov", ".mkv", ".apng", ".png"):
        with av.open(str(path)) as container:
            text = container.metadata.get("comment")
        if text:
            return text
    if suffix in (".txt", ".json", ""):
        return path.read_text()
    raise InputError(f"{path} carries no rotoscope/web-UI settings; pick a file rotoscope wrote, or paste the infotext.")
