"""``rotoscope probe``: a clip's facts."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .common import friendly, out
from .params import Command
from .params import Json, Source

HELP = """Show a clip's facts: duration, frames, fps (and VFR), size, rotation, pixel format, alpha, audio.

Example: rotoscope probe samples/cuts.mp4 --shots auto --json
"""

ShotsOption = Annotated[Optional[str], typer.Option(
    "--shots", help="Also list the clip's shots at its own frame rate: auto (found by change) | none | 24,51 "
    "(first frames of new shots), as --shots means for run, keys and score.", show_default=False)]


def probe(source: Source, as_json: Json = False, shots: ShotsOption = None) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..api import probe as run_probe

    from ..api import shots as find_shots

    info = run_probe(source)
    found = find_shots(source, shots=shots) if shots is not None else None
    if as_json:
        data = info.to_dict()
        if found is not None:
            data["shots"] = found
        out.print_json(json.dumps(data))
        return
    table = Table(show_header=False, box=None)
    audio = f"{info.audio.codec}, {info.audio.sample_rate} Hz, {info.audio.channels} ch" if info.audio else "none"
    rows = [("file", info.path), ("container", info.container), ("codec", info.codec),
            ("duration", f"{info.duration:.3f} s"), ("frames", str(info.frame_count) + (f" ({info.timestamps_repaired} with broken timestamps, re-timed)" if info.timestamps_repaired else "")),
            ("fps", f"{info.fps:g}" + (" (variable frame rate)" if info.variable_frame_rate else "")),
            ("size", f"{info.width}x{info.height}"), ("rotation", f"{info.rotation}°"),
            ("pixel format", info.pixel_format + (" (alpha)" if info.has_alpha else "")), ("audio", audio)]
    if found is not None:
        rows.append(("shots", f"{len(found)} ({len(found) - 1} cuts)"))
        rows += [(f"  shot {s['shot']}", f"frames {s['start_frame']}-{s['end_frame']}, {s['start']:.3f}-{s['end']:.3f} s")
                 for s in found]
    for key, value in rows:
        table.add_row(Text(key, style="bold"), Text(value))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command(name="probe", help=HELP, cls=Command)(friendly(probe))
