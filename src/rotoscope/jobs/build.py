"""Build a JobSpec from the values a face was given, by option name — the one way every face builds one.

Order: the defaults, then ``--from`` infotext, then every value the user gave, then the preset for the
speed options nobody gave. Values may be typed (Python API) or text (CLI, page); text is read by the
option's declaration. Nothing is checked twice: :meth:`JobSpec.validate` is the one validation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..consistency.options import parse_consistency
from ..errors import OptionError
from ..options import Option
from ..stylize.control import ControlOptions, assign_control_extras
from .spec import JobSpec
from .table import WHERE, lookup


def _value(info: Option, value: Any) -> Any:
    if info.base_type is list:
        return info.read_list(value)
    if isinstance(value, str) and info.base_type is not str:
        return info.read(value)
    if isinstance(value, str) and info.parse is not None:
        return info.parse(value)
    return value


def build_spec(source: str | None, values: Mapping[str, Any], *, validate: bool = True) -> JobSpec:
    """A JobSpec from ``values`` (option names → values; ``None`` means not given)."""
    given = {}
    for name, value in values.items():
        info = lookup(name)
        if value is not None:
            given[name] = (info, _value(info, value))
    spec = JobSpec(source=str(source) if source is not None else "")
    for name in WHERE:  # where the job runs is not part of it (api.stylize hands these to an executor)
        given.pop(name, None)
    from_ = given.pop("from_", (None, None))[1]
    if from_:
        from .infotext import apply_infotext, read_infotext

        spec = apply_infotext(spec, read_infotext(from_))
    preset = given.pop("preset", (None, None))[1]
    extras = {k: given.pop(k)[1] for k in ("control_image_dir", "control_model") if k in given}
    _split_noise(given)
    groups: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for info, value in given.values():
        if info.group:
            groups.setdefault(info.group, {})[info.field] = value
        else:
            top[info.field] = value
    for group, fields in groups.items():
        top[group] = dataclasses.replace(getattr(spec, group), **fields)
    spec = dataclasses.replace(spec, **top)
    spec = _control_units(spec, extras)
    if preset:
        from ..stylize.presets import apply_preset

        spec = apply_preset(spec, preset, {info.field for info, _ in given.values()})
    if validate:
        spec.validate()
    return spec


def _split_noise(given: dict[str, tuple[Option, Any]]) -> None:
    """``consistency="per-frame,flow-warp"`` (as --consistency takes it) sets the noise mode, which is the
    ``noise`` option; given both ways and disagreeing, the user is asked to choose (never a silent winner)."""
    if "consistency" not in given:
        return
    info, names = given["consistency"]
    mode, techniques = parse_consistency(",".join(names))
    given["consistency"] = (info, techniques)
    if mode is None:
        return
    if "noise" in given and given["noise"][1] != mode:
        raise OptionError(f"--noise {given['noise'][1]} and --consistency {','.join(names)} disagree; "
                          "give the noise mode once.")
    given["noise"] = (lookup("noise"), mode)


def _control_units(spec: JobSpec, extras: dict[str, list[str]]) -> JobSpec:
    """The units' folders and models, and ebsynth's canny guidance when no unit is given."""
    units = [dataclasses.replace(u) if isinstance(u, ControlOptions) else ControlOptions(**u) for u in spec.control]
    if (extras.get("control_image_dir") or extras.get("control_model")) and not units:
        raise OptionError("--control-image-dir and --control-model need a --control unit.")
    if not units and spec.method == "ebsynth" and not spec.model.model.startswith("classic:"):
        units = [ControlOptions("canny")]
    units = assign_control_extras(units, extras.get("control_image_dir"), extras.get("control_model"))
    return dataclasses.replace(spec, control=units)
