"""Each technique's defining behaviour on real pictures, without a model (the Step/History seam)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from rotoscope.consistency import History, Step, post_filter
from rotoscope.consistency.options import ConsistencyOptions
from rotoscope.consistency.techniques import ColorMatch, Deflicker, FlowWarp, Loopback, match_colors
from rotoscope.core.frames import Frame
from rotoscope.metrics import score_frames


def textured(size=(160, 120), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC))


def step_after(previous_source, previous_output, source, index=1, **options) -> Step:
    history = History()
    history.remember(index - 1, previous_source, previous_output)
    return Step(index, source, 7, history)


def test_flow_warp_with_zero_motion_gives_init_equal_to_previous_output():
    source = textured()
    previous_output = textured(seed=5)  # whatever the model made of the same source frame
    step = step_after(source, previous_output, source.copy())
    FlowWarp(ConsistencyOptions(flow_warp_weight=1.0)).prepare(step)
    assert np.array_equal(step.init, previous_output)


def test_flow_warp_moves_the_previous_output_with_the_source_and_fills_occlusions_from_source():
    big = textured((200, 140))
    prev_src, cur_src = big[10:130, 20:180], big[10:130, 26:186]  # content moves 6 px left
    prev_out = textured((200, 140), seed=9)[10:130, 20:180]
    step = step_after(prev_src, prev_out, cur_src)
    FlowWarp(ConsistencyOptions(flow_warp_weight=1.0)).prepare(step)
    expected = textured((200, 140), seed=9)[10:130, 26:186]
    inner = (slice(12, -12), slice(12, -18))
    assert np.abs(step.init[inner].astype(int) - expected[inner]).mean() < 4
    # the right edge came into view: no previous output there, so it is the current source
    assert np.abs(step.init[20:-20, -3:].astype(int) - cur_src[20:-20, -3:]).mean() < 4


def test_flow_warp_weight_blends_with_the_source_and_fuse_pulls_the_output():
    source = textured()
    previous_output = textured(seed=5)
    options = ConsistencyOptions(flow_warp_weight=0.25, flow_warp_fuse=0.5)
    step = step_after(source, previous_output, source.copy())
    technique = FlowWarp(options)
    technique.prepare(step)
    want = np.rint(source * 0.75 + previous_output * 0.25).astype(int)
    assert np.abs(step.init.astype(int) - want).max() <= 1
    step.output = textured(seed=11)
    technique.finish(step)
    want = np.rint(textured(seed=11) * 0.5 + previous_output * 0.5).astype(int)
    assert np.abs(step.output.astype(int) - want).max() <= 1


def test_first_frame_is_left_alone():
    source = textured()
    step = Step(0, source, 7, History())
    for technique in (FlowWarp(ConsistencyOptions()), Loopback(ConsistencyOptions()), ColorMatch(ConsistencyOptions())):
        technique.prepare(step)
        step.output = source
        technique.finish(step)
    assert step.init is None and step.output is source


def test_loopback_blends_previous_output_into_init_with_decay():
    source, previous_output = textured(), textured(seed=3)
    for index, decay in ((1, 1.0), (4, 0.5)):
        step = step_after(source, previous_output, source, index=index)
        Loopback(ConsistencyOptions(loopback_alpha=0.4, loopback_decay=decay)).prepare(step)
        alpha = 0.4 * decay**index
        want = np.rint(source * (1 - alpha) + previous_output * alpha).astype(int)
        assert np.abs(step.init.astype(int) - want).max() <= 1


def test_color_match_gives_the_reference_colour_statistics():
    import cv2

    first = textured(seed=1)
    tinted = np.clip(textured(seed=2).astype(int) * [0.9, 0.8, 0.7] + [20, 10, 0], 0, 255).astype(np.uint8)
    history = History()
    history.remember(0, first, first)
    step = Step(5, tinted, 7, history)
    step.output = tinted
    ColorMatch(ConsistencyOptions()).finish(step)

    def stats(image):
        lab = cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3)
        return lab.mean(0), lab.std(0)

    (m_out, s_out), (m_ref, s_ref), (m_in, _) = stats(step.output), stats(first), stats(tinted)
    assert np.abs(m_out - m_ref).max() < 1.5 < np.abs(m_in - m_ref).max()
    assert np.allclose(s_out, s_ref, rtol=0.1, atol=1)
    # keyframe reference: frame 13 with interval 6 matches frame 12, not frame 0
    assert ColorMatch(ConsistencyOptions(color_match_reference="keyframe", color_match_interval=6)).reference_index(13) == 12
    assert np.abs(match_colors(first, first).astype(int) - first).max() <= 1  # already matching: unchanged


def test_deflicker_lowers_warp_error_and_keeps_a_static_scene():
    """A static scene whose outputs flicker in brightness: the post-filter steadies it along the flow."""
    source = textured()
    outputs = [np.clip(source.astype(int) + (12 if i % 2 else -12), 0, 255).astype(np.uint8) for i in range(8)]
    frames = [Frame(i, i / 10, 0.1, o) for i, o in enumerate(outputs)]
    options = ConsistencyOptions(techniques=["deflicker"], deflicker_strength=0.5)
    filtered = list(post_filter(iter(frames), options, lambda i: source if 0 <= i < 8 else None))
    assert [f.index for f in filtered] == list(range(8)) and np.array_equal(filtered[0].image, outputs[0])
    before = score_frames((o, source) for o in outputs)
    after = score_frames((f.image, source) for f in filtered)
    assert after.warp_error < 0.6 * before.warp_error
    assert outputs[3].mean() > source.mean() + 10  # the inputs were not changed in place
    # without the technique the post-filter passes frames through
    assert list(post_filter(iter(frames), ConsistencyOptions(), lambda i: source)) == frames
    assert Deflicker.stage == "encode"
