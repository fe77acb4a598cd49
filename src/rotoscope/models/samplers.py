"""Web-UI sampler names → diffusers schedulers.

``make_scheduler("DPM++ 2M Karras", pipe.scheduler.config)`` builds the
scheduler a web-UI user means. Names match case-insensitively; diffusers class
names (``"EulerAncestralDiscreteScheduler"``) work too.

"LMS" needs scipy (a dependency of rotoscope); were it missing, ``make_scheduler`` would raise
OptionError saying so. "DPM++ SDE Karras" is diffusers' ``DPMSolverSDEScheduler`` when ``torchsde``
is installed; without it, ``DPMSolverMultistepScheduler`` with
``algorithm_type="sde-dpmsolver++"`` and Karras sigmas (a stochastic DPM++
solver too, needing no extra package).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from ..errors import OptionError

if TYPE_CHECKING:
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

# diffusers is imported only when a scheduler is resolved: the names are read by option checks and --help.
_HAS_TORCHSDE = importlib.util.find_spec("torchsde") is not None

#: web-UI name → (diffusers scheduler class name, config overrides)
SAMPLERS: dict[str, tuple[str, dict]] = {
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "Heun": ("HeunDiscreteScheduler", {}),
    "LMS": ("LMSDiscreteScheduler", {}),
    "DDIM": ("DDIMScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": False}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "DPM++ SDE Karras": (
        ("DPMSolverSDEScheduler", {"use_karras_sigmas": True})
        if _HAS_TORCHSDE
        else ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True})
    ),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}

_BY_LOWER = {name.lower(): name for name in SAMPLERS}


def sampler_names() -> list[str]:
    return list(SAMPLERS)


def check_sampler(name: str) -> None:
    """Refuse an unknown sampler name before any work (with every method and model, classic styles too);
    diffusers is imported only for a name that looks like a scheduler class name."""
    key = str(name).strip()
    if key.lower() in _BY_LOWER:
        return
    if key.endswith("Scheduler"):
        resolve_sampler(key)
        return
    raise _unknown(name)


def _unknown(name: str) -> OptionError:
    import difflib

    near = difflib.get_close_matches(str(name).strip().lower(), list(_BY_LOWER), n=3, cutoff=0.3)
    nearest = f"did you mean {' or '.join(repr(_BY_LOWER[n]) for n in near)}? " if near else ""
    return OptionError(
        f"--sampler {name!r} is not known; {nearest}use one of {', '.join(repr(n) for n in SAMPLERS)} "
        "or a diffusers scheduler class name such as 'EulerDiscreteScheduler'"
    )


def resolve_sampler(name: str) -> tuple[str, dict]:
    """``(class name, config overrides)`` for a web-UI or diffusers class name."""
    key = str(name).strip()
    if key.lower() in _BY_LOWER:
        return SAMPLERS[_BY_LOWER[key.lower()]]
    import diffusers
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

    cls = getattr(diffusers, key, None)
    if isinstance(cls, type) and issubclass(cls, SchedulerMixin) and key.endswith("Scheduler"):
        return key, {}
    raise _unknown(name)


def make_scheduler(name: str, base_config, spacing: str = "auto") -> "SchedulerMixin":
    """A scheduler for sampler ``name`` built from a pipeline's scheduler config; ``spacing`` other than
    "auto" sets its timestep spacing ("trailing" for SD-Turbo style models, so one step starts at t = 999)."""
    import diffusers

    cls_name, overrides = resolve_sampler(name)
    cls = getattr(diffusers, cls_name)
    config = dict(base_config)
    # a Karras / SDE choice of an earlier sampler must not leak into this one
    for key in ("use_karras_sigmas", "algorithm_type"):
        if key not in overrides:
            config.pop(key, None)
    config.update(overrides)
    if spacing and spacing != "auto":
        config["timestep_spacing"] = spacing
    try:
        return cls.from_config(config)
    except ImportError as exc:  # LMS needs scipy, DPMSolverSDE torchsde
        missing = "scipy" if "scipy" in str(exc).lower() or cls_name.startswith("LMS") else "torchsde"
        raise OptionError(
            f"sampler {name!r} needs the package {missing}, which is not installed: "
            f"run `pip install {missing}`, or pick another sampler such as 'Euler a' or 'DPM++ 2M Karras'"
        ) from exc


def sampler_name_of(scheduler: "SchedulerMixin") -> str:
    """The web-UI name for a scheduler (for infotext), or its class name."""
    cls_name = type(scheduler).__name__
    karras = bool(getattr(scheduler.config, "use_karras_sigmas", False))
    algo = getattr(scheduler.config, "algorithm_type", None)
    for name, (cname, over) in SAMPLERS.items():
        if cname != cls_name:
            continue
        if over.get("use_karras_sigmas", False) != karras:
            continue
        if "algorithm_type" in over and over["algorithm_type"] != algo:
            continue
        return name
    return cls_name
