"""``rotoscope convert``: cut, resample, scale and encode without a model."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer

from .common import RichProgress, friendly, out
from .. import api
from .params import Command
from .params import Json, Source, command, own

HELP = """Cut, resample and scale a clip into GIF / MP4 / WebP / APNG / PNG frames, with palette quality.

Example: rotoscope convert samples/cup.mp4 --duration 3 --fps 10 --width 320 -o out/cup.gif
"""


def convert(source: str, as_json: bool = False, **values: Any) -> None:
    from ..api import convert as run_convert, default_output

    output = values.pop("output", None) or [default_output(source)]
    progress = RichProgress()
    try:
        result = run_convert(source, output, progress=progress, **values)
    finally:
        progress.close()
    if as_json:
        data = asdict(result)
        data["outputs"] = [str(p) for p in result.outputs]
        out.print_json(json.dumps(data))
        return
    out.print(f"decoded {result.frames} frames, {result.width}x{result.height}, {result.duration:.2f} s")
    for path in result.outputs:
        out.print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} KB)")


def register(app: typer.Typer) -> None:
    app.command(name="convert", help=HELP, cls=Command)(friendly(command(convert, api.convert_options(), [own("source", Source), own("as_json", Json, False)])))
