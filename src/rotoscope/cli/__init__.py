"""The `rotoscope` command: thin faces over the API facade, one module per command.

Every job option's parameter is generated from the option model (``cli/params.py``); user errors print
one line and exit 2; ``--debug`` shows the traceback with the underlying error. Nothing is imported
here: ``main`` answers a plain ``--help`` from a cache before typer is loaded (``cli/fast_help.py``).
"""

from __future__ import annotations


def main() -> None:
    from .fast_help import main as run

    run()


def __getattr__(name: str):  # PEP 562: ``from rotoscope.cli import app`` loads the typer app
    if name == "app":
        from .commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
