"""``rotoscope serve``: the AUTOMATIC1111 web UI's HTTP API, so its clients can use rotoscope as a backend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import friendly
from .params import Command

HELP = """Serve the A1111 web UI's API (/sdapi/v1: txt2img, img2img, progress, interrupt, options, sd-models, …)
and rotoscope's own video jobs (/rotoscope/v1: queue, status, cancel, outputs, resume after a restart).

Example: rotoscope serve --port 7861 --model tiny --models-dir models
"""


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --api-auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7861,
    listen: Annotated[bool, typer.Option("--listen", help="Bind 0.0.0.0 (reachable from other machines); needs --api-auth.")] = False,
    api_auth: Annotated[Optional[str], typer.Option(help="user:password required on every route (HTTP Basic).", show_default=False)] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="The model loaded first (a client switches with sd_model_checkpoint).")] = "tiny",
    models_dir: Annotated[Optional[Path], typer.Option(help="Folder of local models (diffusers folders, .safetensors/.ckpt) offered in sd-models.", show_default=False)] = None,
    jobs_dir: Annotated[Path, typer.Option(help="Folder for each request's working files (removed after the answer) and the video jobs (kept; resumed on restart).")] = Path("jobs"),
    max_request: Annotated[str, typer.Option(help="Largest request body accepted, e.g. 50MB.")] = "50MB",
    max_pixels: Annotated[int, typer.Option(help="Most pixels one decoded image may have.")] = 4096 * 4096,
    max_images: Annotated[int, typer.Option(help="Most images one request may ask for (batch_size × n_iter).")] = 16,
    media_dir: Annotated[Optional[Path], typer.Option(help="Folder a video job's source path may name (default: JOBS_DIR/inputs).", show_default=False)] = None,
    max_frames: Annotated[int, typer.Option(help="Most source frames one video job (/rotoscope/v1/jobs) may decode.")] = 1000,
) -> None:
    from ..api import parse_size
    from ..http.config import ServeConfig

    config = ServeConfig(host=host, port=port, listen=listen, api_auth=api_auth, max_request=parse_size(max_request),
                         max_pixels=max_pixels, max_images=max_images, jobs_dir=jobs_dir, models_dir=models_dir,
                         media_dir=media_dir, max_frames=max_frames)
    config.validate()  # refuse --listen without --api-auth before importing the server
    from ..http.app import serve as run_server

    run_server(config, model)


def register(app: typer.Typer) -> None:
    app.command(name="serve", help=HELP, cls=Command)(friendly(serve))
