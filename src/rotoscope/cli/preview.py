"""``rotoscope preview``: one frame, several seeds × strengths, a labelled grid."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import friendly, out
from .params import Command
from .params import Source, command, own

HELP = """Stylise one frame with several seeds (× strengths) into a labelled grid; then run with --seed S.

Example: rotoscope preview samples/cup.mp4 --frame 10 --seeds 4 --strengths 0.2,0.3,0.4 -p "ink drawing" --model tiny --steps 4 --width 128 -o out/preview.png

With a mask (--mask, --mask-rect, …) the tiles are inpainted, and an overlay image (-mask.png beside the grid)
shows the mask outline and the "only masked" crop box. With --control, each row starts with the control image(s).
"""

#: panels of a job that do not apply to one still frame
SKIPPED_PANELS = ("Method", "Output", "Consistency", "Keyframes", "Video")
SKIPPED = ("from_",)


def preview(source: str, frame: int = 0, seeds: int = 4, strengths: str | None = None,
            output: Path = Path("out/preview.png"), **values: Any) -> None:
    from ..api import preview as run_preview

    result = run_preview(source, output, frame=frame, seeds=seeds, strengths=strengths, **values)
    out.print(f"wrote {result.grid} ({len(result.tiles)} tiles)")
    if result.overlay:
        out.print(f"wrote {result.overlay} (mask outline and only-masked crop box)")
    for tile in result.tiles:
        out.print(f"  seed {tile.seed}  strength {tile.strength:g}  {tile.path}")


def preview_options():
    from ..api import options_table

    # --overwrite (the grid and tiles may replace files) is the one output option a preview takes
    return [o for o in options_table() if (o.panel not in SKIPPED_PANELS or o.key == "overwrite") and o.key not in SKIPPED]


def register(app: typer.Typer) -> None:
    params = [own("source", Source),
              own("frame", Annotated[int, typer.Option(help="Frame to try (0-based, after media options).")], 0),
              own("seeds", Annotated[int, typer.Option(help="How many seeds (from --seed upwards, or random).")], 4),
              own("strengths", Annotated[Optional[str], typer.Option(help="Comma-separated strengths, one row each, e.g. 0.2,0.3,0.4.")]),
              own("output", Annotated[Path, typer.Option("-o", "--output", help="Grid image; tiles are written beside it.")], Path("out/preview.png"))]
    app.command(name="preview", help=HELP, cls=Command)(friendly(command(preview, preview_options(), params)))
