"""--max-size lands within 10 % under the budget (issue 17), lowering the cheapest knob first:
lossy, then colours, then the frame rate, and the frame size only last."""

from __future__ import annotations

import logging

import pytest

from rotoscope.errors import OutputError
from rotoscope.media import fit
from rotoscope.media.convert import convert
from rotoscope.media.decode import iter_frames
from rotoscope.media.fit import Attempt, adjust, fit_gif, quality
from rotoscope.media.gif import GifOptions, GifWriter
from rotoscope.media.options import MediaOptions, OutputOptions

CUT = MediaOptions(duration=1, fps=10, width=96)  # 10 frames of the sample clip, 96×72


@pytest.fixture(scope="module")
def frames(sample_clip):
    return list(iter_frames(sample_clip, CUT))


def encoded(frames, attempt: Attempt, folder) -> int:
    """Bytes of the GIF ``attempt`` gives (defaults: 256 colours, lossy 2, no dither)."""
    options = GifOptions(colors=attempt.colors, lossy=2.0 if attempt.lossy is None else attempt.lossy,
                         dither=attempt.dither or "none")
    path = folder / "probe.gif"
    with GifWriter(path, options) as writer:
        for frame in adjust(iter(frames), attempt):
            writer.write(frame)
    return path.stat().st_size


@pytest.fixture(scope="module")
def sizes(frames, tmp_path_factory):
    """The sizes at the ends of each regime, for budgets that force it."""
    folder = tmp_path_factory.mktemp("sizes")
    least, _ = quality(0.0, 256, 2.0)
    return {
        "full": encoded(frames, Attempt(256), folder),
        "lossy max": encoded(frames, Attempt(256, lossy=fit.LOSSY_MAX), folder),
        "least": encoded(frames, Attempt(least, lossy=fit.LOSSY_MAX), folder),
        "least, 1/4 fps": encoded(frames, Attempt(least, keep_every=4, lossy=fit.LOSSY_MAX), folder),
        "least, dithered": encoded(frames, Attempt(least, dither="floyd-steinberg"), folder),
    }


def fitted(frames, folder, budget, **options):
    out = folder / "fitted.gif"
    attempt = fit_gif(lambda: iter(frames), out, OutputOptions(outputs=[str(out)], max_size=budget, **options))
    return attempt, out.stat().st_size


@pytest.mark.parametrize("regime", ["lossy", "colours", "frame rate", "size"])
def test_lands_within_ten_percent_under_the_budget(frames, sizes, tmp_path, regime):
    budget = {
        "lossy": (sizes["full"] + sizes["lossy max"]) // 2,
        "colours": (sizes["lossy max"] + sizes["least"]) // 2,
        "frame rate": int(sizes["least"] * 0.8),
        "size": int(sizes["least, 1/4 fps"] * 0.6),
    }[regime]
    attempt, size = fitted(frames, tmp_path, budget)
    assert 0.9 * budget <= size <= budget, (regime, budget, size, attempt)
    # The knobs of earlier regimes only: the frame keeps its size until the last one.
    assert (attempt.lossy is not None) == True  # noqa: E712 - lossy is always the first knob turned
    assert (attempt.colors < 256) == (regime != "lossy")
    assert (attempt.keep_every > 1) == (regime in ("frame rate", "size"))
    assert (attempt.scale < 1) == (regime == "size")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fitted.gif"]  # no temp files left


def test_what_it_used_is_said(frames, sizes, tmp_path, caplog):
    budget = int(sizes["least"] * 0.8)
    with caplog.at_level(logging.INFO, logger="rotoscope"):
        attempt, size = fitted(frames, tmp_path, budget)
    notes = [r.getMessage() for r in caplog.records if r.name == "rotoscope"]
    assert notes == [f"fitted.gif: {size / 1e3:.0f} KB ({size / budget:.0%} of --max-size {budget / 1e3:.0f} KB) "
                     f"with {attempt.describe()}."]
    assert "lossy 20" in attempt.describe() and "of the frame rate" in attempt.describe()


def test_dither_is_given_up_before_the_frame_rate(frames, sizes, tmp_path):
    """Floyd–Steinberg costs bytes and lossy does nothing under it: it goes before the frame rate does."""
    assert sizes["least, dithered"] > sizes["least"] * 1.1  # the premise: dithering costs bytes
    budget = (sizes["least"] + sizes["least, dithered"]) // 2
    attempt, size = fitted(frames, tmp_path, budget, dither="floyd-steinberg")
    assert attempt.dither == "none" and attempt.keep_every == 1 and attempt.scale == 1.0
    assert 0.9 * budget <= size <= budget


def test_convert_with_max_size_notes_the_knobs(sample_clip, sizes, tmp_path):
    budget = (sizes["lossy max"] + sizes["least"]) // 2
    out = tmp_path / "cup.gif"
    result = convert(sample_clip, CUT, OutputOptions(outputs=[str(out)], max_size=budget))
    assert 0.9 * budget <= out.stat().st_size <= budget
    [note] = result.notes
    assert note.startswith(f"{out}: ") and note.endswith(" colours, lossy 20") and f"{out}: 256 colours" not in note


def test_unreachable_budget_names_the_least_it_tried(box_mp4, tmp_path):
    out = tmp_path / "tiny.gif"
    with pytest.raises(OutputError, match=r"does not fit --max-size .* even at 32 colours, 1/4 of the frame rate and 40% size"):
        convert(box_mp4, MediaOptions(max_frames=8), OutputOptions(outputs=[str(out)], max_size=1024))
    assert list(tmp_path.iterdir()) == []


def test_quality_path():
    assert quality(1.0, 256, 2.0) == (256, None)  # the user's settings
    assert quality(0.5, 256, 2.0) == (256, fit.LOSSY_MAX)  # lossy first
    assert quality(0.0, 256, 2.0) == (fit.MIN_COLORS, fit.LOSSY_MAX)  # then colours
    assert quality(0.0, 16, 30.0) == (16, None)  # never above what the user asked
