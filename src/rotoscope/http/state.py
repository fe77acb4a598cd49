"""One generation at a time on the model (the web UI's queue lock), what it is doing, and its stop switch."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Generation:
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancel: threading.Event = field(default_factory=threading.Event)
    busy: bool = False
    images: int = 0
    steps: int = 0
    started: float = 0.0

    @contextmanager
    def running(self, images: int, steps: int):
        """Held for the whole generation: later requests wait their turn, as in the web UI's queue."""
        with self.lock:
            self.cancel.clear()  # an interrupt is for the generation running when it came
            self.busy, self.images, self.steps, self.started = True, images, steps, time.time()
            try:
                yield self.cancel
            finally:
                self.busy = False

    def progress(self) -> dict:
        """The web UI's /progress; idle is exactly progress 0 and job_count 0 (clients poll for that)."""
        busy = self.busy
        return {
            "progress": 0.0, "eta_relative": 0.0, "current_image": None, "textinfo": None,
            "state": {"skipped": False, "interrupted": busy and self.cancel.is_set(), "stopping_generation": False,
                      "job": "generation" if busy else "", "job_count": 1 if busy else 0,
                      "job_timestamp": time.strftime("%Y%m%d%H%M%S", time.localtime(self.started)) if busy else "0",
                      "job_no": 0, "sampling_step": 0, "sampling_steps": self.steps if busy else 0},
        }
