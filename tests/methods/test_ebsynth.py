"""ebsynth: ControlNet keys, guided propagation with patch refinement; a tenth of gif2gif's model calls."""

from __future__ import annotations

import numpy as np

from rotoscope.methods.keys import KeyOptions
from rotoscope.methods.propagate import Side, guide_error, refine
from rotoscope.stylize.control import parse_control
from tests.methods.keyframe_helpers import run_method, warp_error


def test_ebsynth_with_controlnet_keys_calls_the_model_a_tenth_as_often(tiny_model_dir, clip20, gif2gif):
    base, base_counter = gif2gif
    out, counter = run_method("ebsynth", clip20, control=[parse_control("canny")])
    assert [f.index for f in out] == list(range(20))
    assert counter.calls == 2 and counter.calls <= base_counter.calls / 10
    assert type(counter.inner.pipe).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    assert warp_error(out, clip20) < warp_error(base, clip20)
    plain, _ = run_method("ebsynth", clip20, KeyOptions(keys="every:10", refine=False), control=[parse_control("canny")])
    for f, g, k in zip(out, plain, range(20)):
        if k % 10 == 0:
            assert np.array_equal(f.image, g.image)  # keys are the same; refinement only touches frames between


def test_patch_refinement_fixes_what_the_flow_got_wrong():
    """A key whose content moved 6 px while the flow says 0: the guided search finds it from the source guide."""
    rng = np.random.default_rng(0)
    key_source = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    key_source = np.ascontiguousarray(np.repeat(np.repeat(key_source[::4, ::4], 4, 0), 4, 1))
    key_output = 255 - key_source  # the "style": inverted
    target = np.roll(key_source, 6, axis=1)
    field = np.zeros((48, 64, 2), np.float32)
    side = Side(key_output.astype(np.float32), np.zeros((48, 64), bool), field)
    before = guide_error(target, key_source, field)
    fixed = refine(side, target, key_source, key_output)
    inner = (slice(8, -8), slice(16, -16))
    assert fixed.error[inner].mean() < 0.25 * before[inner].mean()
    expected = (255 - target).astype(np.float32)
    assert np.abs(fixed.warped[inner] - expected[inner]).mean() < 0.25 * np.abs(side.warped[inner] - expected[inner]).mean()


def test_propagation_follows_the_source_where_the_flow_does_not_explain_it():
    """Where the key's source, carried along the field, matches this frame's source, the carried style is left as it
    is; where it does not (something the flow cannot carry: here a dark square), the source's difference is added,
    so the frame changes as its source does instead of freezing the key (the score's "smoothed")."""
    from rotoscope.methods.propagate import follow_source
    from tests.clips import textured

    key_source = textured((64, 48), seed=3)
    key_output = (255 - key_source).astype(np.float32)  # any "style"
    target = key_source.copy()
    target[8:24, 8:24] = 10  # new content at the same place: the zero field does not explain it
    side = Side(key_output, np.zeros((48, 64), bool), np.zeros((48, 64, 2), np.float32))
    followed = follow_source(side, target, key_source).warped
    assert np.array_equal(followed[:, 36:], key_output[:, 36:])  # explained: untouched
    inside = (key_output + target.astype(np.float32) - key_source)[12:20, 12:20]
    assert np.allclose(followed[12:20, 12:20], inside)  # not explained: the source's change, fully
