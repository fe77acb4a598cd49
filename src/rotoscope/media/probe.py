"""`rotoscope probe`: the facts about a source a user needs before cutting it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av

from ..errors import InputError
from .sources import PILLOW_SUFFIXES, check_file, image_sequence, open_container, side_alpha, video_decoder

if TYPE_CHECKING:
    from PIL import Image

# Pillow (still images, WebP, APNG) is imported only when such a source is probed,
# and numpy not at all: `rotoscope probe clip.mp4` loads PyAV and nothing heavier.

# Timestamps that differ from evenly spaced by more than this fraction of a
# frame interval mark a variable-frame-rate stream.
VFR_TOLERANCE = 0.25


@dataclass
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int


@dataclass
class ProbeInfo:
    path: str
    container: str
    codec: str
    duration: float  # seconds, as displayed (first frame start → last frame end)
    frame_count: int
    fps: float  # average rate
    variable_frame_rate: bool
    width: int  # as displayed (after rotation)
    height: int
    rotation: int  # degrees counter-clockwise the stored picture is turned for display
    pixel_format: str
    has_alpha: bool
    audio: AudioInfo | None
    # Frames whose container timestamps were missing, repeated or backwards and
    # that decoding re-times (0 for a healthy file); frame_count counts them all.
    timestamps_repaired: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def format_has_alpha(pix_fmt: str | None) -> bool:
    if not pix_fmt:
        return False
    try:
        fmt = av.VideoFormat(pix_fmt)
    except (ValueError, av.error.FFmpegError):
        return False
    # GIF and 8-bit PNG are palette formats whose palette may hold transparency.
    return fmt.has_palette or any(c.is_alpha for c in fmt.components)


def probe(source: str | Path) -> ProbeInfo:
    files = image_sequence(source)
    if files is not None:
        return _probe_images(str(source), files)
    path = Path(source)
    check_file(path)
    if path.suffix.lower() in PILLOW_SUFFIXES:
        return _probe_pillow(path)
    with open_container(path) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        times, last_duration, repaired = _frame_times(container, stream)
        if not times:
            raise InputError(f"{path} holds no video frames; check the file.")
        start = times[0]
        deltas = [b - a for a, b in zip(times, times[1:])]
        if deltas:
            median = _median(deltas)
            last_duration = last_duration or median
            vfr = bool(median > 0 and max(abs(d - median) for d in deltas) > VFR_TOLERANCE * median)
        else:
            vfr = False
            last_duration = last_duration or (1 / float(stream.average_rate) if stream.average_rate else 0.1)
        duration = times[-1] - start + last_duration
        rotation = _rotation(container, stream)
        pix_fmt = ctx.pix_fmt or ""
        if side_alpha(stream):
            video_decoder(path, stream)  # says so when this PyAV cannot read the alpha
            pix_fmt = {"yuv420p": "yuva420p"}.get(pix_fmt, pix_fmt)
        width, height = ctx.width, ctx.height
        if rotation % 180:
            width, height = height, width
        audio = None
        if container.streams.audio:
            a = container.streams.audio[0]
            audio = AudioInfo(a.codec_context.name, int(a.codec_context.sample_rate or 0), int(a.codec_context.channels or 0))
        fps = len(times) / duration if duration > 0 else 0.0
        if stream.average_rate and not vfr and not repaired:  # re-timed frames: the header's rate is what went wrong
            fps = float(stream.average_rate)
        return ProbeInfo(
            path=str(path), container=container.format.name, codec=ctx.name, duration=round(duration, 6),
            frame_count=len(times), fps=round(fps, 4), variable_frame_rate=vfr, width=width, height=height,
            rotation=rotation, pixel_format=pix_fmt, has_alpha=format_has_alpha(pix_fmt), audio=audio,
            timestamps_repaired=repaired,
        )


def _frame_times(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> tuple[list[float], float, int]:
    """Every frame's time, sorted; the last frame's duration; how many frames decoding re-times.

    Demuxing (no decoding) is cheap and gives every frame's timestamp, the
    only honest way to count frames and to spot variable frame rate. When the
    packets' timestamps are missing, repeated or in decoding order, the
    frames are decoded and timed exactly as decode does, so the count agrees.
    """
    from .timestamps import SCAN_PACKETS, broken, packet_stamps, reorders

    stamps, last_duration = packet_stamps(container, stream)
    if not stamps:
        return [], 0.0, 0
    b_frames = reorders(stream)
    nominal = broken(stamps[:SCAN_PACKETS], b_frames)  # as decode judges the file
    if not nominal and not broken(stamps, b_frames):
        base = stream.time_base
        return sorted(float(pts * base) for pts, _ in stamps), last_duration, 0
    return _decoded_times(Path(container.name), nominal)


def _decoded_times(path: Path, nominal: bool) -> tuple[list[float], float, int]:
    """Frame times as decode gives them (every decodable frame, timed by the same FrameClock)."""
    from .timestamps import FrameClock

    with open_container(path) as container:  # afresh: raw streams cannot seek back
        stream = container.streams.video[0]
        base = stream.time_base
        origin = float(stream.start_time * base) if stream.start_time is not None else 0.0
        fallback = 1 / float(stream.average_rate) if stream.average_rate else None
        clock = FrameClock(base, origin, fallback, nominal=nominal)
        stream.thread_type = "AUTO"
        decoder = video_decoder(path, stream)
        times: list[float] = []
        duration = 0.0
        try:
            for packet in container.demux(stream):
                try:
                    frames = decoder.decode(packet)
                except av.error.FFmpegError:
                    continue  # skipped by decode too
                for frame in frames:
                    duration = float(frame.duration * base) if frame.duration else (fallback or 0.0)
                    times.append(clock.place(frame.pts, frame.dts, duration))
        except av.error.FFmpegError:
            pass  # decode stops where the demuxer does
        return times, duration, clock.repaired


def _median(values: list[float]) -> float:
    """As numpy's (the mean of the middle two for an even count); the statistics module costs more to import."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """The display rotation, read from the first decoded frame's display matrix."""
    container.seek(0, stream=stream) if stream.duration else None
    try:
        for frame in container.decode(stream):
            return int(round(frame.rotation or 0)) % 360
    except av.error.FFmpegError:
        return 0
    return 0


def _probe_images(name: str, files: list[Path]) -> ProbeInfo:
    first = _open_image(files[0])
    alpha = first.mode in ("RGBA", "LA", "PA") or "transparency" in first.info
    return ProbeInfo(
        path=name, container="image sequence", codec=first.format.lower() if first.format else "image",
        duration=len(files) / 25.0, frame_count=len(files), fps=25.0, variable_frame_rate=False,
        width=first.width, height=first.height, rotation=0, pixel_format=first.mode, has_alpha=alpha, audio=None,
    )


def _probe_pillow(path: Path) -> ProbeInfo:
    image = _open_image(path)
    n = getattr(image, "n_frames", 1)
    durations = []
    for i in range(n):
        image.seek(i)
        image.load()
        durations.append(image.info.get("duration", 100) / 1000)
    duration = sum(durations)
    vfr = len(set(durations)) > 1
    return ProbeInfo(
        path=str(path), container=(image.format or "image").lower(), codec=(image.format or "image").lower(),
        duration=round(duration, 6), frame_count=n, fps=round(n / duration, 4) if duration else 0.0,
        variable_frame_rate=vfr, width=image.width, height=image.height, rotation=0, pixel_format=image.mode,
        has_alpha=image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info, audio=None,
    )


def _open_image(path: Path) -> Image.Image:
    from PIL import Image

    try:
        return Image.open(path)
    except (OSError, Image.UnidentifiedImageError) as exc:
        raise InputError(f"{path} is not an image that can be read; check the file.") from exc
