"""The typer app: the commands registered, the global options (--debug, --version)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import state
from .params import Group

app = typer.Typer(
    name="rotoscope",
    help="Turn a short video or GIF into a stylised AI animation.\n\n"
    "Example: rotoscope run samples/cup.mp4 -p 'ink drawing' --model classic:cartoon --duration 3 --fps 10 -o out/cup.gif",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=Group,
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"rotoscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks (with the underlying FFmpeg / diffusers error).")] = False,
          version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False) -> None:
    state["debug"] = debug
    from .common import setup_logging

    setup_logging()


def _register() -> None:
    from . import convert, keys, preview, probe, run, score, serve, ui

    for module in (probe, convert, preview, run, keys, score, ui, serve):
        module.register(app)


_register()

