"""The techniques, cheapest first. Each: a one-line docstring citing where it comes from, and its cost."""

from __future__ import annotations

import cv2
import numpy as np

from ..core.resize import fit
from ..errors import OptionError
from .base import Step, Technique, blend, blend_where


class SharedNoise(Technique):
    """Every frame starts from the same initial noise, as one fixed seed gives (StreamDiffusion reuses one noise)."""

    name = "shared-noise"
    cost = "free (the default)"
    noise = "shared"


class PerFrameNoise(Technique):
    """Seed + frame index: fresh noise every frame — the flickery baseline, for comparison."""

    name = "per-frame"
    cost = "free"
    noise = "per-frame"


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image[..., :3].astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def match_colors(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``image`` with each LAB channel's mean and standard deviation made those of ``reference`` (Reinhard et al. 2001)."""
    src, ref = _lab(image), _lab(reference)
    mean_s, std_s = src.reshape(-1, 3).mean(0), src.reshape(-1, 3).std(0)
    mean_r, std_r = ref.reshape(-1, 3).mean(0), ref.reshape(-1, 3).std(0)
    out = (src - mean_s) / np.maximum(std_s, 1e-6) * std_r + mean_r
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


class ColorMatch(Technique):
    """Match each output's LAB mean/std to the first output or the latest keyframe's (the web UI's loopback colour correction)."""

    name = "color-match"
    cost = "≈1 ms a frame (two colour conversions); needs the reference frame's output"
    sequential = True

    def reference_index(self, index: int, shot_start: int = 0) -> int:
        """The first output of the shot, or the latest keyframe (every ``interval`` frames from the shot's start)."""
        if self.options.color_match_reference == "first":
            return shot_start
        return index - (index - shot_start) % self.options.color_match_interval

    def finish(self, step: Step) -> None:
        ref_index = self.reference_index(step.index, step.shot_start)
        if ref_index == step.index:
            return
        reference = step.history.output(ref_index)
        if reference is not None:
            step.output = match_colors(step.output, fit(reference, step.output.shape[:2]))


class Loopback(Technique):
    """Blend the previous output into the next init image (Deforum / the web UI's loopback script)."""

    name = "loopback"
    cost = "≈free (a blend); frames run one at a time"
    sequential = True

    def prepare(self, step: Step) -> None:
        previous = step.previous_output()
        if previous is None:
            return
        alpha = self.options.loopback_alpha * self.options.loopback_decay ** (step.index - step.shot_start)
        base = step.init if step.init is not None else step.source
        step.init = blend(base, fit(previous, base.shape[:2]), alpha)


class FlowWarp(Technique):
    """Warp the previous stylised frame onto this one along source optical flow (SD-CN-Animation, Rerender-A-Video).

    Occluded pixels come from the current source frame. The init image is the
    warped frame blended with the source (``flow_warp_weight``; 1 = the naive
    loopback that drifts); ``flow_warp_fuse`` also blends the warped frame into
    the model's output over non-occluded pixels (Rerender's fusion, in pixels).
    """

    name = "flow-warp"
    cost = "two DIS flows a frame (≈5 ms at 320×192); frames run one at a time"
    sequential = True

    def prepare(self, step: Step) -> None:
        found = step.warped_previous_output()
        if found is None:
            return
        warped, occluded = found
        source = step.source[..., :3]
        warped = warped.copy()
        warped[occluded] = source[occluded]
        base = step.init if step.init is not None else source
        step.init = blend(base, warped, self.options.flow_warp_weight)

    def finish(self, step: Step) -> None:
        if self.options.flow_warp_fuse <= 0:
            return
        found = step.warped_previous_output(step.output.shape[:2])
        if found is not None:
            warped, occluded = found
            step.output = blend_where(step.output, warped, self.options.flow_warp_fuse, ~occluded)


class CrossFrameAttention(Technique):
    """Self-attention reads keys/values from the first and previous frames (Text2Video-Zero; Rerender-A-Video)."""

    name = "cross-frame-attention"
    cost = "self-attention over 2× the keys (1.3–1.6× the time a frame in bench/consistency.py) + memory for two frames' attention inputs; on resume, 1–2 frames are recomputed"
    sequential = True
    needs_model = True

    def __init__(self, options) -> None:
        super().__init__(options)
        self.controller = None

    def _install(self, stylizer) -> None:
        hook = getattr(stylizer, "use_cross_frame_attention", None)
        if hook is None:
            raise OptionError("--consistency cross-frame-attention needs a diffusers model (--model); classic styles have no attention layers.")
        from .attention import CrossFrameController

        self.controller = CrossFrameController(self.options.cross_frame_refs)
        hook(self.controller)

    def prepare(self, step: Step) -> None:
        if self.controller is None:
            self._install(step.stylizer)
        start = step.shot_start
        if step.index == start:  # a new shot: its first frame is the anchor, nothing of the last shot is read
            self.controller.anchor = self.controller.previous = None
        elif self.controller.anchor is None or self.controller.anchor_index != start:
            self._rebuild(step)
        self.controller.anchor_index = start

    def _rebuild(self, step: Step) -> None:
        """Resuming: recompute the anchor's recording (the shot's first frame, exact) and the previous frame's
        (read from the anchor only)."""
        start = step.shot_start
        first = step.history.source(start)
        if first is None:
            return
        self.controller.anchor = self.controller.previous = None
        self.controller.reference_run(step.stylizer, first, step.seed, start, anchor=True)
        before = step.index - 1
        if before > start and self.options.cross_frame_refs != "first":
            source = step.history.source(before)
            if source is not None:
                self.controller.reference_run(step.stylizer, source, step.seed, before)

    def finish(self, step: Step) -> None:
        self.controller.commit()


class Deflicker(Technique):
    """Post-filter: each encoded frame blended with the previous filtered frame warped along source flow (Lai et al. 2018's recursive idea, training-free)."""

    name = "deflicker"
    cost = "two DIS flows a frame while encoding; stored frames stay untouched (toggling it still needs --overwrite)"
    stage = "encode"
    sequential = True

    def finish(self, step: Step) -> None:
        found = step.warped_previous_output(step.output.shape[:2])
        if found is not None:
            warped, occluded = found
            step.output = blend_where(step.output, warped, self.options.deflicker_strength, ~occluded)
