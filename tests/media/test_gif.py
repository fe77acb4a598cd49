"""GifWriter: real encodes of generated clips, read back with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rotoscope.core.frames import Frame
from rotoscope.errors import OptionError, OutputError
from rotoscope.media.gif import GifOptions, GifWriter
from rotoscope.metrics import psnr, ssim

W, H = 64, 48


def shapes(n: int, fps: float, *, alpha: bool = False) -> list[Frame]:
    """A gradient background with a moving square and a moving disc."""
    yy, xx = np.mgrid[0:H, 0:W]
    frames = []
    for i in range(n):
        img = np.zeros((H, W, 4 if alpha else 3), np.uint8)
        img[..., 0] = (xx * 4) % 256
        img[..., 1] = (yy * 5) % 256
        img[..., 2] = 90
        x = (3 * i) % (W - 12)
        img[10:22, x : x + 12, :3] = (250, 30, 30)
        disc = (xx - (W - 10 - 2 * i % (W - 20))) ** 2 + (yy - 34) ** 2 < 36
        img[disc, :3] = (20, 200, 40)
        if alpha:
            img[..., 3] = 0
            img[10:22, x : x + 12, 3] = 255
            img[disc, 3] = 255
        frames.append(Frame(i, i / fps, 1 / fps, img))
    return frames


def encode(path: Path, frames: list[Frame], **opts) -> Path:
    with GifWriter(path, GifOptions(**opts)) as w:
        for f in frames:
            w.write(f)
    return path


def read_gif(path: Path) -> tuple[list[np.ndarray], list[int], dict]:
    """Composited RGBA frames, durations (ms) and the first frame's info."""
    frames, durations = [], []
    with Image.open(path) as im:
        info = dict(im.info)
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
            frames.append(np.asarray(im.convert("RGBA")))
    return frames, durations, info


@pytest.mark.parametrize("palette", ["global", "per-frame"])
def test_round_trip_frames_loop_comment_quality(tmp_path: Path, palette: str) -> None:
    src = shapes(12, 10)
    out = encode(tmp_path / "a.gif", src, palette=palette, comment="Steps: 20, Seed: 7")
    frames, durations, info = read_gif(out)
    assert len(frames) == 12
    assert durations == [100] * 12
    assert info["loop"] == 0
    assert info["comment"] == b"Steps: 20, Seed: 7"
    for f, s in zip(frames, src):
        assert (f[..., 3] == 255).all()
        assert psnr(f[..., :3], s.image) > 30
        assert ssim(f[..., :3], s.image) > 0.9  # a 3072-colour gradient in ≤ 256 colours
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif"]  # no temp or spool left


def test_15_fps_delays_follow_true_time(tmp_path: Path) -> None:
    frames, durations, _ = read_gif(encode(tmp_path / "a.gif", shapes(15, 15)))
    assert len(frames) == 15
    # running sum = round(end time in cs): 7, 13, 20, 27, 33, 40, …
    assert durations == [70, 60, 70] * 5
    assert abs(sum(durations) - 1000) <= 10


def test_variable_durations_and_minimum_delay(tmp_path: Path) -> None:
    src = shapes(6, 10)
    times = [0.0, 0.004, 0.008, 0.012, 0.5, 0.75]  # three 4 ms frames, then 488 ms, 250 ms, 250 ms
    ends = times[1:] + [1.0]
    src = [Frame(f.index, t, e - t, f.image) for f, t, e in zip(src, times, ends)]
    _, durations, _ = read_gif(encode(tmp_path / "a.gif", src))
    assert min(durations) >= 20  # never 0/10 ms (browsers show those as 100 ms)
    assert durations[:3] == [20, 20, 20]
    assert sum(durations[:4]) == 500  # the overshoot is taken back at once
    assert durations[4:] == [250, 250]


@pytest.mark.parametrize("palette", ["global", "per-frame"])
def test_colors_within_budget(tmp_path: Path, palette: str) -> None:
    frames, _, _ = read_gif(encode(tmp_path / "a.gif", shapes(8, 10), colors=16, palette=palette))
    if palette == "global":
        colours = np.unique(np.concatenate([f[..., :3].reshape(-1, 3) for f in frames]), axis=0)
        assert len(colours) <= 16
    else:  # each frame's own table: the colours it draws (what it leaves shows older tables)
        prev = None
        for f in frames:
            drawn = f[..., :3].reshape(-1, 3)
            if prev is not None:
                drawn = drawn[(f != prev).any(-1).ravel()]
            assert len(np.unique(drawn, axis=0)) <= 16
            prev = f


@pytest.mark.parametrize("palette", ["global", "per-frame"])
def test_rgba_becomes_transparency(tmp_path: Path, palette: str) -> None:
    src = shapes(10, 10, alpha=True)  # shapes move over a transparent background
    frames, _, _ = read_gif(encode(tmp_path / "a.gif", src, palette=palette))
    assert len(frames) == 10
    for f, s in zip(frames, src):
        want = s.image[..., 3] >= 128
        np.testing.assert_array_equal(f[..., 3] == 255, want)
        assert (f[..., 3][~want] == 0).all()
        assert np.abs(f[..., :3][want].astype(int) - s.image[..., :3][want]).mean() < 8


def test_loop_count_and_play_once(tmp_path: Path) -> None:
    *_, info = read_gif(encode(tmp_path / "three.gif", shapes(3, 10), loop=3))
    assert info["loop"] == 3
    *_, info = read_gif(encode(tmp_path / "once.gif", shapes(3, 10), loop=-1))
    assert "loop" not in info


@pytest.mark.parametrize("dither", ["floyd-steinberg", "bayer"])
def test_dithers_encode(tmp_path: Path, dither: str) -> None:
    src = shapes(4, 10)
    frames, _, _ = read_gif(encode(tmp_path / "a.gif", src, dither=dither, colors=32))
    assert len(frames) == 4
    assert ssim(frames[-1][..., :3], src[-1].image) > 0.6


def test_spool_is_on_disk_and_removed(tmp_path: Path) -> None:
    out = tmp_path / "a.gif"
    w = GifWriter(out, GifOptions())
    src = shapes(5, 10)
    for f in src:
        w.write(f)
    assert w.spool_path is not None and w.spool_path.exists()
    assert w.spool_path.stat().st_size == 5 * H * W * 3  # frames spooled, not kept in memory
    assert not out.exists()  # nothing at the final path before close()
    w.close()
    assert out.exists() and not w.spool_path.exists() and not w.temp_path.exists()


@pytest.mark.parametrize("palette", ["global", "per-frame"])
def test_abort_leaves_nothing(tmp_path: Path, palette: str) -> None:
    out = tmp_path / "a.gif"
    w = GifWriter(out, GifOptions(palette=palette))
    for f in shapes(3, 10):
        w.write(f)
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_exception_in_context_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "a.gif"
    with pytest.raises(RuntimeError, match="stylizer failed"):
        with GifWriter(out, GifOptions()) as w:
            for f in shapes(3, 10):
                w.write(f)
            raise RuntimeError("stylizer failed")
    assert list(tmp_path.iterdir()) == []


def test_size_change_and_empty_clip_are_errors(tmp_path: Path) -> None:
    out = tmp_path / "a.gif"
    with pytest.raises(OutputError, match="same size"):
        with GifWriter(out, GifOptions()) as w:
            w.write(shapes(1, 10)[0])
            w.write(Frame(1, 0.1, 0.1, np.zeros((10, 10, 3), np.uint8)))
    with pytest.raises(OutputError, match="at least one frame"):
        GifWriter(out, GifOptions()).close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="does not exist"):
        GifWriter(tmp_path / "missing" / "a.gif", GifOptions())


@pytest.mark.parametrize(
    ("opts", "words"),
    [
        ({"colors": 1}, ["2 to 256"]),
        ({"colors": 257}, ["2 to 256"]),
        ({"dither": "atkinson"}, ["none", "floyd-steinberg", "bayer"]),
        ({"palette": "local"}, ["global", "per-frame"]),
        ({"loop": -2}, ["forever"]),
    ],
)
def test_bad_options_raise_option_error(tmp_path: Path, opts: dict, words: list[str]) -> None:
    with pytest.raises(OptionError) as e:
        GifWriter(tmp_path / "a.gif", GifOptions(**opts))
    for word in words:
        assert word in str(e.value)
    assert list(tmp_path.iterdir()) == []


# -- internals with a simple reference -----------------------------------------------------------


def _run_fill_by_columns(idx, keep, shown):
    """The rule spelled out column by column: a kept pixel takes the shown index when
    that continues what is written to its left."""
    out = idx.copy()
    for x in range(1, out.shape[1]):
        k = keep[:, x] & (shown[:, x] == out[:, x - 1])
        out[k, x] = shown[k, x]
    return out


def test_run_fill_matches_the_column_rule():
    from rotoscope.media.gif import _run_fill

    rng = np.random.default_rng(1)
    transparent = 5
    for _ in range(300):
        h, w = rng.integers(1, 12, 2)
        shown = rng.integers(0, 3, (h, w)).astype(np.uint8)
        opaque = rng.random((h, w)) < 0.8
        idx = rng.integers(0, 4, (h, w)).astype(np.uint8)
        idx[rng.random((h, w)) < 0.4] = transparent
        keep = (idx == transparent) & opaque
        assert np.array_equal(_run_fill(idx, keep, shown), _run_fill_by_columns(idx, keep, shown))


def test_palette_of_few_colours_is_exact_and_of_many_is_close():
    from rotoscope.media.gif import ColorStats, _nearest, build_palette

    rng = np.random.default_rng(2)
    few = rng.integers(0, 256, (40, 3)).astype(np.uint8)
    stats = ColorStats()
    stats.add(few[rng.integers(0, 40, 5000)])
    palette, _ = build_palette(stats, 255)
    assert {tuple(c) for c in palette} == {tuple(c) for c in few}

    many = rng.normal(128, 40, (60_000, 3)).clip(0, 255).astype(np.uint8)
    stats = ColorStats()
    stats.add(many)
    palette, _ = build_palette(stats, 64)
    def error(pal):
        return ((pal[_nearest(many, pal)].astype(float) - many) ** 2).sum(1).mean()

    levels = np.array([32, 96, 160, 224], np.uint8)  # the 64-colour uniform grid, for scale
    grid = np.stack(np.meshgrid(levels, levels, levels), -1).reshape(-1, 3)
    assert len(palette) <= 64 and error(palette) < 0.6 * error(grid)  # measured 0.47
