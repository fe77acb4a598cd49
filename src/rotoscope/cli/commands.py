"""The typer app: the commands, the global options (--debug, --version).

Commands are built when they are asked for (:class:`LazyGroup`): ``rotoscope convert`` builds
convert's parameters only, and never reads the job option table that ``run`` is generated from.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Annotated, Any

import typer

from .common import state
from .params import Group

#: every command, in the order help lists them; each is a module here with ``register(app)``
COMMANDS = ("probe", "convert", "preview", "run", "batch", "keys", "score", "models", "ui", "serve")


class _Commands(MutableMapping):
    """click's name → command table, building a command on first access."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            single = typer.Typer(add_completion=False)
            import_module(f".{name}", __package__).register(single)
            command = typer.main.get_command(single)  # one command: typer gives the command itself
            command.name = name
            self._built[name] = command
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


class LazyGroup(Group):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def get_command(self, ctx: Any, name: str) -> Any:
        return self.commands.get(name)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

app = typer.Typer(
    name="rotoscope",
    help="Turn a short video or GIF into a stylised AI animation.\n\n"
    "Example: rotoscope run samples/cup.mp4 -p 'ink drawing' --model classic:cartoon --duration 3 --fps 10 -o out/cup.gif",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
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


