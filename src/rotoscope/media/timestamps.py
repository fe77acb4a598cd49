"""A time for every decoded frame, even when the container's timestamps are broken.

Real files have missing timestamps (raw H.264, AVIs with B-frames), repeated
ones (remuxed MP4s) and ones that go backwards (cut-together or damaged
files). Dropping such frames loses picture — half of a clip, in one report.
Like ffmpeg we keep *every* frame the decoder gives, in the order it gives
them (the decoder's order is the display order; the timestamps are what is
broken), and give each a time:

- When the first packets' timestamps are already broken (:func:`broken`:
  missing, repeated, dts going back, or B-frames whose pts rise in decoding
  order as AVI stores them), the container's times are not used at all: the
  frames are laid end to end at the stream's frame interval ("nominal" clock;
  decode also does not seek in such a file, so every cut agrees).
- Otherwise FFmpeg's ``best_effort_timestamp`` (``guess_correct_pts`` in
  libavcodec: the pts, or the dts once pts have gone wrong more often), and a
  frame whose time is still missing or not after the one before is placed one
  frame interval after it (damage later in an otherwise good file).

Frame times are therefore strictly increasing. :attr:`FrameClock.repaired`
counts the frames whose own pts was missing or not after the previous
frame's, so callers can say so. Pure Python, no numpy: probe imports it.
"""

from __future__ import annotations

from fractions import Fraction

# Times closer than this (seconds) count as the same time.
EPSILON = 1e-6
# When a stream says nothing of its rate: ffmpeg's default for raw streams.
DEFAULT_INTERVAL = 1 / 25
# Packets read ahead (no decoding) to judge a file's timestamps: ~10 s at 30 fps.
SCAN_PACKETS = 300

Stamps = list[tuple[int | None, int | None]]  # (pts, dts) of each packet, in file order


def broken(stamps: Stamps, reorders: bool) -> bool:
    """Whether packet timestamps cannot place frames: missing, repeated, dts not rising, or decoding-order pts."""
    if any(pts is None for pts, _ in stamps):
        return True
    pts = [p for p, _ in stamps]
    if len(set(pts)) < len(pts):
        return True
    dts = [d for _, d in stamps if d is not None]
    if any(b <= a for a, b in zip(dts, dts[1:])):
        return True
    # A stream with B-frames whose pts rise in decoding order carries decoding-order
    # times (AVI does): the frames the decoder puts in display order won't match them.
    return reorders and len(pts) > 2 and all(b > a for a, b in zip(pts, pts[1:]))


# Containers that store B-frame streams with decoding-order times (no composition offsets).
DECODING_ORDER_CONTAINERS = frozenset({"avi"})


def reorders(stream) -> bool:  # noqa: ANN001 - av.video.stream.VideoStream
    """Whether the stream's decoder reorders frames (B-frames) in a container that stores decoding-order
    times. MP4/MKV carry display times for B-frames: a stream there whose encoder merely allowed B-frames
    keeps its own (possibly variable) times instead of being re-timed at a fixed rate."""
    container = getattr(getattr(stream, "container", None), "format", None)
    names = set((getattr(container, "name", "") or "").split(","))
    return bool(getattr(stream.codec_context, "has_b_frames", 0)) and bool(names & DECODING_ORDER_CONTAINERS)


def packet_stamps(container, stream, limit: int | None = None) -> tuple[Stamps, float]:  # noqa: ANN001
    """(pts, dts) of the stream's packets (the first ``limit``), and the last one's duration in seconds."""
    import av  # only when a file is scanned

    stamps: Stamps = []
    last_duration = 0.0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            stamps.append((packet.pts, packet.dts))
            last_duration = float((packet.duration or 0) * stream.time_base)
            if limit is not None and len(stamps) >= limit:
                break
    except av.error.FFmpegError:
        pass  # the data ends or is unreadable here: decoding will stop here too
    return stamps, last_duration


class FrameClock:
    """Times (seconds from ``origin``) for frames in decoder output order; strictly increasing."""

    def __init__(self, time_base: Fraction | None, origin: float = 0.0, interval: float | None = None,
                 nominal: bool = False) -> None:
        self.time_base = time_base
        self.nominal = nominal
        self.origin = origin
        self.interval = interval if interval and interval > 0 else DEFAULT_INTERVAL
        self.repaired = 0  # frames whose own pts was missing or not after the previous frame's
        self.step = self.interval  # the last frame's interval
        self._faulty_pts = 0
        self._faulty_dts = 0
        self._last_pts: int | None = None
        self._last_dts: int | None = None
        self._previous: float | None = None
        self._previous_pts: int | None = None

    def best_effort(self, pts: int | None, dts: int | None) -> int | None:
        """libavcodec's guess_correct_pts: pts, or dts once pts have been wrong more often."""
        if dts is not None:
            self._faulty_dts += self._last_dts is not None and dts <= self._last_dts
            self._last_dts = dts
        elif pts is not None:
            self._last_dts = pts
        if pts is not None:
            self._faulty_pts += self._last_pts is not None and pts <= self._last_pts
            self._last_pts = pts
        elif dts is not None:
            self._last_pts = dts
        if pts is not None and (self._faulty_pts <= self._faulty_dts or dts is None):
            return pts
        return dts

    def place(self, pts: int | None, dts: int | None, duration: float | None = None) -> float:
        """The time of the next frame out of the decoder (``duration`` in seconds, if the frame says)."""
        step = duration if duration and duration > 0 else self.interval
        self.step = step
        own_pts_wrong = pts is None or (self._previous_pts is not None and pts <= self._previous_pts)
        if pts is not None:
            self._previous_pts = pts
        if self.nominal:
            self.repaired += own_pts_wrong
            time = (self._previous + step) if self._previous is not None else 0.0
            self._previous = time
            return time
        ticks = self.best_effort(pts, dts)
        time = None
        if ticks is not None and self.time_base is not None:
            time = float(ticks * self.time_base) - self.origin
        if time is None or (self._previous is not None and time <= self._previous + EPSILON):
            time = (self._previous + step) if self._previous is not None else 0.0
            own_pts_wrong = True
        self.repaired += own_pts_wrong
        self._previous = time
        return time


def describe_repair(repaired: int, total: int | None = None, interval: float | None = None) -> str:
    of = f" of {total}" if total is not None else ""
    rate = f" at {1 / interval:.4g} fps" if interval else ""
    return (f"{repaired}{of} frames had missing, repeated or backwards timestamps; "
            f"every frame is kept, in decoding order, and re-timed{rate}")
