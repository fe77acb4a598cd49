"""Streaming decode: a source (video, GIF, animated WebP/APNG, image folder or glob)
into an iterator of :class:`Frame`, trimmed, resampled and scaled as asked.

Nothing here holds more than two decoded frames at a time, so memory stays
flat however long the clip is.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageSequence

from ..core.frames import Frame
from ..errors import InputError
from ..notices import notice
from .options import MAX_SIDE, MediaOptions, parse_colour
from .probe import format_has_alpha
from .sources import PILLOW_SUFFIXES, check_file, image_sequence, open_container, video_decoder
from .timestamps import SCAN_PACKETS, FrameClock, broken, describe_repair, packet_stamps, reorders

# Image sequences have no timing of their own; like ffmpeg's image2 demuxer we
# read them at 25 fps unless --fps says otherwise.
IMAGE_SEQUENCE_FPS = 25.0
# A still image becomes one frame this long (unless --fps is given).
STILL_DURATION = 0.1


@dataclass
class _Timed:
    """A decoded source frame before selection: its time, duration and a way to get pixels."""

    time: float  # seconds from the first frame of the source
    duration: float | None  # None when the container does not say
    payload: Any  # av.VideoFrame or PIL.Image
    rotation: int = 0


def iter_frames(source: str | Path, options: MediaOptions | None = None) -> Iterator[Frame]:
    """Yield the frames of ``source`` after trimming, fps resampling, every-nth, max-frames and scaling."""
    options = options or MediaOptions()
    options.validate()
    converter = _Converter(options)
    converter.is_sequence = image_sequence(source) is not None
    timed = _timed_frames(source, options)
    count = 0
    for frame in _select(timed, options, converter):
        count += 1
        yield frame
    if count == 0:
        length = converter.source_end
        if length is not None and options.start >= length:
            raise InputError(f"clip is {length:.1f} s long; --start {options.start:g} is past its end.")
        raise InputError(f"{source} gave no frames with these options (start {options.start:g} s); widen --duration or lower --start.")


def _timed_frames(source: str | Path, options: MediaOptions) -> Iterator[_Timed]:
    files = image_sequence(source)
    if files is not None:
        yield from _image_files(files, options)
        return
    path = Path(source)
    check_file(path)
    if path.suffix.lower() in PILLOW_SUFFIXES:
        yield from _pillow_frames(path, options)
        return
    yield from _av_frames(path, options)


def _av_frames(path: Path, options: MediaOptions) -> Iterator[_Timed]:
    with open_container(path) as container:
        stream = container.streams.video[0]
        stamps, _ = packet_stamps(container, stream, SCAN_PACKETS)
        nominal = broken(stamps, reorders(stream))
    with open_container(path) as container:  # afresh: raw streams cannot seek back
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: decoding keeps up with the rest
        time_base = stream.time_base
        origin = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        fallback = 1 / float(stream.average_rate) if stream.average_rate else None
        if container.duration and options.start >= container.duration / av.time_base + 1e-6:
            raise InputError(f"clip is {container.duration / av.time_base:.1f} s long; --start {options.start:g} is past its end.")
        # Broken timestamps are not used, so seeking by them would land anywhere: decode from the start.
        if options.start > 1.0 and not nominal and stream.codec_context.name not in ("gif", "apng", "png"):
            # Jump near the start instead of decoding everything before it;
            # backward=True lands on the keyframe at or before it.
            try:
                container.seek(int((options.start + origin - 0.5) / time_base), stream=stream, backward=True)
            except av.error.FFmpegError:
                with contextlib.suppress(av.error.FFmpegError):
                    container.seek(0, stream=stream)
        clock = FrameClock(time_base, origin, fallback, nominal=nominal)
        decoded, damaged, last_end = 0, 0, 0.0
        error: Exception | None = None
        try:
            for frame, bad in _decoded(container, stream, video_decoder(path, stream)):
                if frame is None:
                    damaged, error = damaged + 1, bad
                    continue
                decoded += 1
                duration = float(frame.duration * time_base) if frame.duration else fallback
                time = clock.place(frame.pts, frame.dts, duration)
                last_end = time + (duration or 0)
                yield _Timed(time, duration, frame, int(round(frame.rotation or 0)) % 360)
        except av.error.FFmpegError as exc:
            if decoded == 0:
                raise InputError(f"{path} could not be decoded ({exc.__class__.__name__}); the file is damaged.") from exc
            notice(f"{path} is damaged or cut off: decoding stopped after source frame {decoded} ({last_end:.2f} s); using the frames before it.")
            return
        finally:
            if clock.repaired:
                notice(f"{path}: {describe_repair(clock.repaired, decoded, clock.step)}.")
            if damaged and decoded:
                what = "1 damaged packet was" if damaged == 1 else f"{damaged} damaged packets were"
                notice(f"{path}: {what} skipped (the decoder rejected them, as ffmpeg does); the frames around them are kept.")
        if decoded == 0:
            if error is not None:
                raise InputError(f"{path} could not be decoded ({error.__class__.__name__}); the file is damaged.") from error
            raise InputError(f"{path} holds no decodable video frames; the file is damaged or cut off.")
        # A cut-off file often just ends early (threaded decoders stop quietly):
        # compare with the length the container header promises.
        promised = container.duration / av.time_base if container.duration else None
        if promised and last_end < promised - max(0.5, 2 * (fallback or 0)):
            notice(f"{path} is damaged or cut off: decoding stopped after source frame {decoded} ({last_end:.2f} s of {promised:.2f} s); using the frames before it.")


def _decoded(container: av.container.InputContainer, stream: Any, decoder: Any) -> Iterator[tuple[Any, Any]]:
    """(frame, None) for every frame the decoder gives; (None, error) for a packet it cannot decode.

    Like ffmpeg, a damaged packet is skipped and decoding goes on; only the
    demuxer failing (the data ends or is unreadable) stops it.
    """
    for packet in container.demux(stream):
        try:
            frames = decoder.decode(packet)
        except av.error.FFmpegError as exc:  # what ffmpeg logs as 'Error while decoding' and skips
            yield None, exc
            continue
        for frame in frames:
            yield frame, None


def _pillow_frames(path: Path, options: MediaOptions) -> Iterator[_Timed]:
    try:
        image = Image.open(path)
    except (OSError, Image.UnidentifiedImageError) as exc:
        raise InputError(f"{path} is not a video, GIF or image that can be read; check the file.") from exc
    with image:
        time = 0.0
        n = getattr(image, "n_frames", 1)
        for frame in ImageSequence.Iterator(image):
            frame.load()  # Pillow fills info["duration"] only once the frame is loaded
            if n == 1:
                duration = 1 / options.fps if options.fps else STILL_DURATION
            else:
                duration = (frame.info.get("duration") or 100) / 1000
            yield _Timed(time, duration, frame.copy())
            time += duration


def _image_files(files: list[Path], options: MediaOptions) -> Iterator[_Timed]:
    rate = options.fps or IMAGE_SEQUENCE_FPS
    for i, file in enumerate(files):
        try:
            image = Image.open(file)
            image.load()
        except (OSError, Image.UnidentifiedImageError) as exc:
            raise InputError(f"{file} (image {i + 1} of {len(files)}) is not an image that can be read; remove or replace it.") from exc
        yield _Timed(i / rate, 1 / rate, image)


def _with_durations(timed: Iterable[_Timed]) -> Iterator[_Timed]:
    """Fill missing durations from the next frame's time (one frame of look-ahead)."""
    previous: _Timed | None = None
    for item in timed:
        if previous is not None:
            gap = item.time - previous.time
            if gap <= 0:  # duplicate or out-of-order timestamp: drop it, as players do
                continue
            previous.duration = gap
            yield previous
        previous = item
    if previous is not None:
        yield previous


def _select(timed: Iterable[_Timed], options: MediaOptions, converter: "_Converter") -> Iterator[Frame]:
    """Trim, resample to --fps, keep every n-th, stop at --max-frames; convert only what is kept."""
    picked = _trim_and_resample(timed, options, converter)
    if options.every_nth > 1:
        picked = _every_nth(picked, options.every_nth)
    for index, (time, duration, item) in enumerate(picked):
        yield converter.frame(index, time, duration, item)
        if options.max_frames and index + 1 >= options.max_frames:
            return


def _trim_and_resample(
    timed: Iterable[_Timed], options: MediaOptions, converter: "_Converter"
) -> Iterator[tuple[float, float, _Timed]]:
    """(clip time, duration, source frame) for each frame inside [start, start + duration)."""
    start = options.start
    end = start + options.duration if options.duration is not None else math.inf
    if options.fps is None or converter.is_sequence:
        for item in _with_durations(timed):
            item_end = item.time + (item.duration or 0)
            converter.source_end = item_end
            if item.time >= end:
                return
            a, b = max(item.time, start), min(item_end, end)
            # A frame cut by the window is kept when at least half of it is
            # inside, so trimming never leaves a sliver frame of a few ms.
            if b > a and (b - a) >= 0.5 * min(item_end - item.time, end - start) - 1e-9:
                yield a - start, b - a, item
        return
    step = 1 / options.fps
    k = 0
    for item in _with_durations(timed):
        item_end = item.time + (item.duration or step)
        converter.source_end = item_end
        # Output frame k is shown at start + k/fps: it is the source frame on
        # screen at that moment (works for VFR sources and any change of rate).
        while start + k * step < min(end, item_end) - 1e-9:
            t = start + k * step
            if t >= item.time - 1e-9:
                yield k * step, min(step, end - t), item
            k += 1
        if start + k * step >= end - 1e-9:
            return


def _every_nth(picked: Iterable[tuple[float, float, _Timed]], n: int) -> Iterator[tuple[float, float, _Timed]]:
    """Keep the first of every n frames, lasting until the next kept one, so the clip keeps its speed."""
    group: list[tuple[float, float, _Timed]] = []
    for candidate in picked:
        group.append(candidate)
        if len(group) == n:
            yield group[0][0], sum(g[1] for g in group), group[0][2]
            group = []
    if group:
        yield group[0][0], sum(g[1] for g in group), group[0][2]


class _Converter:
    """Turns selected source frames into upright, scaled RGB(A) arrays."""

    def __init__(self, options: MediaOptions) -> None:
        self.options = options
        self.background = parse_colour(options.background) if options.background else None
        self.size: tuple[int, int] | None = None
        self.source_end: float | None = None
        self.is_sequence = False

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        w, h = self.options.width, self.options.height
        if w and h:
            size = (w, h)
        elif w:
            size = (w, max(1, round(w * height / width)))
        elif h:
            size = (max(1, round(h * width / height)), h)
        else:
            size = (width, height)
        if max(size) > MAX_SIDE:
            raise InputError(f"frames would be {size[0]}×{size[1]}, above the limit of {MAX_SIDE} pixels a side; give --width or --height.")
        return size

    def frame(self, index: int, time: float, duration: float, item: _Timed) -> Frame:
        return Frame(index=index, time=round(time, 6), duration=round(duration, 6), image=self.pixels(item))

    def pixels(self, item: _Timed) -> np.ndarray:
        payload = item.payload
        if isinstance(payload, av.VideoFrame):
            alpha = format_has_alpha(payload.format.name)
            stored_w, stored_h = payload.width, payload.height
            turned = item.rotation % 180 != 0
            display = (stored_h, stored_w) if turned else (stored_w, stored_h)
            size = self.size or self.target_size(*display)
            self.size = size
            # swscale's lanczos, on the stored orientation, then turn upright.
            out_w, out_h = (size[1], size[0]) if turned else size
            fmt = "rgba" if alpha else "rgb24"
            array = payload.reformat(width=out_w, height=out_h, format=fmt, interpolation="LANCZOS").to_ndarray()
            if item.rotation:
                # FFmpeg's display rotation is counter-clockwise, as is np.rot90.
                array = np.ascontiguousarray(np.rot90(array, k=item.rotation // 90))
        else:
            image: Image.Image = payload
            alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if alpha else "RGB")
            size = self.size or self.target_size(image.width, image.height)
            self.size = size
            if image.size != size:
                image = image.resize(size, Image.Resampling.LANCZOS)
            array = np.asarray(image)
        if array.shape[2] == 4 and self.background is not None:
            array = composite(array, self.background)
        return array


def composite(rgba: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """Alpha-blend an RGBA frame over a flat colour."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + np.array(background, np.float32) * (1 - alpha)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
