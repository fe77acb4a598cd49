"""``rotoscope batch``: many jobs over the same workers, a summary table at the end, resumable as a whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import RichProgress, friendly, out
from .params import Command, Json, command, own

EXAMPLES = """Run many clips with the same settings (a folder of clips, or clip files), or job specs in JSON (option
names → values, with "source"), one after another over the same workers (--workers/--ray: the same Ray actors,
which keep a loaded model for the next job with the same model settings). Each clip is written to --out-dir as
NAME.gif (or --format); running the same command again resumes every job. The job options given apply to
every job (a spec's own values win).

Example: rotoscope batch samples --model classic:cartoon --duration 1 --fps 5 --width 96 --out-dir out/batch
"""

CLIPS = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".gif", ".webp", ".apng")

Inputs = Annotated[list[str], typer.Argument(help="Job specs (.json: option names → values, with \"source\"), clips, or folders of clips.", show_default=False)]
Settings = Annotated[Optional[Path], typer.Option(help="A JSON file of job options (option names → values) for every job; the options given on the command line win.", rich_help_panel="Job")]
OutDir = Annotated[Path, typer.Option(help="Where each clip's output goes (NAME.FORMAT), unless its spec names an output.", rich_help_panel="Job")]
Format = Annotated[str, typer.Option(help="Output format of each clip: gif | mp4 | webp | apng.", rich_help_panel="Job")]


def _jobs(inputs: list[str], shared: dict[str, Any], out_dir: Path, fmt: str) -> list[dict[str, Any]]:
    from ..errors import InputError

    jobs = []
    for item in inputs:
        path = Path(item)
        if path.suffix.lower() == ".json":
            try:
                spec = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise InputError(f"{path} is not a readable JSON job spec ({exc}).") from None
            if not isinstance(spec, dict) or "source" not in spec:
                raise InputError(f"{path}: a job spec is a JSON object of options with a \"source\".")
            jobs.append({**shared, **spec})
        elif path.is_dir():
            clips = sorted(p for p in path.iterdir() if p.suffix.lower() in CLIPS)
            if not clips:
                raise InputError(f"{path} holds no clips ({', '.join(CLIPS)}).")
            jobs += [{**shared, "source": str(p)} for p in clips]
        else:
            jobs.append({**shared, "source": item})
    for job in jobs:
        job.setdefault("output", [str(out_dir / f"{Path(job['source']).stem}.{fmt}")])
    return jobs


def batch(inputs: list[str], settings: Path | None = None, out_dir: Path = Path("out/batch"), format: str = "gif",
          as_json: bool = False, **values: Any) -> None:
    from rich.table import Table

    from ..api import batch as run_batch
    from ..errors import InputError

    where = {k: values.pop(k, None) for k in ("executor", "workers", "ray", "ray_token")}
    shared: dict[str, Any] = {}
    if settings is not None:
        try:
            shared = json.loads(settings.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"--settings {settings} is not a readable JSON file of options ({exc}).") from None
    shared.update({k: v for k, v in values.items() if v is not None})
    progress = RichProgress()
    try:
        rows = run_batch(_jobs(inputs, shared, out_dir, format), progress=progress, **where)
    finally:
        progress.close()
    if as_json:
        out.print_json(json.dumps(rows))
    else:
        table = Table("source", "job", "status", "computed", "resumed", "seconds")
        for row in rows:
            table.add_row(row["source"], str(row["job"]), row["status"], str(row["computed"]), str(row["resumed"]),
                          f"{row['seconds']:.1f}")
        out.print(table)
    if any(row["status"] != "done" for row in rows):
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    from ..api import options_table

    params = [own("inputs", Inputs), own("settings", Settings), own("out_dir", OutDir, Path("out/batch")),
              own("format", Format, "gif"), own("as_json", Json, False)]
    func = command(batch, options_table(), params)
    func.__doc__ = EXAMPLES
    app.command(name="batch", help=EXAMPLES, cls=Command)(friendly(func))
