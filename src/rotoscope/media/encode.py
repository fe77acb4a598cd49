"""Streaming encoders: frames in, GIF / MP4 / WebP / APNG / PNG folder out.

Every writer has ``write(frame)``, ``close()`` (the file appears only now) and
``abort()`` (nothing is left behind), and is a context manager that aborts on
error. A writer opens nothing until its first frame, so making writers for
several outputs and failing the checks of a later one leaves nothing behind.
On any error a writer removes its temps (an OSError the user can fix is raised
as a one-line OutputError). :class:`Outputs` fans one stream of frames out to
several writers, so several formats come from one pass.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from PIL import Image, PngImagePlugin

from ..core.frames import Frame
from ..errors import OutputError
from .atomic import (MARKER, MARKER_TEXT, check_outputs, clear_stale, commit, discard, fsync_folder, open_temp,
                     output_error, replace_folder, temp_folder_for, temp_path_for, write_bytes, write_bytes_atomic)
from .decode import composite
from .options import OutputOptions, output_format

# Frames without alpha in formats that have none are composited over white,
# the colour most GIF-making tools assume.
WHITE = (255, 255, 255)
MP4_TIME_BASE = Fraction(1, 90000)  # the MPEG clock: every common frame rate lands on a tick


@dataclass
class AudioSpan:
    """The part of a source's audio that goes with the output: [start, end) in source seconds."""

    path: Path
    start: float
    end: float


class Writer(Protocol):
    path: Path

    def write(self, frame: Frame) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def rgb(frame: Frame) -> np.ndarray:
    return composite(frame.image, WHITE) if frame.has_alpha else frame.image


def rgba(frame: Frame) -> np.ndarray:
    if frame.has_alpha:
        return frame.image
    alpha = np.full(frame.image.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([frame.image, alpha], axis=2)


class _Guarded:
    """What every writer shares: any error aborts (temps removed), fixable OSErrors become OutputError,
    and ``with writer:`` closes on success, aborts on error."""

    path: Path

    def abort(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                error = output_error(exc, self.path)
                if error is not None:
                    raise error from exc
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _TempLocked(_Guarded):
    """A writer whose temp (file or folder) is locked while written, so a second run leaves it alone
    and a later run can tell a dead writer's temp from a live one's (``clear_stale``)."""

    temp: Path
    _lock: int | None = None  # the open, locked descriptor; None until the temp exists

    def _discard_temp(self) -> None:
        if self._lock is not None:
            discard(self.temp)  # only a temp we created and still hold
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


class _AvWriter(_TempLocked):
    """A PyAV output written to a temp path: the stream opens on the first frame, which fixes the size."""

    TIME_BASE = Fraction(1, 1000)
    PIXEL_FORMAT = "rgb24"  # what frames are handed to PyAV in

    def __init__(self, path: Path, options: OutputOptions, comment: str | None) -> None:
        self.path = path
        self.temp = temp_path_for(path)
        self.options = options
        self.comment = comment
        self.container: av.container.OutputContainer | None = None
        self.stream = None
        self._lock = None  # held on the temp while it is written

    def _open(self, frame: Frame) -> None:
        raise NotImplementedError

    def _container(self, format: str, options: dict[str, str]) -> av.container.OutputContainer:
        """Open the temp file; the comment goes in before anything is muxed (the header carries it)."""
        clear_stale(self.path)
        self._lock = open_temp(self.temp, self.path)
        self.container = av.open(str(self.temp), mode="w", format=format, options=options)
        if self.comment:
            self.container.metadata["comment"] = self.comment
        return self.container

    def _pixels(self, frame: Frame) -> np.ndarray:
        raise NotImplementedError

    def write(self, frame: Frame) -> None:
        with self._guard():
            if self.container is None:
                self._open(frame)
            video = av.VideoFrame.from_ndarray(self._pixels(frame), format=self.PIXEL_FORMAT)
            video.pts = round(frame.time / self.TIME_BASE)
            video.time_base = self.TIME_BASE
            video.duration = max(1, round(frame.duration / self.TIME_BASE))
            self.last_duration = video.duration
            for packet in self.stream.encode(video):
                self.container.mux(packet)

    def _finish(self) -> None:
        """Anything to fix in the temp file before it is renamed."""

    def close(self) -> None:
        if self.container is None:
            raise OutputError(f"no frames to write to {self.path}.")
        with self._guard():
            for packet in self.stream.encode():
                self.container.mux(packet)
            self.container.close()
            self.container = None
            self._finish()
            commit(self.temp, self.path)
        self._unlock()

    def abort(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except (av.error.FFmpegError, OSError):
                pass
            self.container = None
        self._discard_temp()


class Mp4Writer(_AvWriter):
    """H.264 in MP4: yuv420p (plays everywhere), even sizes, faststart, the source's audio span."""

    TIME_BASE = MP4_TIME_BASE

    def __init__(self, path: Path, options: OutputOptions, comment: str | None, audio: AudioSpan | None) -> None:
        super().__init__(path, options, comment)
        self.audio = audio

    def _open(self, frame: Frame) -> None:
        container = self._container("mp4", {"movflags": "+faststart"})
        rate = Fraction(round(1 / frame.duration * 1000), 1000) if frame.duration > 0 else Fraction(10)
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = _even(frame.width), _even(frame.height)
        stream.pix_fmt = "yuv420p"
        stream.time_base = MP4_TIME_BASE
        stream.codec_context.time_base = MP4_TIME_BASE
        stream.options = {"crf": str(self.options.crf), "preset": self.options.x264_preset}
        self.stream = stream
        if self.audio is not None:
            _mux_audio(container, self.audio)

    def _pixels(self, frame: Frame) -> np.ndarray:
        return _pad_even(rgb(frame))


def _even(n: int) -> int:
    return n + (n % 2)


def _pad_even(image: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: repeat the last row/column rather than crop content."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _mux_audio(container: av.container.OutputContainer, span: AudioSpan) -> None:
    """Cut the source's audio to [start, end) and encode it as AAC into ``container``.

    Audio goes in before the video: it is small, so the muxer's interleaving
    buffer stays small while the video streams through.
    """
    with av.open(str(span.path)) as source:
        if not source.streams.audio:
            return
        src = source.streams.audio[0]
        rate = src.codec_context.sample_rate or 48000
        layout = src.codec_context.layout.name if src.codec_context.layout else "stereo"
        out = container.add_stream("aac", rate=rate)
        out.layout = layout
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        first = int(round(span.start * rate))
        last = int(round(span.end * rate))
        origin = float(src.start_time * src.time_base) if src.start_time is not None else 0.0
        written = 0
        for decoded in source.decode(src):
            if decoded.pts is None:
                continue
            for chunk in resampler.resample(decoded):
                begin = int(round((float(decoded.pts * decoded.time_base) - origin) * rate))
                samples = chunk.to_ndarray()
                lo, hi = max(first - begin, 0), min(last - begin, samples.shape[1])
                if hi <= lo:
                    continue
                piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, lo:hi]), format="fltp", layout=layout)
                piece.sample_rate = rate
                piece.pts = written
                piece.time_base = Fraction(1, rate)
                written += hi - lo
                for packet in out.encode(piece):
                    container.mux(packet)
            if float(decoded.pts * decoded.time_base) - origin > span.end:
                break
        for packet in out.encode():
            container.mux(packet)


class ApngWriter(_AvWriter):
    """Animated PNG (lossless, full alpha) through FFmpeg's apng muxer.

    The muxer takes each frame's delay from the next frame's timestamp and
    gives the last frame the one before it, so close() patches the last
    frame-control chunk with the true duration.
    """

    PIXEL_FORMAT = "rgba"

    def _open(self, frame: Frame) -> None:
        self._container("apng", {"plays": str(self.options.loop)})
        self.stream = self.container.add_stream("apng")
        self.stream.width, self.stream.height = frame.width, frame.height
        self.stream.pix_fmt = "rgba"
        self.stream.time_base = self.TIME_BASE
        self.stream.codec_context.time_base = self.TIME_BASE

    def _pixels(self, frame: Frame) -> np.ndarray:
        return rgba(frame)

    def _finish(self) -> None:
        set_last_apng_delay(self.temp, self.last_duration)


def set_last_apng_delay(path: Path, milliseconds: int) -> None:
    """Rewrite the delay of the last fcTL chunk (and its CRC) in place; walks chunk headers only."""
    import struct
    import zlib

    last = None
    with open(path, "r+b") as handle:
        handle.seek(8)  # PNG signature
        while header := handle.read(8):
            length, kind = struct.unpack(">I4s", header)
            if kind == b"fcTL":
                last = handle.tell()
            handle.seek(length + 4, 1)  # data + CRC
        if last is None:
            return
        handle.seek(last)
        data = bytearray(handle.read(26))
        struct.pack_into(">HH", data, 20, min(milliseconds, 65535), 1000)
        handle.seek(last)
        handle.write(data)
        handle.write(struct.pack(">I", zlib.crc32(b"fcTL" + bytes(data)) & 0xFFFFFFFF))


class WebpWriter(_Guarded):
    """Animated WebP through libwebp's animation encoder (Pillow's binding).

    FFmpeg's libwebp_anim muxer gives the last frame the *average* duration,
    so we drive libwebp directly: it takes exact millisecond timestamps and
    keeps only compressed frames in memory.
    """

    def __init__(self, path: Path, options: OutputOptions) -> None:
        self.path = path
        self.options = options
        self.encoder = None
        self.end_ms = 0

    def write(self, frame: Frame) -> None:
        from PIL import _webp  # the binding Pillow's own WebP writer uses

        with self._guard():
            image = Image.fromarray(rgba(frame), "RGBA")
            if self.encoder is None:
                # background, loop, minimize_size, kmin, kmax, allow_mixed, verbose — as Pillow passes them
                self.encoder = _webp.WebPAnimEncoder(image.size, 0, self.options.loop, False, 3, 5, False, False)
            self.encoder.add(image.getim(), round(frame.time * 1000), False, float(self.options.quality), 100.0, 4)
            self.end_ms = round((frame.time + frame.duration) * 1000)

    def close(self) -> None:
        if self.encoder is None:
            raise OutputError(f"no frames to write to {self.path}.")
        with self._guard():
            self.encoder.add(None, self.end_ms, False, float(self.options.quality), 100.0, 0)
            data = self.encoder.assemble(b"", b"", b"")
            clear_stale(self.path)
            write_bytes_atomic(self.path, data)  # removes its temp on any error

    def abort(self) -> None:
        self.encoder = None


class PngFolderWriter(_TempLocked):
    """Lossless PNG frames 00000.png, 00001.png, … infotext in a text chunk; the folder appears whole.

    Frames go to a temp folder beside the target (``.NAME.part/``, with the marker file that says
    rotoscope made it, locked while written); ``close()`` renames it into place, removing the old
    folder whole (so a shorter clip leaves no old frames). A frame read unchanged from a PNG (a job's
    finished frame) is copied byte for byte, with the infotext it was made with, not encoded again.
    """

    def __init__(self, folder: Path, comment: str | None) -> None:
        self.path = Path(folder)
        self.temp = temp_folder_for(self.path)
        self.comment = comment
        self.count = 0
        self._lock = None

    def _open(self) -> None:
        clear_stale(self.path)
        self.temp.mkdir(exist_ok=True)
        self._lock = open_temp(self.temp / MARKER, self.path)
        os.ftruncate(self._lock, 0)
        os.write(self._lock, MARKER_TEXT)

    def write(self, frame: Frame) -> None:
        with self._guard():
            if self._lock is None:
                self._open()
            target = self.temp / f"{frame.index:05d}.png"
            write_bytes(target, frame.png.read_bytes() if frame.png is not None else png_bytes(frame.image, self.comment))
            self.count += 1

    def close(self) -> None:
        if self.count == 0:
            raise OutputError(f"no frames to write to {self.path}.")
        with self._guard():
            replace_folder(self.temp, self.path)
        self._unlock()

    def abort(self) -> None:
        self._discard_temp()


def save_png(path: Path, image: np.ndarray, parameters: str | None = None) -> None:
    """A PNG written atomically (fsynced; its temp removed on any error); ``parameters`` goes where the
    web UI puts its infotext."""
    write_bytes_atomic(path, png_bytes(image, parameters))


def png_bytes(image: np.ndarray, parameters: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    # zlib level 1 with the run-length strategy (compress_type 3 = Z_RLE): on the sample
    # clip's frames as small as level 4 (source) / level 6 (stylised) and 2-2.5x faster.
    Image.fromarray(image).save(buffer, format="PNG", pnginfo=info, compress_level=1, compress_type=3)
    return buffer.getvalue()


def open_writer(path: str | Path, options: OutputOptions, *, comment: str | None = None,
                audio: AudioSpan | None = None, source: str | Path | None = None) -> Writer:
    """A writer for ``path`` after the output checks (:func:`check_outputs`); it opens nothing yet."""
    kind = output_format(str(path))
    target = Path(path)
    check_outputs([path], source=source, overwrite=options.overwrite)
    if kind == "png-folder":
        return PngFolderWriter(target, comment)
    if kind == "gif":
        from .gif import GifOptions, GifWriter

        gif_options = GifOptions(colors=options.colors, dither=options.dither, palette=options.palette,
                                 loop=options.loop, comment=comment, lossy=options.lossy)
        return GifWriter(target, gif_options)
    if kind == "mp4":
        return Mp4Writer(target, options, comment, audio)
    if kind == "webp":
        return WebpWriter(target, options)
    return ApngWriter(target, options, comment)


def open_writers(paths: list[str], options_for, *, comment: str | None = None, audio: AudioSpan | None = None,
                 source: str | Path | None = None) -> list[Writer]:
    """Writers for several outputs: every output is checked before any writer is made."""
    for p in paths:
        check_outputs([p], source=source, overwrite=options_for(p).overwrite)
    check_outputs(paths, source=source, check_exists=False)  # no output twice
    return [open_writer(p, options_for(p), comment=comment, audio=audio, source=source) for p in paths]


class Outputs:
    """Several writers fed from one pass; all appear, or none (on error every temp file is removed)."""

    def __init__(self, writers: list[Writer]) -> None:
        self.writers = writers

    def write(self, frame: Frame) -> None:
        for writer in self.writers:
            writer.write(frame)

    def close(self) -> list[Path]:
        for writer in self.writers:
            writer.close()
        return [w.path for w in self.writers]

    def abort(self) -> None:
        for writer in self.writers:
            writer.abort()

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
