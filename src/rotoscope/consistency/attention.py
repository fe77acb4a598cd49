"""Cross-frame attention: the UNet's self-attention reads keys and values from other frames.

Text2Video-Zero (Khachatryan et al. 2023) replaces each self-attention
layer's keys/values with the first frame's; Rerender-A-Video (Yang et al.
2023) uses the first and the previous frame. diffusers' own
``CrossFrameAttnProcessor`` does it for frames in one batch; here frames go
through the model one at a time, so each frame's self-attention inputs are
*recorded* (per layer, per denoising step) and the next frames *read* them:
the anchor (first frame) for the whole job, the previous frame until the
next one replaces it.

Cost: the recorded hidden states (two frames' worth: every self-attention
layer × denoising step × CFG batch) and attention over 2× the tokens; no
extra UNet passes.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

Recording = dict[tuple[str, int], torch.Tensor]


class CrossFrameController:
    """Holds the anchor's and the previous frame's recordings; one per job (per stylizer)."""

    def __init__(self, refs: str = "first+previous") -> None:
        self.refs = refs
        self.anchor: Recording | None = None
        self.anchor_index = 0  # the frame the anchor recording is of (the first frame of its shot)
        self.previous: Recording | None = None
        self._current: Recording = {}
        self._calls: dict[str, int] = {}
        self._read: list[Recording] = []
        self.active = False

    @contextmanager
    def frame(self, use_refs: bool = True):
        """Around one frame's model call: record its self-attention inputs, read the references' (if any)."""
        self._current, self._calls = {}, {}
        self._read = [r for r in self.references() if r] if use_refs else []
        self.active = True
        try:
            yield
        finally:
            self.active = False

    def references(self) -> list[Recording | None]:
        if self.refs == "first":
            return [self.anchor]
        return [self.anchor, self.previous]

    def commit(self, *, as_anchor: bool = False) -> None:
        """The frame just run becomes the previous frame (and the anchor, for the first)."""
        if self.anchor is None or as_anchor:
            self.anchor = self._current
        self.previous = self._current
        self._current = {}

    def install(self, unet) -> int:
        """Put cross-frame attention on ``unet`` (see :func:`install`); the stylizer calls this, so stylize/
        needs no import from consistency/ (it sits below it)."""
        return install(unet, self)

    def reference_run(self, stylizer, source, seed: int, index: int, anchor: bool = False) -> None:
        """Run frame ``index`` again only to record it (resuming after a kill); its output is discarded."""
        stylizer.stylize([source], seed=seed, indices=[index])
        self.commit(as_anchor=anchor or index == 0)

    def context(self, name: str, hidden: torch.Tensor) -> torch.Tensor | None:
        """Keys/values source for layer ``name`` at this call: the references' inputs (None = plain self-attention)."""
        if not self.active:
            return None
        call = self._calls.get(name, 0)
        self._calls[name] = call + 1
        self._current[(name, call)] = hidden.detach().clone()
        parts = []
        for rec in self._read:
            ref = rec.get((name, call))
            if ref is None or ref.shape[1:] != hidden.shape[1:]:
                continue
            if ref.shape[0] != hidden.shape[0]:  # a recording of batch 1 (× CFG) read by a bigger batch
                groups = ref.shape[0]
                ref = ref[:, None].expand(groups, hidden.shape[0] // groups, *ref.shape[1:]).reshape(hidden.shape)
            parts.append(ref.to(hidden.dtype))
        return torch.cat(parts, dim=1) if parts else None


class CrossFrameAttnProcessor:
    """Wraps a self-attention layer's processor: same maths, keys/values from the controller's references."""

    def __init__(self, inner, controller: CrossFrameController, name: str) -> None:
        self.inner, self.controller, self.name = inner, controller, name

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        if encoder_hidden_states is None and hidden_states.ndim == 3:
            context = self.controller.context(self.name, hidden_states)
            if context is not None:
                encoder_hidden_states = context
        return self.inner(attn, hidden_states, encoder_hidden_states=encoder_hidden_states,
                          attention_mask=attention_mask, temb=temb, **kwargs)


def install(unet, controller: CrossFrameController) -> int:
    """Put the processor on every self-attention layer (``attn1``) of ``unet``; returns how many."""
    processors = dict(unet.attn_processors)
    count = 0
    for name, processor in processors.items():
        if name.endswith("attn1.processor") and not isinstance(processor, CrossFrameAttnProcessor):
            processors[name] = CrossFrameAttnProcessor(processor, controller, name)
            count += 1
    unet.set_attn_processor(processors)
    return count
