"""Options for reading a clip, named as ffmpeg names them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OptionError
from ..options import check_fields, option

# Frames larger than this on either side are refused: a 20000-px frame is
# almost always a typo, and would need gigabytes per frame downstream.
MAX_SIDE = 8192


@dataclass
class MediaOptions:
    start: float = option(0.0, help="Seconds to skip at the start (ffmpeg -ss).", panel="Media", low=0)
    duration: float | None = option(None, help="Seconds to keep (ffmpeg -t).", panel="Media", low=0, low_open=True)
    fps: float | None = option(None, help="Frame rate to resample to, by presentation time (image sequences: their rate).",
                               panel="Media", low=0, low_open=True, high=240, hint="e.g. --fps 10")
    every_nth: int = option(1, help="Keep every n-th frame (each lasts until the next kept one).", panel="Media", low=1)
    max_frames: int | None = option(None, help="Stop after this many frames.", panel="Media", low=1)
    width: int | None = option(None, help="Output width: source frames are scaled to it (lanczos; aspect kept if --height "
                               "is not given), as ffmpeg's scale.", panel="Media", low=1, high=MAX_SIDE,
                               hint="choose a smaller size")
    height: int | None = option(None, help="Output height (aspect kept if --width is not given).", panel="Media", low=1,
                                high=MAX_SIDE, hint="choose a smaller size")
    shots: str = option("auto", panel="Media", infotext="Shots", parse=lambda text: text.strip().lower(),
                        help="Where the clip's hard cuts are: auto (found by change, a rolling ratio as PySceneDetect's "
                        "adaptive detector) | none (one shot) | 24,51 (first frames of new shots, 0-based after the "
                        "media options). Nothing is carried across a cut: keys, consistency techniques, AnimateDiff "
                        "windows, --interpolate and score restart there.")
    background: str | None = option(None, help="Composite transparent sources over this colour (#rrggbb); default keeps "
                                    "alpha where the output has it.", panel="Media")

    def validate(self) -> None:
        """Refuse impossible values before any decoding (never silently correct)."""
        check_fields(self)
        from .shots import check_shots

        check_shots(self.shots)
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


DITHERS = ("none", "floyd-steinberg", "bayer")
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
PALETTES = ("global", "per-frame")


def _show_size(value: int | None) -> str:
    return "" if value is None else f"{value / 1e6:g}MB" if value % 1000 == 0 and value >= 10**6 else str(value)


@dataclass
class OutputOptions:
    outputs: list[str] = option(factory=list, name="output", flag="--output", short="-o", panel="Output",
                                help="Output path; format from the extension (.gif .mp4 .webp .apng .png) or a folder "
                                "ending in / for PNG frames. Repeat for several formats from one pass.", widget="outputs")
    colors: int = option(256, help="GIF palette size.", panel="Output", low=2, high=256)
    dither: str = option("none", help="GIF dithering.", panel="Output", choices=DITHERS)
    palette: str = option("global", help="GIF palette: one for the clip, or one per frame.", panel="Output",
                          choices=PALETTES)
    lossy: float = option(2.0, help="GIF colour mapping: 0 = nearest colour; 2 beats ffmpeg's best palette; 8 ≈ "
                          "gifski-sized files.", panel="Output", low=0, high=1000)
    loop: int = option(0, help="Loop count for GIF/WebP/APNG (0 = forever).", panel="Output", low=0)
    max_size: int | None = option(None, help="GIF byte budget, e.g. 1.5MB: lands within 10 % under it, lowering lossy, "
                                  "colours, dither, fps and only then the size.", panel="Output", low=1024, hint="give at least 1KB (e.g. 1.5MB)",
                                  parse=lambda text: parse_size(text), show=_show_size, widget="text")
    crf: int = option(18, help="MP4 quality (x264 CRF: lower is better, 18 ≈ visually lossless).", panel="Output", low=0,
                      high=51)
    x264_preset: str = option("medium", panel="Output", choices=X264_PRESETS,
                              help="MP4 encoding speed: faster presets encode sooner and make larger files at the same "
                              "--crf (x264 -preset).")
    quality: int = option(90, help="WebP quality.", panel="Output", low=0, high=100)
    overwrite: bool = option(False, help="Replace existing outputs / redo a job made with other settings.",
                             panel="Output")
    interpolate: int = option(1, help="Multiply the output frame rate by flow-based frame synthesis (any method; "
                              "timing kept exact); 1 = off.", panel="Output", low=1, high=8, hint="2 doubles the frame rate",
                              infotext="Interpolate")

    def validate(self) -> None:
        check_fields(self)
        for out in self.outputs:
            output_format(out)


def output_format(path: str) -> str:
    """'gif' | 'mp4' | 'webp' | 'apng' | 'png-folder', from the output path. A name with a format's
    suffix is that format even where a folder has the name (the output checks refuse that folder)."""
    text = str(path)
    if text.endswith(("/", "\\")):
        return "png-folder"
    suffix = Path(text).suffix.lower()
    if suffix not in OUTPUT_FORMATS and Path(text).is_dir():
        return "png-folder"
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
