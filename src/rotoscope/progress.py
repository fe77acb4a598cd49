"""Progress reporting: the library calls these hooks, the CLI and web UI draw them."""

from __future__ import annotations

import threading
from typing import Protocol

from .errors import RotoscopeError


class Progress(Protocol):
    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def finish(self) -> None: ...


class NullProgress:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class Cancelled(RotoscopeError):
    """The user cancelled; finished frames are kept and the job resumes from them."""


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled; finished frames are kept, run the same job again to resume.")


def after_step(cancel: threading.Event | None, step: int, total: int) -> None:
    """What every stylizer's per-denoising-step callback does: a cancel event that listens (an ``on_step(step,
    total)`` method, e.g. the HTTP face's for ``/progress``) hears the step, then the event is checked."""
    on_step = getattr(cancel, "on_step", None)
    if on_step is not None:
        on_step(step, total)
    check_cancel(cancel)
