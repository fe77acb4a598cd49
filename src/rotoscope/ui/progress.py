"""The library's Progress hooks drawn by gradio: a bar with the stage, frames/s and ETA."""

from __future__ import annotations

import time
from collections.abc import Callable

LABELS = {"decode": "decoding", "stylize": "stylising", "encode": "encoding", "convert": "converting"}


class GradioProgress:
    """Implements :class:`rotoscope.progress.Progress`; ``report(fraction_or_None, text)`` draws it.

    In the page ``report`` is a ``gr.Progress``; ``text`` reads e.g.
    ``stylising 12/40 · 3.10 fr/s · ETA 9 s``.
    """

    def __init__(self, report: Callable[..., object] | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        self.report = report
        self.clock = clock
        self.stage = ""
        self.total: int | None = None
        self.done = 0
        self.started = 0.0
        self.text = ""
        self.rates: dict[str, float] = {}  # finished stage → frames/s
        self.worker_text = ""  # a job on several workers: each one's frames, frames/s and ETA

    def start(self, stage: str, total: int | None) -> None:
        self.stage, self.total, self.done, self.started = stage, total, 0, self.clock()
        self.worker_text = ""
        self._emit()

    def workers(self, workers: dict) -> None:
        from ..progress import describe_workers

        self.worker_text = describe_workers(workers)
        self._emit()

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._emit()

    def finish(self) -> None:
        rate = self.rate()
        if rate is not None:
            self.rates[self.stage] = rate

    def rate(self) -> float | None:
        elapsed = self.clock() - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def _emit(self) -> None:
        label = LABELS.get(self.stage, self.stage)
        rate = self.rate()
        parts = [f"{label} {self.done}/{self.total}" if self.total else f"{label} {self.done}"]
        parts.append(f"{rate:.2f} fr/s" if rate else "-- fr/s")
        if self.total and rate:
            parts.append(f"ETA {max(0.0, (self.total - self.done) / rate):.0f} s")
        self.text = " · ".join(parts) + (f" — {self.worker_text}" if self.worker_text else "")
        if self.report is not None:
            fraction = min(1.0, self.done / self.total) if self.total else None
            self.report(fraction, desc=self.text)
