"""ConsistencyOptions: which temporal-consistency techniques a job uses, and their knobs.

The noise mode (``shared-noise`` | ``per-frame``) is not stored here: it is
``StyleOptions.noise`` ("shared" | "per-frame"), the one source of truth that
job.json and the infotext ("Noise: shared") already carry.
:func:`parse_consistency` splits a ``--consistency`` list into the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import OptionError
from ..options import check_fields, option, technique

#: --consistency names that choose StyleOptions.noise rather than add a technique.
NOISE_NAMES = {"shared-noise": "shared", "per-frame": "per-frame"}
#: the recommended --consistency (the docs and bench/consistency.py --clips set measure it with the knobs'
#: defaults below): not switched on by default, since it makes gif2gif go one frame at a time
RECOMMENDED = ("flow-warp",)
COLOR_REFERENCES = ("first", "keyframe")
CROSS_FRAME_REFS = ("first", "first+previous")


def _technique_names() -> list[str]:
    from .registry import TECHNIQUES

    return [name for name in TECHNIQUES if name not in NOISE_NAMES]


def _flow_methods() -> tuple[str, ...]:
    from ..core import FLOW_METHODS

    return tuple(FLOW_METHODS)


@dataclass
class ConsistencyOptions:
    #: techniques besides the noise mode, in the order they run (see consistency.TECHNIQUES)
    techniques: list[str] = option(factory=list, name="consistency", panel="Consistency", choices=_technique_names,
                                   infotext="Consistency", widget="multiselect", split=",",
                                   parse=lambda t: t.strip().lower(),
                                   help="Techniques, comma-separated, cheapest first: color-match, loopback, flow-warp, "
                                   "cross-frame-attention, deflicker (the noise mode is --noise; shared-noise and "
                                   "per-frame are accepted here too).")
    flow: str = option("dis", panel="Consistency", choices=_flow_methods, owner=technique("flow-warp", "deflicker"),
                       infotext="Flow", help="Optical flow for flow-warp and deflicker.")
    color_match_reference: str = option("first", panel="Consistency", choices=COLOR_REFERENCES,
                                        owner=technique("color-match"), infotext="Color match reference",
                                        help="color-match to the first output, or to the latest keyframe.")
    color_match_interval: int = option(12, panel="Consistency", low=1, owner=technique("color-match"),
                                       infotext="Color match interval",
                                       help="color-match with reference keyframe: a new keyframe every N frames.")
    loopback_alpha: float = option(0.3, panel="Consistency", low=0, high=1, owner=technique("loopback"),
                                   infotext="Loopback alpha",
                                   help="loopback: weight of the previous output in the next init.")
    loopback_decay: float = option(1.0, panel="Consistency", low=0, high=1, low_open=True, owner=technique("loopback"),
                                   infotext="Loopback decay", hint="1 keeps alpha for every frame",
                                   help="loopback: alpha × decay^frame; < 1 lets the loop fade over the clip.")
    # 0.15, not 0.3: tuned on bench/consistency.py --clips set (six clips, not the sample alone); a heavier
    # init drifted from the source (SSIM -0.054 on the sample) and flickered more (0.64x shared-noise there)
    flow_warp_weight: float = option(0.15, panel="Consistency", low=0, high=1, owner=technique("flow-warp"),
                                     infotext="Flow warp weight",
                                     help="flow-warp: weight of the warped previous output in the init (rest: the source "
                                     "frame).")
    flow_warp_fuse: float = option(0.7, panel="Consistency", low=0, high=1, owner=technique("flow-warp"),
                                   infotext="Flow warp fuse",
                                   help="flow-warp: blend the warped previous output into the result where the flow is "
                                   "reliable (0 = init only).")
    cross_frame_refs: str = option("first+previous", panel="Consistency", choices=CROSS_FRAME_REFS,
                                   owner=technique("cross-frame-attention"), infotext="Cross-frame refs",
                                   help="cross-frame-attention reads keys/values from these frames.")
    deflicker_strength: float = option(0.5, panel="Consistency", low=0, high=1, owner=technique("deflicker"),
                                       infotext="Deflicker strength",
                                       help="deflicker: weight of the flow-warped previous frame in each encoded frame.")

    def validate(self) -> None:
        for name in self.techniques:
            if name in NOISE_NAMES:
                raise OptionError(f"{name!r} is a noise mode, not a technique to list; use --noise {NOISE_NAMES[name]}.")
        check_fields(self)
        duplicates = sorted({name for name in self.techniques if self.techniques.count(name) > 1})
        if duplicates:
            raise OptionError(f"--consistency names {duplicates[0]!r} twice; give each technique once.")

    def uses(self, name: str) -> bool:
        return name in self.techniques


def parse_consistency(text: str) -> tuple[str | None, list[str]]:
    """'per-frame,flow-warp,color-match' → ('per-frame', ['flow-warp', 'color-match']): (noise mode or None, techniques)."""
    noise: str | None = None
    techniques: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        if not name or name == "none":
            continue
        if name in NOISE_NAMES:
            if noise is not None and noise != NOISE_NAMES[name]:
                raise OptionError(f"--consistency {text!r} names both shared-noise and per-frame; choose one.")
            noise = NOISE_NAMES[name]
        else:
            techniques.append(name)
    return noise, techniques
