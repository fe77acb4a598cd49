"""The JSON Schema of a video job's ``options`` (``GET /rotoscope/v1/schema``), generated from the option model.

One generator over :func:`rotoscope.api.options_table`: each option's type, default, choices (``enum``), range
(``minimum`` / ``maximum``, ``exclusiveMinimum`` for an open low end, values allowed outside it as ``anyOf``)
and help (``description``). Nothing is listed by hand; the options a client may not set over HTTP (they name
files on the server) are left out by :data:`vjob_paths.SERVER_FILES`.
"""

from __future__ import annotations

import json
from typing import Any

from .. import api
from ..options import Option
from .vjob_paths import OUTPUT_NAME_PATTERN, SERVER_FILES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string"}


def _json_default(value: Any) -> tuple[bool, Any]:
    """(True, the default as JSON) when the default has a JSON form; ``(False, None)`` otherwise."""
    try:
        return True, json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return False, None


def _range(info: Option) -> dict:
    found: dict[str, Any] = {}
    if info.low is not None:
        found["exclusiveMinimum" if info.low_open else "minimum"] = info.low
    if info.high is not None:
        found["maximum"] = info.high
    return found


def option_schema(info: Option) -> dict:
    """One option as a JSON Schema property."""
    kind = info.base_type
    choices = list(info.choice_list()) if info.choices is not None else []
    if kind is list:  # a list option also takes the text the CLI takes ("a,b")
        item: dict[str, Any] = {"type": "string"}
        if choices and info.strict_choices:
            item["enum"] = choices
        value: dict[str, Any] = {"anyOf": [{"type": "array", "items": item}, {"type": "string"}]}
    else:
        value = {"type": _TYPES.get(kind, "string")}
        if choices and info.strict_choices:
            value["enum"] = choices
        elif choices:
            value["examples"] = choices  # suggestions: other values are taken too (a diffusers class name)
        bounds = _range(info) if kind in (int, float) else {}
        if bounds and info.allow:
            value = {"anyOf": [dict(value, **bounds), *({"const": a} for a in info.allow)]}
        else:
            value.update(bounds)
        if info.parse is not None and kind is not str:  # also written as the CLI writes it ("1.5MB")
            value = {"anyOf": [value, {"type": "string"}]}
    if info.optional:
        value = {"anyOf": [value, {"type": "null"}]}
    value["description"] = info.help
    value["title"] = info.cli_flag
    ok, default = _json_default(info.default)
    if ok:
        value["default"] = default
    return value


def job_schema(models: list[str]) -> dict:
    """The schema of ``options`` in ``POST /rotoscope/v1/jobs``; ``model`` takes the titles in ``models``."""
    properties = {}
    for info in api.options_table():
        if info.key in SERVER_FILES:
            continue
        prop = option_schema(info)
        if info.key == "model":
            prop = {"type": "string", "enum": models, "title": info.cli_flag, "default": models[0] if models else None,
                    "description": "A model title from GET /sdapi/v1/sd-models (default: the server's current model)."}
        elif info.key == "output":
            prop = {"type": "array", "items": {"type": "string", "pattern": OUTPUT_NAME_PATTERN},
                    "title": info.cli_flag, "default": ["output.gif"],
                    "description": "Output file names (no folders); the format from the extension: "
                                   + ", ".join(api.output_formats()) + ". Fetched from /jobs/{id}/outputs/{name}."}
        properties[info.key] = prop
    return {"$schema": DRAFT, "title": "rotoscope video job options", "type": "object",
            "additionalProperties": False, "properties": properties}

