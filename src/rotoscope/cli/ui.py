"""``rotoscope ui``: the web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import OptionError
from .common import friendly
from .params import Command, with_where

HELP = """Start the web UI: upload, look, preview, mask, run, jobs — one local page (gradio) and its HTTP API.

Example: rotoscope ui --port 7860 --jobs-dir jobs
"""
AUTH_ENV = "ROTOSCOPE_AUTH"


def ui(
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    listen: Annotated[bool, typer.Option("--listen", help="Bind 0.0.0.0 (reachable from other machines); needs --auth.")] = False,
    auth: Annotated[Optional[str], typer.Option(envvar=AUTH_ENV, help=f"user:password required to open the page and call the API (shown in `ps`: prefer --auth-file or ${AUTH_ENV}).", show_default=False)] = None,
    auth_file: Annotated[Optional[Path], typer.Option(help="File whose first line is user:password (keeps the password out of `ps`).", show_default=False)] = None,
    allow_host: Annotated[Optional[list[str]], typer.Option(help="Another Host name the page may be reached by (besides loopback and --host); repeatable, '*' for any.", show_default=False)] = None,
    allow_origin: Annotated[Optional[list[str]], typer.Option(help="Another site allowed to call the page, e.g. http://mybox:7860; repeatable, '*' for any.", show_default=False)] = None,
    max_upload: Annotated[str, typer.Option(help="Largest upload accepted, e.g. 500MB.")] = "500MB",
    jobs_dir: Annotated[Path, typer.Option(help="Folder holding the jobs (and kept uploads); jobs survive restarts.")] = Path("jobs"),
    models_dir: Annotated[Optional[Path], typer.Option(help="Folder of local models (diffusers folders, .safetensors/.ckpt) for the model picker.", show_default=False)] = None,
    **where: str,
) -> None:
    """``where``: --executor / --workers / --ray / --ray-token (declared in jobs/table.py): where the page's jobs run."""
    from ..api import parse_size
    from ..ui.server import UIConfig, serve

    if auth_file is not None:
        auth = read_auth_file(auth_file)
    config = UIConfig(host=host, port=port, listen=listen, auth=auth, max_upload=parse_size(max_upload),
                      jobs_dir=jobs_dir, models_dir=models_dir, allow_hosts=list(allow_host or []),
                      allow_origins=list(allow_origin or []), where=where)
    config.validate()  # refuse --listen without --auth before importing gradio
    serve(config)


def read_auth_file(path: Path) -> str:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise OptionError(f"--auth-file {path} cannot be read ({exc.strerror or exc}); give a file holding user:password.") from None
    return lines[0].strip() if lines else ""


def register(app: typer.Typer) -> None:
    app.command(name="ui", help=HELP, cls=Command)(friendly(with_where(ui)))
