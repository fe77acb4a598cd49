"""Helpers of the keyframe-method tests: a counted real stylizer, a method run on a clip, warp error."""

from __future__ import annotations

from pathlib import Path

from rotoscope.methods import MethodContext, get_method
from rotoscope.methods.keys import KeyOptions
from rotoscope.metrics import score_frames
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.options import StyleOptions

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"
STYLE = StyleOptions(prompt="a cup", seed=5, steps=4, strength=0.5)


class Counted:
    """The real stylizer, with its calls counted (model calls, and frames through the model)."""

    def __init__(self, stylizer) -> None:
        self.inner, self.calls, self.images = stylizer, 0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __setattr__(self, name, value):
        if name in ("inner", "calls", "images"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.inner, name, value)

    def stylize(self, frames, **kwargs):
        self.calls += 1
        self.images += len(frames)
        return self.inner.stylize(frames, **kwargs)


def run_method(name: str, clip, keys: KeyOptions = KeyOptions(keys="every:10"), control=None):
    stylizer = Counted(build_stylizer(ModelOptions(model="tiny"), STYLE, control=control))
    images = {f.index: f.image for f in clip}
    context = MethodContext(stylizer, STYLE, STYLE.seed, previous=lambda i: None, source=images.__getitem__,
                            count=len(clip), keys=keys)
    out = sorted(get_method(name).run(iter(clip), context), key=lambda f: f.index)
    return out, stylizer


def warp_error(frames, clip) -> float:
    return score_frames(((f.image, s.image) for f, s in zip(frames, clip))).warp_error
