"""ConsistencyOptions: which temporal-consistency techniques a job uses, and their knobs.

The noise mode (``shared-noise`` | ``per-frame``) is not stored here: it is
``StyleOptions.noise`` ("shared" | "per-frame"), the one source of truth that
job.json and the infotext ("Noise: shared") already carry.
:func:`parse_consistency` splits a ``--consistency`` list into the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import OptionError

#: --consistency names that choose StyleOptions.noise rather than add a technique.
NOISE_NAMES = {"shared-noise": "shared", "per-frame": "per-frame"}
COLOR_REFERENCES = ("first", "keyframe")
CROSS_FRAME_REFS = ("first", "first+previous")


@dataclass
class ConsistencyOptions:
    #: techniques besides the noise mode, in the order they run (see consistency.TECHNIQUES)
    techniques: list[str] = field(default_factory=list)
    flow: str = "dis"  # optical flow for flow-warp and deflicker: dis | farneback
    color_match_reference: str = "first"  # match colours to the first output, or to the latest keyframe
    color_match_interval: int = 12  # with reference=keyframe: a new keyframe every N frames
    loopback_alpha: float = 0.3  # weight of the previous output in the next init image
    loopback_decay: float = 1.0  # alpha × decay^index: < 1 lets the loop fade over the clip
    flow_warp_weight: float = 0.3  # weight of the warped previous output in the init (the rest: current source)
    flow_warp_fuse: float = 0.7  # weight of the warped previous output blended into the model's output (0 = off)
    cross_frame_refs: str = "first+previous"  # self-attention reads keys/values from these frames
    deflicker_strength: float = 0.5  # weight of the flow-warped previous (filtered) frame in each encoded frame

    def validate(self) -> None:
        from . import TECHNIQUES  # the registry imports this module

        seen = set()
        for name in self.techniques:
            if name in NOISE_NAMES:
                raise OptionError(f"{name!r} is a noise mode (StyleOptions.noise), not a technique to list; use --noise or --consistency {name}.")
            if name not in TECHNIQUES:
                raise OptionError(f"--consistency {name!r} is not known; use one of {', '.join(TECHNIQUES)}.")
            if name in seen:
                raise OptionError(f"--consistency names {name!r} twice; give each technique once.")
            seen.add(name)
        from .flow import FLOW_METHODS

        if self.flow not in FLOW_METHODS:
            raise OptionError(f"--flow {self.flow!r} is not known; use one of {', '.join(FLOW_METHODS)}.")
        if self.color_match_reference not in COLOR_REFERENCES:
            raise OptionError(f"--color-match-reference {self.color_match_reference!r} is not known; use one of {', '.join(COLOR_REFERENCES)}.")
        if self.color_match_interval < 1:
            raise OptionError(f"--color-match-interval {self.color_match_interval} must be at least 1 (frames between keyframes).")
        if self.cross_frame_refs not in CROSS_FRAME_REFS:
            raise OptionError(f"--cross-frame-refs {self.cross_frame_refs!r} is not known; use one of {', '.join(CROSS_FRAME_REFS)}.")
        for flag, value in (("--loopback-alpha", self.loopback_alpha), ("--flow-warp-weight", self.flow_warp_weight),
                            ("--flow-warp-fuse", self.flow_warp_fuse), ("--deflicker-strength", self.deflicker_strength)):
            if not 0 <= value <= 1:
                raise OptionError(f"{flag} {value} must be between 0 and 1.")
        if not 0 < self.loopback_decay <= 1:
            raise OptionError(f"--loopback-decay {self.loopback_decay} must be in (0, 1]; 1 keeps alpha for every frame.")

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
