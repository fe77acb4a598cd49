"""gif2gif with a real (tiny) diffusers Stylizer: frames keep their index, time and duration, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rotoscope.core.frames import Frame
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from rotoscope.methods import MethodContext, get_method
from rotoscope.methods.gif2gif import Gif2Gif
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.options import StyleOptions

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"


@pytest.fixture(scope="module")
def source() -> list[Frame]:
    """Five frames of the sample at 128×96, given odd indices and uneven timing (as after trimming / VFR)."""
    decoded = list(iter_frames(SAMPLE, MediaOptions(width=128, fps=4, max_frames=5)))
    timing = [(3, 0.75, 0.25), (4, 1.0, 0.1), (7, 1.1, 0.4), (8, 1.5, 0.25), (12, 1.75, 0.05)]
    return [Frame(i, t, d, f.image) for (i, t, d), f in zip(timing, decoded)]


def context(batch_size: int, seed: int = 9, **style) -> MethodContext:
    options = StyleOptions(prompt="a cup", seed=-1, steps=4, strength=0.5, batch_size=batch_size, **style)
    options.validate()
    stylizer = build_stylizer(ModelOptions(model="tiny"), options)
    return MethodContext(stylizer, options, seed, previous=lambda i: None)


@pytest.fixture(scope="module")
def one_at_a_time(tiny_model_dir, source) -> list[Frame]:
    return list(Gif2Gif().run(iter(source), context(1)))


@pytest.mark.parametrize("batch_size", [1, 3])
def test_frames_keep_index_time_duration_in_order(tiny_model_dir, source, one_at_a_time, batch_size):
    out = one_at_a_time if batch_size == 1 else list(Gif2Gif().run(iter(source), context(batch_size)))
    assert [(f.index, f.time, f.duration) for f in out] == [(f.index, f.time, f.duration) for f in source]
    for got, given in zip(out, source):
        assert got.image.dtype == np.uint8 and got.image.shape == given.image.shape
        assert not np.array_equal(got.image, given.image)  # stylised, not passed through
    if batch_size != 1:
        # batches of 3 (3 + 2 frames) give the same frames as one at a time, within one level
        for a, b in zip(out, one_at_a_time):
            assert np.abs(a.image.astype(np.int16) - b.image.astype(np.int16)).max() <= 2


def test_frames_stream_one_batch_at_a_time(tiny_model_dir, source):
    """The method pulls only what one batch needs before yielding: frames are never all held."""
    pulled = []

    def lazy():
        for frame in source:
            pulled.append(frame.index)
            yield frame

    run = Gif2Gif().run(lazy(), context(2))
    first = next(run)
    assert first.index == 3 and pulled == [3, 4]
    assert [f.index for f in run] == [4, 7, 8, 12]


def test_uses_the_context_seed(tiny_model_dir, source, one_at_a_time):
    """The context's seed (drawn once per job) is used, not StyleOptions.seed (-1 here)."""
    again = list(Gif2Gif().run(iter(source[:2]), context(1, seed=9)))
    other = list(Gif2Gif().run(iter(source[:2]), context(1, seed=10)))
    for a, b, c in zip(again, one_at_a_time, other):
        assert np.array_equal(a.image, b.image)
        assert not np.array_equal(a.image, c.image)


def test_registered_by_name():
    assert isinstance(get_method("gif2gif"), Gif2Gif)
