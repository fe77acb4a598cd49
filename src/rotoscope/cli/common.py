"""What every command shares: error handling, notices, progress bars and the plain console."""

from __future__ import annotations

import functools
import logging
import signal
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import RotoscopeError

err = Console(stderr=True, highlight=False)
# Paths and messages are printed verbatim (no rich markup: "out [v2].gif" stays intact), unwrapped.
out = Console(highlight=False, markup=False, soft_wrap=True)
state = {"debug": False}


class _NoteHandler(logging.Handler):
    """Notices as "note: …" lines on whatever stderr is now (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]note:[/] {escape(record.getMessage())}", soft_wrap=True)


def setup_logging() -> None:
    logger = logging.getLogger("rotoscope")
    if not any(isinstance(h, _NoteHandler) for h in logger.handlers):
        logger.addHandler(_NoteHandler())
        logger.setLevel(logging.INFO)


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised where the program is (as Ctrl-C is): writers remove their temps on the way out."""


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
    raise Stopped()


def os_error_line(exc: OSError) -> str:
    """One line for an OSError that reached the CLI: disk full / read-only / permission name the file and the
    fix; any other names the file and the system's reason."""
    from ..errors import output_error

    name = exc.filename
    known = output_error(exc, name) if name else None
    if known is not None:
        return str(known)
    where = f" {name}" if name else ""
    return (f"cannot use{where}: {exc.strerror or exc}; check the path and free space, then run the same command "
            "again (--debug shows the traceback).")


def friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn RotoscopeError and OSError (disk full, read-only, …) into one line on stderr and exit code 2;
    Ctrl-C and SIGTERM into a resume hint (exit 130 / 143). Any other exception is a bug: its traceback shows."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = None
        try:
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not the main thread (a test runner's worker): Ctrl-C only
            pass
        try:
            return command(*args, **kwargs)
        except RotoscopeError as exc:
            if state["debug"]:
                raise
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except OSError as exc:
            if state["debug"]:
                raise
            err.print(f"[bold red]error:[/] {escape(os_error_line(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt as exc:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            err.print("stopped; finished frames are kept — run the same command again to resume.")
            raise typer.Exit(143 if isinstance(exc, Stopped) else 130) from None
        finally:
            if previous is not None:
                try:
                    signal.signal(signal.SIGTERM, previous)
                except ValueError:
                    pass

    return wrapper


class RichProgress:
    """The library's Progress hooks drawn as a rich bar with frames/s and ETA. A stage with nothing to do
    (a resumed job's decode) draws no bar."""

    LABELS = {"decode": "decoding", "stylize": "stylising", "encode": "encoding", "convert": "converting"}

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from .rate import RateColumn

        self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=False)
        self.task = None
        self.started = False
        self.worker_tasks: dict[str, Any] = {}

    def start(self, stage: str, total: int | None) -> None:
        if total == 0:
            self.task = None
            return
        if not self.started:
            self.bar.start()
            self.started = True
        self.task = self.bar.add_task(self.LABELS.get(stage, stage), total=total)

    def advance(self, count: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, count)

    def finish(self) -> None:
        if self.task is not None:
            task = next(t for t in self.bar.tasks if t.id == self.task)
            self.bar.update(self.task, total=task.completed)
        for name, task_id in self.worker_tasks.items():
            task = next(t for t in self.bar.tasks if t.id == task_id)
            self.bar.update(task_id, total=task.completed)
        self.worker_tasks = {}

    def workers(self, workers: dict) -> None:
        """A job on several workers (executors/): one bar per worker under the stage's — its frames, frames/s,
        and the ETA of its share (its frames in flight and its part of the queue)."""
        for name, w in workers.items():
            left = w.eta * w.fps if w.eta is not None else 0
            total = w.frames + max(1, round(left)) if w.eta is None or left >= 0.5 else w.frames
            if name not in self.worker_tasks:
                self.worker_tasks[name] = self.bar.add_task(f"  {name}", total=total, completed=w.frames)
            else:
                self.bar.update(self.worker_tasks[name], total=total, completed=w.frames)

    def close(self) -> None:
        if self.started:
            self.bar.stop()
