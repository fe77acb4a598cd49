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
from typing import Any
from importlib import metadata
from pathlib import Path

import av
from PIL import Image

from ..errors import InputError, RotoscopeError
from ..options import Option
from ..stylize.control import control_infotext_fields, read_control_fields
from .spec import JobSpec
from .table import by_name, job_options

# The web UI's own pattern: "Key: value" pairs, values optionally JSON-quoted.
_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def _quote(value: str) -> str:
    return json.dumps(value) if any(c in value for c in ',:"\n') else value


#: written even at their defaults: what a web-UI user expects to see in every infotext
_ALWAYS = ("Steps", "Sampler", "CFG scale", "Seed", "Model", "Denoising strength", "Resize mode", "Noise", "Method")
#: prompt and negative prompt are lines of their own; the processing size is the web UI's "Size: WxH"
_OWN_LINES = ("Prompt", "Negative prompt")


#: the web UI's order for the keys it writes; ours follow in table order
_ORDER = ("Steps", "Sampler", "CFG scale", "Seed", "Model", "VAE", "Denoising strength", "Clip skip")


def _recorded() -> list[Option]:
    """The options infotext records, the web UI's keys first in its order."""
    found = [o for o in job_options() if o.infotext and o.infotext not in _OWN_LINES]
    return sorted(found, key=lambda o: _ORDER.index(o.infotext) if o.infotext in _ORDER else len(_ORDER))


def _get(spec: JobSpec, info: Option) -> Any:
    return getattr(getattr(spec, info.group), info.field) if info.group else getattr(spec, info.field)


def _show(info: Option, value: Any) -> str:
    if info.base_type is list and info.show is None:
        return f"{info.split or ';'} ".join(str(v) for v in value)
    return info.format(value)


def format_infotext(spec: JobSpec, *, seed: int, size: tuple[int, int] | None = None) -> str:
    """The settings line (web-UI layout) for ``spec``: every recorded option that differs from its default,
    and the ones a web-UI user expects always. ``size``: the processing size actually used."""
    fields: dict[str, str] = {}
    for info in _recorded():
        value = _get(spec, info)
        if info.key == "seed":
            value = seed
        if info.key == "control":
            fields.update(control_infotext_fields(value))
            continue
        if value == info.default and info.infotext not in _ALWAYS:
            continue
        if value is None:
            continue
        fields[info.infotext] = _show(info, value)
        if info.key == "seed" and size:  # the web UI's order: … Seed, Size, Model …
            fields["Size"] = f"{size[0]}x{size[1]}"
    if not size and spec.style.width and spec.style.height:
        fields["Size"] = f"{spec.style.width}x{spec.style.height}"
    fields = _with_hashes(fields, spec)
    fields["Version"] = f"rotoscope {metadata.version('rotoscope') if _installed() else 'dev'}"
    lines = [spec.style.prompt]
    if spec.style.negative_prompt:
        lines.append(f"Negative prompt: {spec.style.negative_prompt}")
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in fields.items()))
    return "\n".join(lines)


def _with_hashes(fields: dict[str, str], spec: JobSpec) -> dict[str, str]:
    """The web UI's ``Model hash`` (before ``Model``) and ``Lora hashes`` for model files on disk."""
    from ..models.files import lora_short_hash, short_hash

    path = Path(str(spec.model.model)).expanduser()
    out: dict[str, str] = {}
    for key, value in fields.items():
        if key == "Model" and path.is_file():
            out["Model hash"] = short_hash(path)
        out[key] = value
    loras = [Path(str(f)).expanduser() for f, _ in spec.model.loras]
    if "<lora:" in spec.style.prompt or "<lyco:" in spec.style.prompt:
        from ..models.files import resolve_prompt_loras

        try:
            loras += [Path(f) for f, _ in resolve_prompt_loras(spec.style.prompt, spec.model.models_dir)[1]]
        except RotoscopeError:
            pass
    if loras and all(p.is_file() for p in loras):
        out["Lora hashes"] = ", ".join(f"{p.stem}: {lora_short_hash(p)}" for p in loras)
    return out


def with_redone(infotext: str, frames: list[int]) -> str:
    """An animated output's infotext: the job's own settings, and which frames were made with others
    (their settings are in job.json), e.g. ``Redone frames: "2-3,7 (see job.json)"``."""
    if not frames:
        return infotext
    runs: list[list[int]] = []
    for i in frames:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    shown = ",".join(f"{a}-{b}" if b > a else str(a) for a, b in runs)
    return f"{infotext}, Redone frames: {_quote(shown + ' (see job.json)')}"


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


def _read(info: Option, text: str) -> Any:
    if info.base_type is list:
        parts = [p.strip() for p in text.split(info.split or ";")]
        return [info.parse(p) if info.parse else p for p in parts if p]
    return info.read(text)


def apply_infotext(spec: JobSpec, text: str) -> JobSpec:
    """A copy of ``spec`` with every option the infotext records (prompt, seed, sampler, masks, units, …).
    Keys the web UI writes that we have no option for ("Model hash", "Version", …) are ignored."""
    prompt, negative, params = parse_infotext(text)
    values: dict[str, Any] = {"prompt": prompt, "negative_prompt": negative}
    by_key = {o.infotext: o for o in _recorded()}
    try:
        for key, raw in params.items():
            info = by_key.get(key)
            if info is not None and info.key != "control":
                values[info.key] = _read(info, raw)
        if "Size" in params:
            w, h = params["Size"].lower().split("x")
            values["process_width"], values["process_height"] = int(w), int(h)
        units = read_control_fields(params)
        if units:
            values["control"] = units
    except (ValueError, RotoscopeError) as exc:
        raise InputError(f"infotext has a value that cannot be read ({exc}); check the pasted text.") from exc
    groups: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    table = by_name()
    for name, value in values.items():
        info = table[name]
        if info.group:
            groups.setdefault(info.group, {})[info.field] = value
        else:
            top[info.field] = value
    for group, fields in groups.items():
        top[group] = replace(getattr(spec, group), **fields)
    return replace(spec, **top)


def read_infotext(source: str) -> str:
    """Infotext from one of our PNG / GIF / MP4 / WebP / APNG files, a text file, or the text itself."""
    path = Path(source)
    try:
        exists = path.exists()
    except OSError:  # a long pasted infotext is no file name ("File name too long")
        exists = False
    if not exists:
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
