"""Telling what kind of source a path is, and opening containers safely.

The only place that turns PyAV's exceptions into our user errors, adding the
path (PyAV's errors are also built-in types, so we wrap once, here).
"""

from __future__ import annotations

import contextlib
import glob
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import av

from ..errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
# Animated WebP is not decoded by FFmpeg's webp decoder, and FFmpeg reads a
# lone PNG/JPEG as one 1/25 s frame: Pillow reads still images and WebP (and
# APNG, with its per-frame delays).
PILLOW_SUFFIXES = {".webp", ".png", ".apng", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def natural_key(path: Path) -> list:
    """Sort 'frame2.png' before 'frame10.png', as people number frames."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def image_sequence(source: str | Path) -> list[Path] | None:
    """The image files of a folder or glob, sorted naturally; None when the source is a single file."""
    text = str(source)
    if is_glob(text) and not Path(text).exists():
        files = [Path(p) for p in glob.glob(text)]
        files = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        if files:
            return sorted(files, key=natural_key)
        if Path(text).suffix.lower() in IMAGE_SUFFIXES:
            raise InputError(f"no image files match {text!r}; check the pattern (e.g. 'frames/*.png').")
        return None  # a missing file whose name has brackets: "does not exist" is the right message
    path = Path(text)
    if path.is_dir():
        files = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        if not files:
            raise InputError(f"folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); point at a video or a folder of frames.")
        return sorted(files, key=natural_key)
    return None


def check_source(source: str | Path) -> None:
    """The decoder's own first checks (images found, or a readable non-empty regular file), for callers that
    must fail before any work: a job checks its source before it writes a folder or loads a model."""
    if image_sequence(source) is None:
        check_file(Path(source))


def check_file(path: Path) -> None:
    """Fail early, clearly, for the usual mistakes before PyAV sees the file."""
    try:
        mode = path.stat().st_mode
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; check the path (quote it if it has spaces).") from None
    except PermissionError:
        raise InputError(f"{path} cannot be read (permission denied); check its permissions.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror}); check the path.") from None
    kind = _not_a_file(mode)
    if kind:
        fix = ("save the stream to a file first (a source is read more than once)" if stat.S_ISFIFO(mode)
               else "give a video, GIF or image file, or a folder of images")
        raise InputError(f"{path} is {kind}, not a regular file; {fix}.")
    if size == 0:
        raise InputError(f"{path} is empty (0 bytes); it was probably not fully copied or downloaded.")


def _not_a_file(mode: int) -> str | None:
    """What a path that is not a regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


# FFmpeg's own VP8/VP9 decoders ignore the alpha plane WebM carries beside the
# picture (BlockAdditional, flagged by the track's alpha_mode=1); libvpx's keep it.
ALPHA_DECODERS = {"vp9": "libvpx-vp9", "vp8": "libvpx"}


def side_alpha(stream: av.video.stream.VideoStream) -> bool:
    """Whether a WebM VP8/VP9 track carries an alpha plane beside the picture."""
    if stream.codec_context.name not in ALPHA_DECODERS:
        return False
    return any(key.lower() == "alpha_mode" and str(value).strip() == "1" for key, value in stream.metadata.items())


def video_decoder(path: Path, stream: av.video.stream.VideoStream) -> av.codec.context.CodecContext:
    """The decoder that keeps everything in ``stream``: libvpx for VP8/VP9 with alpha, else the stream's own."""
    if not side_alpha(stream):
        return stream.codec_context
    name = ALPHA_DECODERS[stream.codec_context.name]
    if name not in av.codecs_available:
        raise InputError(f"{path} is transparent {stream.codec_context.name.upper()} but this PyAV build has no {name} decoder to read "
                         f"its alpha; install a PyAV wheel built with libvpx, or re-export the clip as PNG frames or ProRes 4444.")
    context = av.CodecContext.create(name, "r")
    context.thread_type = "AUTO"
    return context


@contextlib.contextmanager
def open_container(path: Path) -> Iterator[av.container.InputContainer]:
    """``av.open`` for reading, with PyAV errors turned into InputError naming the file."""
    check_file(path)
    try:
        container = av.open(str(path), mode="r")
    except av.error.FileNotFoundError:
        raise InputError(f"{path} does not exist; check the path.") from None
    except av.error.PermissionError:
        raise InputError(f"{path} cannot be read (permission denied).") from None
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a video, GIF or image that can be read ({exc.__class__.__name__}); check the file, or re-export it as MP4/GIF.") from exc
    try:
        if not container.streams.video:
            raise InputError(f"{path} has no video stream (audio only?); give a video, GIF or image folder.")
        yield container
    finally:
        container.close()
