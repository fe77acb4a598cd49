"""One generation at a time on the model (the web UI's queue lock), what it is doing, and its stop switches.

``/interrupt`` stops the request; ``/skip`` stops only the image being made, and the request goes on with the
next one, as in the web UI. Each image gets a switch of its own (an Event the stylizer checks after every
denoising step); the switch also hears each step, which is what ``/progress`` reports."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


class ImageSwitch(threading.Event):
    """The cancel event of one image: set by /skip (this image only) or /interrupt (the request stops)."""

    def __init__(self, generation: "Generation") -> None:
        super().__init__()
        self.generation = generation

    def on_step(self, step: int, total: int) -> None:  # called by the stylizer after each denoising step
        self.generation.stepped(step, total)


@dataclass
class Generation:
    lock: threading.Lock = field(default_factory=threading.Lock)
    busy: bool = False
    interrupted: bool = False
    skipped: bool = False
    images: int = 0  # images the request makes (job_count)
    job_no: int = 0  # the image being made
    step: int = 0  # its denoising steps done, of ``steps``
    steps: int = 0
    steps_run: int = 0  # denoising steps run in the whole request
    steps_at_interrupt: int | None = None
    started: float = 0.0
    current: ImageSwitch | None = None

    @contextmanager
    def running(self, images: int, steps: int):
        """Held for the whole generation: later requests wait their turn, as in the web UI's queue."""
        with self.lock:
            # an interrupt is for the generation running when it came
            self.interrupted, self.skipped, self.steps_at_interrupt, self.current = False, False, None, None
            self.images, self.job_no, self.step, self.steps, self.steps_run = images, 0, 0, steps, 0
            self.busy, self.started = True, time.time()
            try:
                yield self
            finally:
                self.busy, self.current = False, None

    def image(self, job_no: int) -> ImageSwitch:
        """The switch for image ``job_no``; already set when the request was interrupted."""
        switch = ImageSwitch(self)
        self.job_no, self.step, self.skipped, self.current = job_no, 0, False, switch
        if self.interrupted:
            switch.set()
        return switch

    def stepped(self, step: int, total: int) -> None:
        self.step, self.steps = step, total
        self.steps_run += 1

    def interrupt(self) -> None:
        if self.busy and not self.interrupted:
            self.interrupted, self.steps_at_interrupt = True, self.steps_run
        current = self.current
        if current is not None:
            current.set()

    def skip(self) -> None:
        current = self.current
        if self.busy and current is not None:
            self.skipped = True
            current.set()

    def progress(self) -> dict:
        """The web UI's /progress; idle is exactly progress 0 and job_count 0 (clients poll for that)."""
        if not self.busy:
            return {"progress": 0.0, "eta_relative": 0.0, "current_image": None, "textinfo": None,
                    "state": {"skipped": False, "interrupted": False, "stopping_generation": False, "job": "",
                              "job_count": 0, "job_timestamp": "0", "job_no": 0, "sampling_step": 0,
                              "sampling_steps": 0}}
        images, job_no, step, steps = max(self.images, 1), self.job_no, self.step, self.steps
        done = min((job_no + (step / steps if steps else 0.0)) / images, 1.0)
        elapsed = time.time() - self.started
        return {
            "progress": done, "eta_relative": elapsed / done - elapsed if done > 0 else 0.0,
            "current_image": None, "textinfo": None,
            "state": {"skipped": self.skipped, "interrupted": self.interrupted, "stopping_generation": False,
                      "job": f"image {job_no + 1} of {images}", "job_count": images,
                      "job_timestamp": time.strftime("%Y%m%d%H%M%S", time.localtime(self.started)),
                      "job_no": job_no, "sampling_step": step, "sampling_steps": steps},
        }
