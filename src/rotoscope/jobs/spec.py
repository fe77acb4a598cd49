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

from ..consistency.options import ConsistencyOptions
from ..errors import OptionError
from ..options import Option, Owner, check_fields, declared, option
from ..media.options import MediaOptions, OutputOptions
from ..methods.keys import KeyOptions
from ..stylize.video_options import VideoOptions
from ..models.options import ModelOptions
from ..stylize.control import ControlOptions, parse_control
from ..stylize.mask_options import MaskOptions
from ..stylize.options import StyleOptions

from ..methods.catalog import METHOD_NAMES, capabilities, methods_with

#: the model sees many frames at once; VideoOptions apply (declared by the methods)
VIDEO_METHODS = methods_with(options="video")
#: keys stylised, the rest propagated along the flow; KeyOptions apply
KEYFRAME_METHODS = methods_with(options="keys")


def _method_names() -> tuple[str, ...]:
    return METHOD_NAMES


@dataclass
class JobSpec:
    source: str
    method: str = option("gif2gif", panel="Method", choices=_method_names, infotext="Method", widget="radio",
                         help="gif2gif (per-frame img2img) | keyframes (TemporalKit: keys stylised together in plates, "
                         "flow propagation) | ebsynth (ControlNet keys, guided propagation) | animatediff (AnimateDiff "
                         "video-to-video, motion module, context windows) | img2vid (Stable Video Diffusion from a still "
                         "or a prompt).")
    media: MediaOptions = field(default_factory=MediaOptions)
    model: ModelOptions = field(default_factory=ModelOptions)
    style: StyleOptions = field(default_factory=StyleOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    mask: MaskOptions = field(default_factory=MaskOptions)  # no mask source = plain img2img
    consistency: ConsistencyOptions = field(default_factory=ConsistencyOptions)  # noise mode: style.noise
    video: VideoOptions = field(default_factory=VideoOptions)  # animatediff / img2vid only
    control: list[ControlOptions] = option(
        factory=list, panel="ControlNet", parse=lambda text: parse_control(text), show=lambda unit: unit.label, split=",",
        infotext="ControlNet", a1111="controlnet",
        help="ControlNet unit TYPE[:WEIGHT[:START-END]], repeatable (multi-ControlNet): canny | tile (no annotator "
        "weights) | depth | softedge | lineart | openpose (annotator models, or --control-image-dir). Weight 0-2 "
        "(default 1); START-END: fraction of the denoising steps (default 0-1).")
    keys: KeyOptions = field(default_factory=KeyOptions)  # keyframes / ebsynth only

    def validate(self) -> None:
        """Every field and every cross-option rule, before anything is decoded or loaded. The faces call this
        and never re-check."""
        check_fields(self)
        self.media.validate()
        # a method without a denoising strength (SVD starts from noise; txt2img runs every step) ignores it
        (self.style if capabilities(self.method).strength else dataclasses.replace(self.style, strength=1.0)).validate()
        self.mask.validate()
        self.consistency.validate()
        if self.model.model.startswith("classic:") and self.consistency.uses("cross-frame-attention"):
            raise OptionError("--consistency cross-frame-attention needs a diffusers model (--model); classic styles have no attention layers.")
        self.output.validate()
        self.keys.validate()
        self.video.validate()
        self._check_owners()
        self._validate_method()
        if not self.model.model.startswith("classic:"):
            self.model.validate()
            from ..models.samplers import resolve_sampler  # imports diffusers: only for model jobs

            resolve_sampler(self.style.sampler)

    def _check_owners(self) -> None:
        """An option set away from its default whose owner (method, technique, mask) is not in this job is
        refused rather than ignored: the user meant something the job would not do."""
        for group in dataclasses.fields(self):
            options = getattr(self, group.name)
            if not dataclasses.is_dataclass(options):
                continue
            for info in declared(type(options), group.name):
                if info.owner is not None:
                    self._check_owner(info, getattr(options, info.field))

    def _check_owner(self, info: Option, value: Any) -> None:
        if value == info.default or self._owner_active(info.owner):
            return
        names = " or ".join(info.owner.names)
        if info.owner.kind == "technique":
            raise OptionError(f"{info.cli_flag} belongs to the {names} technique, which is not in --consistency; "
                              f"add --consistency {info.owner.names[0]} or drop {info.cli_flag}.")
        if info.owner.kind == "method":
            raise OptionError(f"{info.cli_flag} belongs to --method {names}, not {self.method}; "
                              f"pass --method {info.owner.names[0]} or drop {info.cli_flag}.")
        raise OptionError(f"{info.cli_flag} needs a mask: add --mask FILE, --mask-rect, --mask-ellipse, --mask-key "
                          "or --mask-from-alpha.")

    def _owner_active(self, owner: Owner) -> bool:
        if owner.kind == "method":
            return self.method in owner.names
        if owner.kind == "technique":
            return any(self.consistency.uses(name) for name in owner.names)
        return self.mask.active

    def _validate_method(self) -> None:
        """What each method declares it needs (methods/catalog.py), checked before any work."""
        caps = capabilities(self.method)
        if not self.source:
            if caps.needs_source:
                starts = ", ".join(methods_with(needs_source=False))
                raise OptionError(f"a SOURCE (video, GIF, image or folder) is needed; only --method {starts} starts "
                                  "from a prompt alone (-p).")
            if not self.style.prompt.strip():
                raise OptionError(f"--method {self.method} needs a still: give an IMAGE, or -p PROMPT to make one with "
                                  "txt2img first.")
        self._validate_control_and_keys()
        if caps.diffusion_only and self.model.model.startswith("classic:"):
            raise OptionError(f"--method {self.method} needs a diffusion model (--model); classic styles have no motion.")
        if not caps.per_frame:
            how = "carries keyframes along the flow instead" if caps.options == "keys" else "keeps frames steady in the model"
            self._check_not_per_frame(how)

    def _validate_control_and_keys(self) -> None:
        """ControlNet units (img2img / inpaint with a diffusers model) and the keyframe methods' options."""
        for unit in self.control:
            unit.validate()
        if self.control:
            if self.model.model.startswith("classic:"):
                raise OptionError("--control needs a diffusion model (--model); classic styles have no ControlNet.")
            if not capabilities(self.method).control:
                raise OptionError(f"--control works with --method {', '.join(methods_with(control=True))}, "
                                  f"not {self.method}.")
            from ..stylize.control import check_annotators

            check_annotators(self.control)

    def _check_not_per_frame(self, how: str) -> None:
        """Methods that do not stylise frame by frame take no mask and no per-frame consistency technique."""
        if self.mask.active:
            raise OptionError(f"--method {self.method} does not take masks; use --method gif2gif for inpainting.")
        from ..consistency import TECHNIQUES

        model_side = [n for n in self.consistency.techniques if TECHNIQUES[n].stage == "stylize"]
        if model_side:
            raise OptionError(f"--consistency {', '.join(model_side)} works per frame (gif2gif); --method {self.method} {how}. "
                              "Only deflicker (at encoding) combines with it.")

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
        data["media"].pop("shots", None)  # where the cuts are changes what is stylised, not the frames
        if not data["source"]:  # img2vid from a prompt: the frame is the txt2img still
            return _digest({"source": "", "media": data["media"], "model": data["model"], "style": data["style"]})
        return _digest({"source": data["source"], "media": data["media"]})

    def look_key(self) -> str:
        """Identifies the stylised frames (everything but where outputs go)."""
        data = self.normalised()
        data.pop("output")
        if data["media"].get("shots") == "auto":
            data["media"].pop("shots")  # jobs with the default keep the keys they had before shots existed
        if data.get("mask") == dataclasses.asdict(MaskOptions()):
            data.pop("mask")  # jobs without a mask keep the keys (and job dirs) they had before masks existed
        if not (data.get("consistency") or {}).get("techniques"):
            data.pop("consistency", None)  # likewise jobs without consistency techniques (their knobs do nothing)
        if data.get("method") not in VIDEO_METHODS:
            data.pop("video", None)  # video options do nothing for gif2gif: its keys stay as they were
        if not data.get("control"):
            data.pop("control", None)  # jobs without ControlNet keep their keys
        if data.get("method") not in KEYFRAME_METHODS:
            data.pop("keys", None)  # key options do nothing outside the keyframe methods
        from ..stylize.presets import speed_look_fields

        return _digest(speed_look_fields(data))  # speed options: only those that change the look, when set


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
