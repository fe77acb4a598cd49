"""``rotoscope run``: every frame through the chosen method, resumably."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import RichProgress, friendly, out
from .params import Command
from .params import Json, command, own

EXAMPLES = """Stylise every frame with img2img under one prompt and seed (the gif2gif workflow), resumably;
or stylise keyframes and carry them along the flow (--method keyframes | ebsynth);
or animate with the motion inside the model (--method animatediff | img2vid).

Example: rotoscope run samples/cup.mp4 -p "ink drawing" --model classic:cartoon --duration 3 --fps 10 --width 320 -o out/cup.gif

Example: rotoscope run samples/cup.mp4 --method keyframes --keys every:10 --plate 2x2 -p "ink drawing" --model tiny --steps 4 --max-frames 30 --width 128 -o out/cup-kf.gif
"""

OptSource = Annotated[Optional[str], typer.Argument(help="Video (mp4, mov, webm, mkv, avi), GIF, animated WebP/APNG, image, folder of images or a glob. --method img2vid: an image, or none with -p (txt2img makes the still).", show_default=False)]
Job = Annotated[Optional[Path], typer.Option(help="Job dir (default: jobs/<source>-<settings hash>); the same job resumes.", rich_help_panel="Job")]
Frames = Annotated[Optional[str], typer.Option(help="Redo just these frames, e.g. 12-18 (0-based, inclusive).", rich_help_panel="Job")]


def run(source: str | None = None, job: Path | None = None, frames: str | None = None, as_json: bool = False,
        **values: Any) -> None:
    from ..api import stylize

    progress = RichProgress()
    try:
        result = stylize(source, job_dir=job, frames=frames, progress=progress, **values)
    finally:
        progress.close()
    if as_json:
        out.print_json(json.dumps({"job": str(result.job_dir), "outputs": [str(p) for p in result.outputs],
                                   "seed": result.seed, "frames": result.frames_total,
                                   "computed": result.frames_computed, "resumed": result.frames_resumed,
                                   "keys_generated": result.keys_generated, "propagated": result.frames_propagated,
                                   "infotext": result.infotext}))
        return
    out.print(f"job {result.job_dir}: {result.summary()}")
    for path in result.outputs:
        out.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    from ..api import options_table

    params = [own("source", OptSource), own("job", Job), own("frames", Frames), own("as_json", Json, False)]
    func = command(run, options_table(), params)
    func.__doc__ = EXAMPLES
    app.command(name="run", help=EXAMPLES, cls=Command)(friendly(func))
