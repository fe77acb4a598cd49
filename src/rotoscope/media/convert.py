"""`rotoscope convert`: cut, resample, scale and encode — what users do today with ffmpeg, with palette quality."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..progress import NullProgress, Progress
from .decode import iter_frames
from .atomic import check_outputs
from .encode import AudioSpan, Outputs, open_writers
from .fit import fit_gif
from .options import MediaOptions, OutputOptions, output_format
from .probe import probe
from .sources import image_sequence


@dataclass
class ConvertResult:
    outputs: list[Path]
    frames: int
    width: int
    height: int
    duration: float
    notes: list[str]


def audio_span(source: str | Path, media: MediaOptions, clip_duration: float) -> AudioSpan | None:
    """The source's audio that goes with a clip of ``clip_duration`` s; None for images and silent videos."""
    if image_sequence(source) is not None or probe(source).audio is None:
        return None
    return AudioSpan(Path(source), media.start, media.start + clip_duration)


def convert(source: str | Path, media: MediaOptions, output: OutputOptions, progress: Progress | None = None) -> ConvertResult:
    media.validate()
    output.validate()
    check_outputs(output.outputs, source=source, overwrite=output.overwrite)  # every -o, before anything opens
    progress = progress or NullProgress()
    info = probe(source)
    fitted = [p for p in output.outputs if output.max_size and output_format(p) == "gif"]
    direct = [p for p in output.outputs if p not in fitted]
    expected = _expected_frames(info.duration, info.frame_count, media)
    progress.start("convert", expected)
    count, last, size = 0, None, (0, 0)
    needs_audio = any(output_format(p) == "mp4" for p in direct)
    clip = media.duration if media.duration is not None else max(0.0, info.duration - media.start)
    span = audio_span(source, media, clip) if needs_audio else None
    writers = open_writers(direct, lambda _: output, audio=span, source=source)
    with Outputs(writers) as outputs:
        for frame in iter_frames(source, media):
            outputs.write(frame)
            count, last, size = count + 1, frame, (frame.width, frame.height)
            progress.advance()
        written = outputs.close()
    notes: list[str] = []
    for path in fitted:
        # The ladder re-decodes the source per try: nothing is held in memory.
        attempt = fit_gif(lambda: iter_frames(source, media), Path(path), output)
        notes.append(f"{path}: {attempt.describe()}")
        written.append(Path(path))
    progress.finish()
    duration = (last.time + last.duration) if last else 0.0
    return ConvertResult(written, count, size[0], size[1], round(duration, 6), notes)


def _expected_frames(duration: float, frame_count: int, media: MediaOptions) -> int | None:
    span = max(0.0, duration - media.start)
    if media.duration is not None:
        span = min(span, media.duration)
    n = round(span * media.fps) if media.fps else round(frame_count * span / duration) if duration else frame_count
    n = -(-n // media.every_nth)
    return min(n, media.max_frames) if media.max_frames else n


def default_output(source: str | Path, suffix: str = ".gif") -> str:
    stem = Path(str(source).rstrip("/")).stem or "output"
    return str(Path("out") / f"{stem}{suffix}")


__all__ = ["ConvertResult", "convert", "default_output"]
