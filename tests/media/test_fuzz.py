"""Broken media never crashes rotoscope (issue 17): small valid MP4 / GIF / WebM files, cut at
random offsets and with random bytes flipped, go through ``api.probe`` and ``api.convert``
(and a few through the ``rotoscope convert`` CLI). Each either works or raises a
RotoscopeError (the CLI: exit 0 or 2, no traceback), and nothing appears but the output asked for.

Derandomized (the same examples every run) and small, so CI stays stable and quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from rotoscope import api
from rotoscope.errors import RotoscopeError
from tests import clips

ROOT = Path(__file__).resolve().parents[2]
SIZE = (48, 32)
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _video(path: Path, codec: str, frames: int = 6) -> bytes:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"} if codec == "libx264" else {"deadline": "realtime", "cpu-used": "8"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(clips.picture(i, SIZE), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def _gif(path: Path, frames: int = 6) -> bytes:
    images = [Image.fromarray(clips.picture(i, SIZE)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    return path.read_bytes()


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz_originals")
    return {".mp4": _video(folder / "a.mp4", "libx264"), ".webm": _video(folder / "a.webm", "libvpx-vp9"),
            ".gif": _gif(folder / "a.gif")}


@st.composite
def damaged(draw) -> tuple[str, float, list[tuple[float, int]]]:
    """(kind, where to cut as a fraction of the length, [(where, xor mask)] flips)."""
    kind = draw(st.sampled_from([".mp4", ".webm", ".gif"]))
    cut = draw(st.one_of(st.just(1.0), st.floats(0.0, 1.0)))
    flips = draw(st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)), max_size=8))
    return kind, cut, flips


def damage(data: bytes, cut: float, flips: list[tuple[float, int]]) -> bytes:
    out = bytearray(data[: int(len(data) * cut)])
    for where, mask in flips:
        if out:
            out[int(where * len(out))] ^= mask
    return bytes(out)


def damaged_source(folder: Path, originals, case) -> Path:
    """The hypothesis case written into ``folder`` as ``in.EXT``."""
    kind, cut, flips = case
    source = folder / f"in{kind}"
    source.write_bytes(damage(originals[kind], cut, flips))
    return source


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@FUZZ
@given(case=damaged())
def test_probe_and_convert_work_or_say_why(originals, case):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = damaged_source(folder, originals, case)
        out = folder / "out" / "clip.gif"
        try:
            api.probe(source)
        except RotoscopeError as exc:
            assert "\n" not in str(exc)
        try:
            api.convert(source, str(out), width=32, max_frames=6)
        except RotoscopeError as exc:
            assert "\n" not in str(exc)
            assert not out.exists()
        # Nothing but the output asked for (no temp files, nothing beside the source).
        assert listing(folder) in ([source.name], [source.name, "out"], [source.name, "out", "out/clip.gif"])


@settings(max_examples=2, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=damaged())
def test_cli_convert_exits_0_or_2_without_a_traceback(originals, case):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = damaged_source(folder, originals, case)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        done = subprocess.run([sys.executable, "-m", "rotoscope", "convert", str(source), "--width", "32", "-o",
                               str(folder / "out.gif")], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode in (0, 2), done.stderr
        assert "Traceback" not in done.stderr
        assert listing(folder) in ([source.name], [source.name, "out.gif"])
        assert (done.returncode == 0) == (folder / "out.gif").exists()
