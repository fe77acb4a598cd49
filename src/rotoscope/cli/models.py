"""``rotoscope models``: what a web-UI models folder holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import friendly, out
from .params import Command, Json

HELP = """List the model files in a web-UI models folder (A1111 / Forge: models/Stable-diffusion, models/Lora,
models/VAE, embeddings, models/ControlNet, models/AnimateDiff; ComfyUI: checkpoints, loras, vae, controlnet):
each file's kind, model family and A1111 short hash (infotext's "Model hash"); diffusers folders too.

Example: rotoscope models --models-dir samples --json
"""


def models(models_dir: Annotated[Path, typer.Option(help="The web UI's folder (holding models/), its models folder, "
                                                    "or a folder of checkpoints.", show_default=False)],
           as_json: Json = False) -> None:
    from rich.table import Table

    from ..api import model_files

    files = model_files(models_dir)
    if as_json:
        out.print_json(json.dumps([f.as_dict() for f in files]))
        return
    table = Table(box=None)
    for column in ("kind", "family", "hash", "name", "size"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for f in files:
        table.add_row(f.kind, f.family, f.hash, f.name, f"{f.size / 2**20:,.1f} MiB")
    out.print(table)
    out.print(f"{len(files)} files in {models_dir}")


def register(app: typer.Typer) -> None:
    app.command(name="models", help=HELP, cls=Command)(friendly(models))
