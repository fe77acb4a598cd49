"""``rotoscope probe``: a clip's facts."""

from __future__ import annotations

import json

import typer

from .common import friendly, out
from .params import Command
from .params import Json, Source

HELP = """Show a clip's facts: duration, frames, fps (and VFR), size, rotation, pixel format, alpha, audio.

Example: rotoscope probe samples/cup.mp4 --json
"""


def probe(source: Source, as_json: Json = False) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..api import probe as run_probe

    info = run_probe(source)
    if as_json:
        out.print_json(json.dumps(info.to_dict()))
        return
    table = Table(show_header=False, box=None)
    audio = f"{info.audio.codec}, {info.audio.sample_rate} Hz, {info.audio.channels} ch" if info.audio else "none"
    rows = [("file", info.path), ("container", info.container), ("codec", info.codec),
            ("duration", f"{info.duration:.3f} s"), ("frames", str(info.frame_count) + (f" ({info.timestamps_repaired} with broken timestamps, re-timed)" if info.timestamps_repaired else "")),
            ("fps", f"{info.fps:g}" + (" (variable frame rate)" if info.variable_frame_rate else "")),
            ("size", f"{info.width}x{info.height}"), ("rotation", f"{info.rotation}°"),
            ("pixel format", info.pixel_format + (" (alpha)" if info.has_alpha else "")), ("audio", audio)]
    for key, value in rows:
        table.add_row(Text(key, style="bold"), Text(value))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command(name="probe", help=HELP, cls=Command)(friendly(probe))
