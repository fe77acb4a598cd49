"""Options for reading a clip, named as ffmpeg names them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OptionError

# Frames larger than this on either side are refused: a 20000-px frame is
# almost always a typo, and would need gigabytes per frame downstream.
MAX_SIDE = 8192


@dataclass
class MediaOptions:
    start: float = 0.0  # seconds skipped at the beginning (ffmpeg -ss)
    duration: float | None = None  # seconds kept after start (ffmpeg -t)
    fps: float | None = None  # resample to this rate by presentation time
    every_nth: int = 1  # keep every n-th frame (after fps resampling)
    max_frames: int | None = None  # stop after this many frames
    width: int | None = None  # output width; aspect kept if height is None
    height: int | None = None  # output height; aspect kept if width is None
    background: str | None = None  # composite alpha over this colour (#rrggbb); None keeps RGBA

    def validate(self) -> None:
        """Refuse impossible values before any decoding (never silently correct)."""
        if self.start < 0:
            raise OptionError(f"--start {self.start} is negative; give seconds from the beginning (0 or more).")
        if self.duration is not None and self.duration <= 0:
            raise OptionError(f"--duration {self.duration} must be more than 0 seconds.")
        if self.fps is not None and not self.fps > 0:
            raise OptionError(f"--fps {self.fps} must be more than 0 (e.g. --fps 10).")
        if self.fps is not None and self.fps > 240:
            raise OptionError(f"--fps {self.fps} is above the limit of 240.")
        if self.every_nth < 1:
            raise OptionError(f"--every-nth {self.every_nth} must be 1 or more.")
        if self.max_frames is not None and self.max_frames < 1:
            raise OptionError(f"--max-frames {self.max_frames} must be 1 or more.")
        for name, value in (("--width", self.width), ("--height", self.height)):
            if value is None:
                continue
            if value < 1:
                raise OptionError(f"{name} {value} must be at least 1 pixel.")
            if value > MAX_SIDE:
                raise OptionError(f"{name} {value} is above the limit of {MAX_SIDE} pixels; choose a smaller size.")
        if self.background is not None:
            parse_colour(self.background)


def parse_colour(text: str) -> tuple[int, int, int]:
    """'#rrggbb', 'rrggbb', '#rgb' or a few names → an RGB tuple."""
    named = {"white": "#ffffff", "black": "#000000", "gray": "#808080", "grey": "#808080", "green": "#00ff00"}
    value = named.get(text.lower(), text).lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    try:
        if len(value) != 6:
            raise ValueError
        return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        raise OptionError(f"colour {text!r} is not understood; use #rrggbb (e.g. #00ff00) or white/black/gray.") from None


# Output formats by extension; a path ending in "/" (or an existing folder) is a PNG frame folder.
OUTPUT_FORMATS = {".gif": "gif", ".mp4": "mp4", ".webp": "webp", ".apng": "apng", ".png": "apng"}


@dataclass
class OutputOptions:
    outputs: list[str] = field(default_factory=list)  # paths; format from the extension
    colors: int = 256  # GIF palette size
    dither: str = "none"  # GIF dithering: none | floyd-steinberg | bayer
    palette: str = "global"  # GIF palette: global | per-frame
    lossy: float = 2.0  # GIF colour mapping: 0 = nearest colour; higher trades a little SSIM for fewer bytes
    loop: int = 0  # 0 = loop forever (GIF, WebP, APNG)
    max_size: int | None = None  # bytes; GIF settings are lowered until it fits
    crf: int = 18  # MP4 quality (x264 CRF: lower is better, 18 ≈ visually lossless)
    quality: int = 90  # WebP quality 0–100
    overwrite: bool = False
    interpolate: int = 1  # frame-rate multiplier by flow-based frame synthesis at encoding (media/interpolate.py); 1 = off

    def validate(self) -> None:
        for out in self.outputs:
            output_format(out)
        if not 2 <= self.colors <= 256:
            raise OptionError(f"--colors {self.colors} must be between 2 and 256.")
        if not 0 <= self.lossy <= 1000:
            raise OptionError(f"--lossy {self.lossy} must be between 0 (exact colours) and 1000 (8 ≈ gifski-sized files).")
        if self.loop < 0:
            raise OptionError(f"--loop {self.loop} must be 0 (forever) or more.")
        if self.max_size is not None and self.max_size < 1024:
            raise OptionError(f"--max-size {self.max_size} bytes is too small; give at least 1KB (e.g. 1.5MB).")
        if not 0 <= self.crf <= 51:
            raise OptionError(f"--crf {self.crf} must be between 0 and 51.")
        if not 0 <= self.quality <= 100:
            raise OptionError(f"--quality {self.quality} must be between 0 and 100.")
        if not 1 <= self.interpolate <= 8:
            raise OptionError(f"--interpolate {self.interpolate} must be from 1 (off) to 8; 2 doubles the frame rate.")


def output_format(path: str) -> str:
    """'gif' | 'mp4' | 'webp' | 'apng' | 'png-folder', from the output path."""
    text = str(path)
    if text.endswith(("/", "\\")) or Path(text).is_dir():
        return "png-folder"
    suffix = Path(text).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        known = ", ".join(sorted(OUTPUT_FORMATS)) + ", or a folder ending in /"
        raise OptionError(f"output {text!r}: unknown extension {suffix or '(none)'!r}; use one of {known}.")
    return OUTPUT_FORMATS[suffix]


def parse_size(text: str) -> int:
    """'1.5MB', '900KB', '900k', '2000000' → bytes (decimal units, as file browsers show)."""
    units = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
             "kib": 1024, "mib": 1024**2}
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in units:
        raise OptionError(f"size {text!r} is not understood; write e.g. 1.5MB, 900KB or 2000000.")
    return int(float(match.group(1)) * units[match.group(2).lower()])
