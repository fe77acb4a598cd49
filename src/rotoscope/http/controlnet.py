"""The ControlNet extension's API as it serves it: units in ``alwayson_scripts.ControlNet.args`` on txt2img /
img2img, and its root routes ``/controlnet/version``, ``/model_list``, ``/module_list``, ``/detect``.

A unit maps onto the option model's ``control`` units (type, weight, guidance start/end): its module is the
annotator, its model names the type. The map is made here, from the unit's image (or the init image), and given
to the job as a precomputed control frame (``control_image_dir``), so the map used is the map answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Body
from PIL import Image

from .. import api
from .errors import ApiError
from .images import decode_image, png_base64

API_VERSION = 2  # what the extension's /controlnet/version answers
RESIZE_MODES = ("Just Resize", "Crop and Resize", "Resize and Fill")
_RESIZE_ALIASES = {"inner fit (scale to fit)": "Crop and Resize", "outer fit (shrink to fit)": "Resize and Fill",
                   "scale to fit (inner fit)": "Crop and Resize", "envelope (outer fit)": "Resize and Fill"}
CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important")
_HASH = re.compile(r"\s*\[[0-9a-fA-F]+\]$")


@dataclass
class Unit:
    kind: str  # our control type: which ControlNet
    module: str  # the extension's module: which annotator ("none": the image is the map)
    weight: float
    start: float
    end: float
    image: Image.Image | None  # None: the init image
    save_map: bool

    @property
    def control(self) -> str:
        return f"{self.kind}:{self.weight:g}:{self.start:g}-{self.end:g}"


def _choice(field: str, value: Any, names: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, str):
        text = (aliases or {}).get(value.lower(), value)
        for name in names:
            if name.lower() == text.lower():
                return name
    raise ApiError(422, f"{field} {value!r} is not one of {', '.join(names)} (or 0-{len(names) - 1})")


def _model_kind(model: Any) -> str | None:
    name = _HASH.sub("", str(model or "None")).strip()
    if name.lower() in ("", "none"):
        return None
    for known, kind in api.control_models().items():
        if known.lower() == name.lower():
            return kind
    raise ApiError(422, f"model({model}) not found in supported models.")


def _module_kind(module: Any) -> tuple[str, str | None]:
    modules = api.control_modules()
    name = str(module or "none").lower()
    if name not in modules:
        raise ApiError(422, f"module({module}) not found in supported modules.")
    return name, modules[name]


def _image(raw: dict, field: str, max_pixels: int) -> Image.Image | None:
    value = raw.get("image", raw.get("input_image"))
    if isinstance(value, dict):  # {"image": ..., "mask": ...}
        value = value.get("image")
    if isinstance(value, (list, tuple)) and value:  # [image, mask]
        value = value[0]
    return decode_image(value, field, max_pixels) if value else None


def _number(raw: dict, key: str, default: float, low: float, high: float, where: str) -> float:
    value = raw.get(key, default)
    try:
        number = float(default if value is None else value)
    except (TypeError, ValueError):
        raise ApiError(422, f"{where}: {key} must be a number, not {value!r}") from None
    if not low <= number <= high:
        raise ApiError(422, f"{where}: {key} {number:g} must be between {low:g} and {high:g}")
    return number


def read_units(scripts: dict, max_pixels: int) -> list[Unit]:
    """The enabled units of ``alwayson_scripts.ControlNet`` (found case-insensitively), checked whole."""
    script = next((v for k, v in scripts.items() if k.lower() == "controlnet"), None)
    args = (script or {}).get("args") if isinstance(script, dict) else None
    units = []
    for i, raw in enumerate(args or []):
        where = f"ControlNet unit {i}"
        if not isinstance(raw, dict):
            raise ApiError(422, f"{where}: expected a unit object (module, model, image, weight, ...)")
        if not raw.get("enabled", True):
            continue  # a disabled unit is ignored, as the extension does
        module, module_kind = _module_kind(raw.get("module"))
        kind = _model_kind(raw.get("model")) or module_kind
        if kind is None:
            raise ApiError(422, f"{where}: module none needs a model naming its type (GET /controlnet/model_list)")
        _choice(f"{where}: resize_mode", raw.get("resize_mode", 1), RESIZE_MODES, _RESIZE_ALIASES)
        _choice(f"{where}: control_mode", raw.get("control_mode", 0), CONTROL_MODES)
        start = _number(raw, "guidance_start", 0.0, 0, 1, where)
        end = _number(raw, "guidance_end", raw.get("guidance", 1.0), 0, 1, where)
        if start >= end:
            raise ApiError(422, f"{where}: guidance_start({start:g}) must be less than guidance_end({end:g})")
        units.append(Unit(kind, module, _number(raw, "weight", 1.0, 0, 2, where), start, end,
                          _image(raw, f"{where}: image", max_pixels), bool(raw.get("save_detected_map", True))))
    return units


def make_map(module: str, image: Image.Image) -> np.ndarray:
    """The control map of ``module`` for ``image`` (RGB, its size); "none": the image itself."""
    pixels = np.asarray(image.convert("RGB"))
    kind = api.control_modules()[module]
    return pixels if kind is None else np.asarray(api.control_map(pixels, kind))


def prepare(units: list[Unit], init: Image.Image | None, folder: Path) -> tuple[dict, list[np.ndarray]]:
    """The job options for ``units`` (``control`` + one folder of one precomputed map each) and the maps."""
    maps, dirs = [], []
    for i, unit in enumerate(units):
        source = unit.image if unit.image is not None else init
        if source is None:
            raise ApiError(422, f"ControlNet unit {i}: no image (txt2img needs each unit's image)")
        control = make_map(unit.module, source)
        where = folder / f"control-{i}"
        where.mkdir()
        Image.fromarray(control).save(where / "0000.png")
        maps.append(control)
        dirs.append(str(where))
    if not units:
        return {}, []
    return {"control": [u.control for u in units], "control_image_dir": dirs}, maps


# the precomputed maps' folder is the server's business: the infotext names the module, as the extension's does
_PRECOMPUTED = re.compile(r'Module: precomputed, (?P<rest>[^"]*?), Type: (?P<type>[a-z]+), Image dir: [^"]*')


def public_infotext(text: str, units: list[Unit]) -> str:
    names = iter([u.module for u in units])
    return _PRECOMPUTED.sub(lambda m: f"Module: {next(names, m['type'])}, {m['rest']}", text)


def router(max_pixels: int) -> APIRouter:
    r = APIRouter(prefix="/controlnet")

    @r.get("/version")
    async def version() -> dict:
        return {"version": API_VERSION}

    @r.get("/model_list")
    async def model_list() -> dict:
        return {"model_list": list(api.control_models())}

    @r.get("/module_list")
    async def module_list() -> dict:
        modules = list(api.control_modules())
        return {"module_list": modules,
                "module_detail": {m: {"model_free": False, "sliders": []} for m in modules}}

    @r.post("/detect")
    def detect(body: dict[str, Any] = Body(...)) -> dict:
        module = str(body.get("controlnet_module") or "none").lower()
        if module not in api.control_modules():
            raise ApiError(422, "Module not available")
        images = body.get("controlnet_input_images") or body.get("controlnet_images") or []
        if not images:
            raise ApiError(422, "No image selected")
        out = [png_base64(make_map(module, decode_image(img, f"controlnet_input_images[{i}]", max_pixels)))
               for i, img in enumerate(images)]
        return {"images": out, "info": "Success"}

    return r
