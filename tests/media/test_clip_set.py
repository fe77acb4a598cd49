"""The clip set of bench/consistency.py --clips set: the committed clips are what scripts/make_clip_set.py draws,
have the motion it declares, and the clips without cuts have none (so the bench's per-clip figures are about
motion, not cuts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from rotoscope.core.flow import flow
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from rotoscope.media.shots import find_shots

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def _script():
    spec = importlib.util.spec_from_file_location("make_clip_set", ROOT / "scripts" / "make_clip_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


def frames(name: str, fps: float | None = None) -> list[np.ndarray]:
    return [f.image[..., :3] for f in iter_frames(SAMPLES / name, MediaOptions(fps=fps))]


@pytest.mark.parametrize("name", ["zoom.mp4", "occlusion.mp4", "bunny.mp4"])
def test_the_clips_without_cuts_have_none_at_the_bench_fps_and_their_own(name):
    for fps in (None, 10):
        shots = find_shots(iter(frames(name, fps)), None, "auto")
        assert shots.cuts == (), (name, fps, shots.cuts)


@pytest.mark.parametrize("name, draw", [("zoom.mp4", "zoom_frames"), ("occlusion.mp4", "occlusion_frames")])
def test_the_committed_clips_are_what_the_script_draws(name, draw):
    drawn = getattr(SCRIPT, draw)()
    decoded = frames(name)
    assert len(decoded) == len(drawn) == SCRIPT.FRAMES
    for t in (0, len(drawn) // 2, len(drawn) - 1):  # H.264 at crf 20: close, not equal
        assert np.abs(decoded[t].astype(np.int16) - drawn[t]).mean() < 4


def test_the_zoom_clip_scales_by_zoom_a_frame():
    decoded = frames("zoom.mp4")
    h, w = decoded[0].shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rx, ry = xs - (w - 1) / 2, ys - (h - 1) / 2
    inner = (np.abs(rx) < 0.4 * w) & (np.abs(ry) < 0.4 * h)  # away from the borders, where flow has no match
    for t in (5, 40):
        f = flow(decoded[t], decoded[t + 1])
        scale = 1 + (f[..., 0] * rx + f[..., 1] * ry)[inner].sum() / (rx**2 + ry**2)[inner].sum()
        assert scale == pytest.approx(SCRIPT.ZOOM, abs=0.004), t


def test_the_occlusion_clip_moves_its_discs_over_a_slow_pan():
    decoded = frames("occlusion.mp4")
    h, w = decoded[0].shape[:2]
    t = 20
    f = flow(decoded[t], decoded[t + 1])
    ys, xs = np.mgrid[0:h, 0:w]
    (fx, fy, r, v), _ = SCRIPT.OCC_DISCS
    cx, cy = fx * w + v * t, fy * h
    inside = (xs - cx) ** 2 + (ys - cy) ** 2 < (0.6 * r) ** 2
    far = np.ones((h, w), bool)
    for k, (gx, gy, rr, vv) in enumerate(SCRIPT.OCC_DISCS):
        far &= (xs - (gx * w + vv * t)) ** 2 + (ys - gy * h) ** 2 > (rr + 12) ** 2
    far[:, -12:] = False  # pixels leaving the frame
    assert np.median(f[..., 0][inside]) == pytest.approx(v, abs=0.5)
    assert np.median(f[..., 0][far]) == pytest.approx(-SCRIPT.OCC_PAN, abs=0.3)  # the camera pans right: the scene moves left
