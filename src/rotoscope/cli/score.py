"""``rotoscope score``: measure flicker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import friendly, out
from .params import Command
from .params import Json, command, own

HELP = """Measure flicker: warp error along the source's optical flow (vs the source's own), SSIM/PSNR to source, CLIP consistency; per shot, pairs across a cut excluded (--shots).

Example: rotoscope score out/cup.gif --source samples/cup.mp4 --duration 3 --fps 10 --width 320 --plot out/cup-flicker.png
"""

#: the media options that must match the run's, so that source and output frames pair up
MEDIA = ("start", "duration", "fps", "every_nth", "max_frames", "width", "height", "shots")


def score(output: str, source: str, flow: str = "dis", plot: Path | None = None, clip_model: str | None = None,
          as_json: bool = False, **media: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..api import score as run_score

    result = run_score(output, source, flow=flow, clip_model=clip_model, plot=plot, **media)
    if as_json:
        data = result.to_dict()
        data["plot"] = str(plot) if plot is not None else None
        out.print_json(json.dumps(data))
        return
    per_frame = result.per_frame
    worst = max(range(len(per_frame)), key=per_frame.__getitem__) if per_frame else 0
    table = Table(show_header=False, box=None)
    clip_text = f"{result.clip:.4f}" if result.clip is not None else result.clip_note
    rows = [("frames", str(result.frames)), ("flow", result.flow),
            ("warp error", f"{result.warp_error:.3f}  (0-255, lower is steadier)"),
            ("source warp error", f"{result.source_warp_error:.3f}  (the source's own flicker)"),
            ("added flicker", f"{result.added_flicker:+.3f}" + ("  smoothed: steadier than the source by over 10 %, "
                                                                   "detail lost" if result.smoothed else "")),
            ("cuts", f"{len(result.cuts)} cut{'' if len(result.cuts) == 1 else 's'} excluded (pairs across a cut: no flow)"
                     if result.cuts else "none"),
            ("SSIM to source", f"{result.ssim:.4f}"), ("PSNR to source", f"{result.psnr:.2f} dB"),
            ("CLIP consistency", clip_text),
            ("worst frame", f"{worst} (warp error {per_frame[worst]:.3f})" if per_frame else "-")]
    if result.cuts:
        rows += [(f"  shot {s['shot']}", f"frames {s['start_frame']}-{s['end_frame']}: warp error {s['warp_error']:.3f}, "
                  f"source {s['source_warp_error']:.3f}") for s in result.shots]
    for key, value in rows:
        table.add_row(Text(key, style="bold"), Text(value))
    out.print(table)
    if plot is not None:
        out.print(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    from ..api import option

    flow = option("flow")
    params = [own("output", Annotated[str, typer.Argument(help="The stylised clip: video, GIF, WebP/APNG or a folder of frames.", show_default=False)]),
              own("source", Annotated[str, typer.Option("--source", help="The clip it was made from (a job's source/ folder pairs exactly; or give the run's --start/--duration/--fps/--width).", show_default=False)]),
              own("flow", Annotated[str, typer.Option("--flow", help=flow.help + " One of: " + " | ".join(flow.choice_list()) + ".")], "dis"),
              own("plot", Annotated[Optional[Path], typer.Option("--plot", help="Write a PNG of the warp error per frame (where it flickers).")]),
              own("clip_model", Annotated[Optional[str], typer.Option("--clip-model", help="Local CLIP folder for CLIP frame consistency (else $ROTOSCOPE_CLIP, else the Hub cache).")]),
              own("as_json", Json, False)]
    options = [option(name) for name in (*MEDIA, "overwrite")]  # --overwrite: --plot may replace a file
    app.command(name="score", help=HELP, cls=Command)(friendly(command(score, options, params)))
