"""Transparent VP9 WebM keeps its alpha (issue 17): FFmpeg's native vp9 decoder drops the
alpha plane WebM stores beside the picture; rotoscope reads such tracks with libvpx."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from rotoscope.errors import InputError
from rotoscope.media import sources
from rotoscope.media.decode import iter_frames
from rotoscope.media.masks import alpha_mask
from rotoscope.media.probe import probe
from tests import clips
from tests.clips import read_index

SIZE = (64, 48)


def webm(path, *, alpha: bool, frames: int = 8):
    """VP9 WebM of clips.rgba_picture frames (top-left quarter transparent) via libvpx-vp9."""
    assert "libvpx-vp9" in av.codecs_available, "this PyAV build has no libvpx-vp9 encoder"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libvpx-vp9", rate=10)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuva420p" if alpha else "yuv420p"
        stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "20", "b": "0"}
        for i in range(frames):
            rgba = clips.rgba_picture(i, SIZE)
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format=stream.pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def transparent_webm(tmp_path_factory):
    return webm(tmp_path_factory.mktemp("webm") / "alpha.webm", alpha=True)


def test_native_decoder_would_drop_the_alpha(transparent_webm):
    """The premise: what PyAV's default (FFmpeg's vp9) decoder gives for this file."""
    with av.open(str(transparent_webm)) as container:
        stream = container.streams.video[0]
        assert stream.metadata.get("alpha_mode") == "1"
        assert next(container.decode(stream)).format.name == "yuv420p"


def test_transparent_vp9_decodes_with_alpha(transparent_webm):
    frames = list(iter_frames(transparent_webm))
    assert [read_index(f.image) for f in frames] == list(range(8))
    for frame in frames:
        assert frame.image.shape == (48, 64, 4)
        alpha = frame.image[..., 3]
        assert alpha[: 48 // 4 - 2, : 64 // 4 - 2].max() < 16  # the transparent quarter
        assert alpha[48 // 2 :, 64 // 2 :].min() > 240


def test_probe_says_yuva420p(transparent_webm):
    info = probe(transparent_webm)
    assert (info.codec, info.pixel_format, info.has_alpha, info.frame_count) == ("vp9", "yuva420p", True, 8)


def test_mask_from_alpha_reads_a_transparent_webm(transparent_webm):
    mask = alpha_mask(next(iter_frames(transparent_webm)).image)
    assert mask[:10, :14].max() == 0 and mask[30:, 40:].min() == 255


def test_opaque_vp9_is_read_as_before(tmp_path):
    path = webm(tmp_path / "opaque.webm", alpha=False, frames=3)
    assert next(iter_frames(path)).image.shape == (48, 64, 3)
    assert probe(path).pixel_format == "yuv420p" and not probe(path).has_alpha


def test_without_a_libvpx_decoder_it_says_so(transparent_webm, monkeypatch):
    """A PyAV build without libvpx: a one-line error, not frames silently without their alpha."""
    monkeypatch.setitem(sources.ALPHA_DECODERS, "vp9", "libvpx-vp9-not-in-this-build")
    for read in (lambda: next(iter_frames(transparent_webm)), lambda: probe(transparent_webm)):
        with pytest.raises(InputError, match="is transparent VP9 but this PyAV build has no .* decoder"):
            read()
