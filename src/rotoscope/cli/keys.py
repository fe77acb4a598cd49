"""``rotoscope keys``: which frames the keyframe methods would stylise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import friendly, out
from .params import Command
from .params import Json, Source, command, own

HELP = """Show which frames the keyframe methods would stylise (0-based, after the media options), the clip's shots (--shots), and a contact sheet (one row per shot).

Example: rotoscope keys samples/cup.mp4 --fps 10 --keys auto --key-min-gap 5 --sheet out/keys.png --json
"""


def keys(source: str, sheet: Path = Path("out/keys.png"), as_json: bool = False, **values: Any) -> None:
    from ..api import keys as run_keys

    selection = run_keys(source, sheet, **values)
    if as_json:
        out.print_json(json.dumps({"keys": selection.keys, "cuts": selection.cuts, "shots": selection.shots,
                                   "sheet": str(sheet)}))
        return
    out.print(f"{len(selection.keys)} keys: {', '.join(map(str, selection.keys))}")
    if selection.cuts:
        out.print(f"scene cuts at: {', '.join(map(str, selection.cuts))}")
    for line in shot_lines(selection.shots):
        out.print(line)
    out.print(f"wrote {sheet}")


def shot_lines(shots: list[dict]) -> list[str]:
    """One line a shot: "shot 2: frames 23-39 (17), 2.300-4.000 s"."""
    return [f"shot {s['shot']}: frames {s['start_frame']}-{s['end_frame']} ({s['frames']})"
            + (f", {s['start']:.3f}-{s['end']:.3f} s" if "start" in s else "") for s in shots]


def keys_options():
    from ..api import options_table

    return [o for o in options_table() if o.panel == "Media" or o.key == "overwrite"  # --overwrite: the sheet may replace a file
            or (o.panel == "Keyframes" and o.key not in ("plate", "refine", "key_color_match"))]


def register(app: typer.Typer) -> None:
    params = [own("source", Source),
              own("sheet", Annotated[Path, typer.Option("--sheet", help="Contact sheet of the keyframes (PNG).")], Path("out/keys.png")),
              own("as_json", Json, False)]
    app.command(name="keys", help=HELP, cls=Command)(friendly(command(keys, keys_options(), params)))
