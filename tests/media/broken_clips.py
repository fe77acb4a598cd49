"""Files with broken timestamps and indexes, made here by PyAV (nothing downloaded).

Each is a clip of :func:`tests.clips.picture` frames 0..n-1 (barcoded), so a
test can check that every frame is there, once, in order. Frame counts that
``ffmpeg -i F -f null -`` gave for these recipes (FFmpeg 7, by hand, when the
tests were written) are in :data:`FFMPEG_COUNTS`; the tests themselves compare
with :func:`reference_count`, PyAV's low-level decode of every packet, which
is what ffmpeg does and needs no binary.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from tests import clips

SIZE = (64, 48)
FPS = 30

# ffmpeg -i F -f null - → frame=N, measured for each recipe with frames=150
# (late_backwards.mp4: frames=330; concatenated.ts: two halves of 75). Before the fix rotoscope's decode gave
# 75, 120, 88, an error ("no decodable video frames"), 88, 88, 326 and 75.
FFMPEG_COUNTS = {"dup_pts.mp4": 150, "backwards_pts.mp4": 150, "bframes.avi": 150, "raw.h264": 150,
                 "no_index.avi": 150, "zeroed_index.avi": 150, "late_backwards.mp4": 330, "concatenated.ts": 150}


def encode(path: Path, *, frames: int, bframes: int = 0, fmt: str | None = None) -> Path:
    """libx264 at 30 fps, keyframe every 15 frames, with ``bframes`` B-frames."""
    with av.open(str(path), mode="w", format=fmt) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast", "x264-params": f"bframes={bframes}:keyint=15"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(clips.picture(i, SIZE), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def remux(src: Path, dst: Path, rewrite: Callable[[int, av.Packet], None]) -> Path:
    """Copy ``src``'s video packets to ``dst``, ``rewrite(k, packet)`` changing each one's timestamps first."""
    with av.open(str(src)) as source, av.open(str(dst), mode="w") as target:
        stream = source.streams.video[0]
        out = target.add_stream_from_template(stream)
        for k, packet in enumerate(source.demux(stream)):
            if packet.size == 0:
                continue
            rewrite(k, packet)
            packet.stream = out
            target.mux(packet)
    return dst


def dup_pts_mp4(folder: Path, frames: int) -> Path:
    """Every second frame repeats the pts of the one before (dts still rise): ffmpeg 150, we gave 75."""
    def rewrite(k: int, packet: av.Packet) -> None:
        step = packet.duration or 512
        packet.dts, packet.pts = k * step, ((k + 2) // 2) * 2 * step
    return remux(encode(folder / "clean.mp4", frames=frames), folder / "dup_pts.mp4", rewrite)


def backwards_pts_mp4(folder: Path, frames: int) -> Path:
    """Every fifth frame's pts jumps three frames back, the one before it one frame ahead."""
    def rewrite(k: int, packet: av.Packet) -> None:
        step = packet.duration or 512
        packet.dts = k * step
        packet.pts = (k + 3 - (3 if k % 5 == 4 else 0) + (1 if k % 5 == 3 else 0)) * step
    return remux(encode(folder / "clean.mp4", frames=frames), folder / "backwards_pts.mp4", rewrite)


def late_backwards_mp4(folder: Path, frames: int) -> Path:
    """Good timestamps for the first 310 frames (past what decode reads ahead), then every fifth goes back."""
    def rewrite(k: int, packet: av.Packet) -> None:
        step = packet.duration or 512
        packet.dts = k * step
        packet.pts = (k + 3 - (3 if k >= 310 and k % 5 == 4 else 0)) * step
    return remux(encode(folder / "clean.mp4", frames=frames), folder / "late_backwards.mp4", rewrite)


def bframes_avi(folder: Path, frames: int) -> Path:
    """H.264 with B-frames in AVI: the pts are in decoding order, not display order."""
    return encode(folder / "bframes.avi", frames=frames, bframes=2, fmt="avi")


def raw_h264(folder: Path, frames: int) -> Path:
    """A raw H.264 stream: no timestamps at all (every pts and dts missing)."""
    return encode(folder / "raw.h264", frames=frames, bframes=2, fmt="h264")


def _index(data: bytes) -> tuple[int, int]:
    at = data.rindex(b"idx1")
    return at, struct.unpack("<I", data[at + 4 : at + 8])[0]


def no_index_avi(folder: Path, frames: int) -> Path:
    """The AVI above with its idx1 index cut off (a copy that stopped just before the end)."""
    data = bframes_avi(folder, frames).read_bytes()
    at, _ = _index(data)
    path = folder / "no_index.avi"
    path.write_bytes(data[:at])
    return path


def zeroed_index_avi(folder: Path, frames: int) -> Path:
    """The AVI above with its idx1 entries overwritten by zeros (a damaged index)."""
    data = bytearray(bframes_avi(folder, frames).read_bytes())
    at, size = _index(data)
    data[at + 8 : at + 8 + size] = bytes(size)
    path = folder / "zeroed_index.avi"
    path.write_bytes(bytes(data))
    return path


def concatenated_ts(folder: Path, frames: int) -> Path:
    """Two MPEG-TS segments joined byte for byte (``cat a.ts b.ts``): the timestamps restart half way.
    Each half is frames 0..frames/2-1. ffmpeg: all 150 for frames=150; before the fix we gave 75."""
    half = encode(folder / "half.ts", frames=frames // 2, bframes=2, fmt="mpegts").read_bytes()
    path = folder / "concatenated.ts"
    path.write_bytes(half + half)
    return path


def damaged_mjpeg_avi(folder: Path, frames: int = 20, bad: tuple[int, ...] = (5, 11)) -> Path:
    """Motion-JPEG AVI whose JPEGs ``bad`` are zeroed from SOI to EOI: the decoder rejects those
    packets (ffmpeg: "Error while decoding", 18 of 20 frames; before the fix we stopped at 5)."""
    path = folder / "damaged_mjpeg.avi"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuvj420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(clips.picture(i, SIZE), format="rgb24").reformat(format="yuvj420p")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]
    for k in bad:
        end = data.index(b"\xff\xd9", starts[k])
        data[starts[k] : end] = bytes(end - starts[k])
    path.write_bytes(bytes(data))
    return path


RECIPES = {"dup_pts.mp4": dup_pts_mp4, "backwards_pts.mp4": backwards_pts_mp4, "bframes.avi": bframes_avi,
           "raw.h264": raw_h264, "no_index.avi": no_index_avi, "zeroed_index.avi": zeroed_index_avi}


def reference_count(path: Path) -> int:
    """Frames ffmpeg decodes (`ffmpeg -i F -f null -`): every packet decoded, damaged ones skipped."""
    count = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            try:
                count += len(packet.decode())
            except av.error.FFmpegError:
                continue
    return count
