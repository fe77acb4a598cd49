"""Progress reporting: the library calls these hooks, the CLI and web UI draw them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from .errors import RotoscopeError


class Progress(Protocol):
    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def finish(self) -> None: ...


@dataclass(frozen=True)
class WorkerProgress:
    """One worker of a job spread over several (executors/): frames it made, its frames/s, and the seconds until
    its share of the frames still to do is made (None until it has made one). A progress object with a
    ``workers({name: WorkerProgress})`` method gets them after each write."""

    frames: int
    fps: float
    eta: float | None


def describe_workers(workers: dict[str, WorkerProgress]) -> str:
    """'w0 12 fr · 1.20 fr/s · ETA 9 s; w1 …': the line the CLI and the page show under their bar."""
    parts = []
    for name, w in workers.items():
        eta = f"ETA {w.eta:.0f} s" if w.eta is not None else "ETA --"
        parts.append(f"{name} {w.frames} fr · {w.fps:.2f} fr/s · {eta}")
    return "; ".join(parts)


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
