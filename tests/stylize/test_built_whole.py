"""Stylizers are built whole and cancel within a denoising step, on real tiny diffusers pipelines (no mocks).

"Built whole": the factory picks the pipeline (ControlNet variant included), the sampler and the speed
pieces up front; no method of a diffusers object is replaced on the instance afterwards (per-step work
goes through ``callback_on_step_end`` and attention processors). Cancel: a forward hook on the real UNet
sets the event during the first step; the run stops after that step with ``Cancelled``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from rotoscope.consistency.attention import CrossFrameAttnProcessor, CrossFrameController
from rotoscope.stylize.video_options import VideoOptions
from rotoscope.models.options import ModelOptions
from rotoscope.models.speed import StepCachedUNet
from rotoscope.progress import Cancelled
from rotoscope.stylize.control import parse_control
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.mask_options import MaskOptions
from rotoscope.stylize.options import StyleOptions
from tests import clips

FRAMES = [clips.picture(i, (64, 48)) for i in (0, 5)]
TINY = ModelOptions(model="tiny", device="cpu")
MASK = MaskOptions(mask_rects=["16,8,24,24"])


def style(**changes) -> StyleOptions:
    options = StyleOptions(**{"prompt": "a cup", "seed": 3, "steps": 4, "strength": 0.5, **changes})
    options.validate()
    return options


#: every kind of diffusers stylizer the factory builds, as build_stylizer arguments
KINDS = {
    "img2img": lambda **kw: build_stylizer(TINY, style(**kw.pop("style", {})), **kw),
    "step-cache": lambda **kw: build_stylizer(TINY, style(step_cache=2, **kw.pop("style", {})), **kw),
    "controlnet": lambda **kw: build_stylizer(TINY, style(**kw.pop("style", {})), control=[parse_control("canny")], **kw),
    "inpaint": lambda **kw: build_stylizer(TINY, style(**kw.pop("style", {})), MASK, **kw),
    "controlnet-inpaint": lambda **kw: build_stylizer(TINY, style(**kw.pop("style", {})), MASK,
                                                      control=[parse_control("canny"), parse_control("tile:0.5")], **kw),
}


def instance_overrides(obj) -> list[str]:
    """Names of methods of ``obj``'s class that ``obj`` itself shadows with an attribute of its own."""
    cls = type(obj)
    return [name for name, value in vars(obj).items() if callable(value) and callable(getattr(cls, name, None))]


def diffusers_objects(pipe) -> dict[str, object]:
    """The pipeline, its scheduler, every module of its models (the wrapped UNet's included)."""
    found: dict[str, object] = {"pipe": pipe, "scheduler": pipe.scheduler}
    for name, component in pipe.components.items():
        if isinstance(component, torch.nn.Module):
            for sub, module in component.named_modules():
                found[f"{name}.{sub}" if sub else name] = module
    return found


def assert_not_patched(pipe) -> None:
    unet = pipe.unet.unet if isinstance(pipe.unet, StepCachedUNet) else pipe.unet
    assert "forward" not in vars(unet) and "forward" not in vars(pipe.unet)
    assert "step" not in vars(pipe.scheduler)
    patched = {name: names for name, obj in diffusers_objects(pipe).items() if (names := instance_overrides(obj))}
    assert patched == {}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_stylizer_is_built_whole_with_no_method_replaced(tiny_model_dir, kind):
    s = KINDS[kind]()
    pipe = s.pipe
    control = "controlnet" in kind
    assert ("ControlNet" in type(pipe).__name__) == control  # the pipeline is the right one from the start
    assert type(s.loaded.pipe).__name__.startswith("StableDiffusion") and "ControlNet" not in type(s.loaded.pipe).__name__
    assert isinstance(pipe.unet, StepCachedUNet) == (kind == "step-cache")
    assert_not_patched(pipe)
    out = s.stylize(FRAMES, seed=3)
    assert [o.shape for o in out] == [f.shape for f in FRAMES]
    assert_not_patched(pipe)  # nor while running


def test_cross_frame_attention_goes_through_attention_processors(tiny_model_dir):
    s = KINDS["img2img"]()
    controller = CrossFrameController("first+previous")
    s.use_cross_frame_attention(controller)
    processors = s.pipe.unet.attn_processors
    assert sum(isinstance(p, CrossFrameAttnProcessor) for p in processors.values()) == \
        sum(name.endswith("attn1.processor") for name in processors)
    for i, frame in enumerate(FRAMES):
        s.stylize([frame], seed=3, indices=[i])
        controller.commit()
    assert controller.anchor and controller.previous is not controller.anchor
    assert_not_patched(s.pipe)


def test_animatediff_step_noise_comes_from_its_scheduler_class(tiny_model_dir):
    from rotoscope.stylize.video import FramewiseStep

    s = build_stylizer(TINY, style(sampler="Euler a"), method="animatediff", video=VideoOptions(context_length=4, context_overlap=1))
    assert isinstance(s.pipe.scheduler, FramewiseStep) and type(s.pipe.scheduler).__name__ == "FramewiseEulerAncestralDiscreteScheduler"
    assert not isinstance(s.loaded.pipe.scheduler, FramewiseStep)  # the loaded pipeline is left as it was
    out = s.animate(FRAMES + FRAMES, seed=3, indices=[0, 1, 2, 3])
    assert len(out) == 4 and all(o.shape == FRAMES[0].shape for o in out)
    assert_not_patched(s.pipe)


def test_strength_is_a_per_call_argument(tiny_model_dir):
    s = KINDS["img2img"]()
    swept = s.stylize(FRAMES, seed=3, strength=0.8)
    assert s.strength == 0.5  # the job's strength is unchanged
    built = KINDS["img2img"](style={"strength": 0.8}).stylize(FRAMES, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(swept, built))
    assert not all(np.array_equal(a, b) for a, b in zip(swept, s.stylize(FRAMES, seed=3)))


def _cancel_during_first_step(unet: torch.nn.Module, cancel: threading.Event):
    """Count the UNet's calls; the first one sets ``cancel`` (as the web UI's Cancel button would, mid-step).
    Returns the calls and the hook's handle."""
    calls: list[int] = []

    def hook(module, args, output):
        calls.append(1)
        cancel.set()

    return calls, unet.register_forward_hook(hook)


@pytest.mark.parametrize("kind", ["img2img", "step-cache", "controlnet-inpaint"])
def test_cancel_stops_the_denoising_loop_within_one_step(tiny_model_dir, kind):
    cancel = threading.Event()
    s = KINDS[kind](style={"steps": 30, "strength": 1.0}, cancel=cancel)
    calls, hook = _cancel_during_first_step(s.pipe.unet, cancel)
    with pytest.raises(Cancelled, match="cancelled; finished frames are kept"):
        s.stylize(FRAMES, seed=3)
    assert len(calls) == 1  # 30 steps scheduled; the step in which cancel was set is the last one run
    with pytest.raises(Cancelled):
        s.stylize(FRAMES, seed=3)  # still set: not even one step
    assert len(calls) == 1
    # cleared (the job resumed): the same stylizer gives what an uncancelled one gives, nothing left half-done
    hook.remove()
    cancel.clear()
    again = s.stylize(FRAMES[:1], seed=3)
    expected = KINDS[kind](style={"steps": 30, "strength": 1.0}).stylize(FRAMES[:1], seed=3)
    assert np.array_equal(again[0], expected[0])


def test_cancel_from_another_thread_stops_animatediff_within_one_step(tiny_model_dir):
    cancel, started = threading.Event(), threading.Event()
    s = build_stylizer(TINY, style(steps=30, strength=1.0), method="animatediff", cancel=cancel,
                       video=VideoOptions(context_length=4, context_overlap=1))
    calls: list[int] = []

    def first_step_waits_for_the_cancel(module, args, output):
        calls.append(1)
        started.set()
        assert cancel.wait(timeout=60)  # the other thread sets it while this step runs

    s.pipe.unet.register_forward_hook(first_step_waits_for_the_cancel)
    canceller = threading.Thread(target=lambda: started.wait(timeout=60) and cancel.set())
    canceller.start()
    try:
        with pytest.raises(Cancelled):
            s.animate(FRAMES + FRAMES, seed=3, indices=[0, 1, 2, 3])
    finally:
        cancel.set()
        canceller.join()
    assert len(calls) == 1


def test_classic_stylizer_checks_cancel_between_frames():
    cancel = threading.Event()
    s = build_stylizer(ModelOptions(model="classic:cartoon"), style(), cancel=cancel)
    assert len(s.stylize(FRAMES, seed=3)) == 2
    cancel.set()
    with pytest.raises(Cancelled):
        s.stylize(FRAMES, seed=3)
