"""A web UI request body → the option model's values, through each option's ``a1111`` name.

Only the fields below have a meaning here; every other field (and every null) is accepted and ignored,
as the web UI does, because clients send their whole parameter set.
"""

from __future__ import annotations

from typing import Any

from ..api import options_table, sampler_names
from .errors import ApiError

RESIZE_MODES = ("just-resize", "crop-and-resize", "resize-and-fill", "just-resize")  # 3: latent upscale
MASKED_CONTENT = ("fill", "original", "latent-noise", "latent-nothing")
# fields with an a1111 name that this face fills itself, or that mean something else here
_OWN = {"mask", "batch_size", "sd_model_checkpoint", "sampler_name", "controlnet"}
_MASK_ONLY = {"mask_blur", "inpaint_full_res", "inpaint_full_res_padding", "inpainting_fill", "inpainting_mask_invert"}
_SCHEDULERS = ("automatic", "karras")


def _by_a1111() -> dict[str, str]:
    return {o.a1111: o.key for o in options_table() if o.a1111}


def _read(field: str, value: Any) -> Any:
    if field == "resize_mode":
        return RESIZE_MODES[_index(field, value, len(RESIZE_MODES))]
    if field == "inpainting_fill":
        return MASKED_CONTENT[_index(field, value, len(MASKED_CONTENT))]
    if field == "inpaint_full_res":
        return "only-masked" if value else "whole"
    if field == "inpainting_mask_invert":
        return bool(value)
    return value


def _index(field: str, value: Any, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
        raise ApiError(422, f"{field} must be an integer from 0 to {count - 1}, not {value!r}")
    return value


def sampler(body: dict) -> str:
    """``sampler_name`` (or the older ``sampler_index``) joined with ``scheduler`` when it names one we have
    ("DPM++ 2M" + "karras"); 404 "Sampler not found" as the web UI for a name it does not know."""
    name = body.get("sampler_name") or body.get("sampler_index") or "Euler a"
    known = {n.lower(): n for n in sampler_names()}
    scheduler = str(body.get("scheduler") or "automatic").lower()
    if scheduler not in _SCHEDULERS:
        raise ApiError(404, "Scheduler not found")
    if scheduler == "karras" and f"{name} karras".lower() in known:
        name = f"{name} Karras"
    if str(name).lower() not in known:
        raise ApiError(404, "Sampler not found")
    return known[str(name).lower()]


def image_count(body: dict, cap: int) -> int:
    count = int(body.get("batch_size") or 1) * int(body.get("n_iter") or 1)
    if not 1 <= count <= cap:
        raise ApiError(422, f"batch_size × n_iter is {count}; this server makes 1 to {cap} images per request")
    return count


def look_options(body: dict, *, masked: bool) -> dict[str, Any]:
    """The job options a request sets (``None`` = not given, so the declared default applies)."""
    values: dict[str, Any] = {}
    for field, key in _by_a1111().items():
        value = body.get(field)
        if value is None or field in _OWN or (field in _MASK_ONLY and not masked):
            continue
        values[key] = _read(field, value)
    if values.get("seed") is not None and int(values["seed"]) < -1:
        values["seed"] = -1  # the web UI treats any negative seed as "random"
    values["sampler"] = sampler(body)
    return values


def echo(body: dict) -> dict:
    """The request as the response's ``parameters``: images left out (the web UI strips them too)."""
    return {k: (None if k in ("init_images", "mask") else v) for k, v in body.items()}
