"""``rotoscope ui``: the web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import friendly
from .params import Command

HELP = """Start the web UI: upload, look, preview, mask, run, jobs — one local page (gradio) and its HTTP API.

Example: rotoscope ui --port 7860 --jobs-dir jobs
"""


def ui(
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    listen: Annotated[bool, typer.Option("--listen", help="Bind 0.0.0.0 (reachable from other machines); needs --auth.")] = False,
    auth: Annotated[Optional[str], typer.Option(help="user:password required to open the page and call the API.", show_default=False)] = None,
    max_upload: Annotated[str, typer.Option(help="Largest upload accepted, e.g. 500MB.")] = "500MB",
    jobs_dir: Annotated[Path, typer.Option(help="Folder holding the jobs (and kept uploads); jobs survive restarts.")] = Path("jobs"),
    models_dir: Annotated[Optional[Path], typer.Option(help="Folder of local models (diffusers folders, .safetensors/.ckpt) for the model picker.", show_default=False)] = None,
) -> None:
    from ..api import parse_size
    from ..ui.server import UIConfig, serve

    config = UIConfig(host=host, port=port, listen=listen, auth=auth, max_upload=parse_size(max_upload),
                      jobs_dir=jobs_dir, models_dir=models_dir)
    config.validate()  # refuse --listen without --auth before importing gradio
    serve(config)


def register(app: typer.Typer) -> None:
    app.command(name="ui", help=HELP, cls=Command)(friendly(ui))
