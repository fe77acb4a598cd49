"""JobSpec: every option of a job in one dataclass that round-trips through JSON.

The CLI, the web UI and the Python API all build a JobSpec; none keeps its own
defaults. Unknown keys in an older or newer job.json are ignored and missing
ones take today's defaults, so job dirs survive upgrades.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from ..errors import OptionError
from ..media.options import MediaOptions, OutputOptions
from ..models.options import ModelOptions
from ..stylize.options import StyleOptions

METHODS = ("gif2gif",)


@dataclass
class JobSpec:
    source: str
    method: str = "gif2gif"
    media: MediaOptions = field(default_factory=MediaOptions)
    model: ModelOptions = field(default_factory=ModelOptions)
    style: StyleOptions = field(default_factory=StyleOptions)
    output: OutputOptions = field(default_factory=OutputOptions)

    def validate(self) -> None:
        if self.method not in METHODS:
            raise OptionError(f"--method {self.method!r} is not known; use one of {', '.join(METHODS)}.")
        self.media.validate()
        self.style.validate()
        self.output.validate()
        if not self.model.model.startswith("classic:"):
            self.model.validate()
            from ..models.samplers import resolve_sampler  # imports diffusers: only for model jobs

            resolve_sampler(self.style.sampler)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        return _build(cls, data)

    @classmethod
    def from_json(cls, text: str) -> "JobSpec":
        return cls.from_dict(json.loads(text))

    def normalised(self) -> dict[str, Any]:
        """The spec as job.json stores it (ints given for floats become floats), so keys match after a reload."""
        return JobSpec.from_dict(self.to_dict()).to_dict()

    def frames_key(self) -> str:
        """Identifies the source frames: same source + media options → same frames."""
        data = self.normalised()
        return _digest({"source": data["source"], "media": data["media"]})

    def look_key(self) -> str:
        """Identifies the stylised frames (everything but where outputs go)."""
        data = self.normalised()
        data.pop("output")
        return _digest(data)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def _build(cls: type, data: dict[str, Any]) -> Any:
    """Instantiate dataclass ``cls`` from plain JSON data, recursing into nested dataclasses."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _build(hint, value)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return [_convert(item, v) for v in value]
    if origin is tuple:
        args = typing.get_args(hint)
        return tuple(_convert(a, v) for a, v in zip(args, value)) if args else tuple(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value
