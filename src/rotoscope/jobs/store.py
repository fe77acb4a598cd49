"""The job dir: job.json, source frames, finished output frames, outputs.

Layout::

    JOB/job.json            the JobSpec (seed drawn once is recorded here) + tool versions
    JOB/source/00000.png    decoded source frames (lossless), written once
    JOB/source/index.json   each frame's time and duration; present = extraction finished
                        (img2vid from a prompt: the txt2img still is the one source frame)
    JOB/frames/00000.png    finished output frames, each written to a temp name then renamed
    JOB/fixbase/00000.png   a fixed-up frame as it was before its last fix-up (so the same fix-up again
                        starts from the same picture, and gives the same bytes)
    JOB/log.jsonl           one line per frame computed (a resumed run adds none for finished frames)
    JOB/lock                held while a run is in progress

A killed run leaves only complete files behind, so running again resumes.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.frames import Frame
from ..errors import JobError
from ..media.atomic import sweep_temps, write_bytes_atomic
from ..media.decode import iter_frames
from ..media.encode import png_bytes, save_png
from ..notices import notice
from .spec import JobSpec

TOOLS = ("rotoscope", "torch", "diffusers", "av")


@dataclass(frozen=True)
class Timing:
    time: float
    duration: float


def versions() -> dict[str, str]:
    found = {}
    for name in TOOLS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


class JobDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.source_dir = self.path / "source"
        self.frames_dir = self.path / "frames"
        self.spec_path = self.path / "job.json"
        self.log_path = self.path / "log.jsonl"

    # -- spec and record -----------------------------------------------------
    def exists(self) -> bool:
        return self.spec_path.exists()

    def read_record(self) -> dict:
        """The whole of job.json: the spec, versions, and what the job knows about its source
        (``source_id``), its outputs (``outputs``) and its redone frames (``redone``)."""
        if not self.spec_path.exists():
            return {}
        try:
            data = json.loads(self.spec_path.read_text())
            JobSpec.from_dict(data["spec"])
            return data
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise JobError(f"{self.spec_path} cannot be read ({exc}); remove the job dir or pass another --job.") from None

    def read_spec(self) -> JobSpec:
        return JobSpec.from_dict(self.read_record()["spec"]) if self.exists() else self._missing()

    def _missing(self) -> JobSpec:
        raise JobError(f"{self.path} is not a rotoscope job (no job.json); pass the folder of a job rotoscope made.")

    def write_spec(self, spec: JobSpec, **fields) -> None:
        """Record ``spec`` (and ``fields``: source_id, outputs, redone), keeping the other recorded fields."""
        self.update(spec=spec.to_dict(), versions=versions(), **fields)

    def update(self, **fields) -> None:
        """Change fields of job.json (atomically); a field set to None is removed."""
        self.path.mkdir(parents=True, exist_ok=True)
        record = self.read_record()
        for key, value in fields.items():
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        record["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        write_bytes_atomic(self.spec_path, json.dumps(record, indent=2, sort_keys=True).encode())

    def redone(self) -> dict[str, dict]:
        """Frames redone with other settings than the job's: {"3": {prompt, strength, seed, …}}."""
        return dict(self.read_record().get("redone") or {})

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One run per job dir at a time (a second one gets a clear error, not a corrupt job)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JobError(f"job {self.path} is being run by another rotoscope process; wait for it or use another --job.") from None
            sweep_temps(self.path, self.source_dir, self.frames_dir)  # what a killed run left
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- source frames ------------------------------------------------------
    def timeline(self) -> list[Timing] | None:
        index = self.source_dir / "index.json"
        try:
            frames = json.loads(index.read_text())["frames"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # not written yet (or cut short by a power cut): the source is decoded again
        return [Timing(t, d) for t, d in frames]

    def extract(self, spec: JobSpec, on_frame=None) -> list[Timing]:
        """Decode the source once into lossless PNGs (streaming); later runs reuse them."""
        found = self.timeline()
        if found is not None:
            return found
        self.source_dir.mkdir(parents=True, exist_ok=True)
        timings = []
        for frame in iter_frames(spec.source, spec.media):
            save_png(self.source_path(frame.index), frame.image)
            timings.append([frame.time, frame.duration])
            if on_frame:
                on_frame(frame.index)
        write_bytes_atomic(self.source_dir / "index.json", json.dumps({"frames": timings}).encode())
        return [Timing(t, d) for t, d in timings]

    def source_path(self, index: int) -> Path:
        return self.source_dir / f"{index:05d}.png"

    def source_image(self, index: int) -> np.ndarray:
        return _read_png(self.source_path(index))

    def source_frame(self, index: int, timing: Timing) -> Frame:
        return Frame(index, timing.time, timing.duration, self.source_image(index))

    def write_still(self, image: np.ndarray, duration: float) -> None:
        """Make ``image`` (a still made from the prompt) the job's one source frame, shown for ``duration``.
        The index is written last, so a run killed in between makes the still again."""
        self.source_dir.mkdir(parents=True, exist_ok=True)
        save_png(self.source_path(0), image)
        write_bytes_atomic(self.source_dir / "index.json", json.dumps({"frames": [[0.0, duration]]}).encode())

    # -- output frames ------------------------------------------------------
    def output_path(self, index: int) -> Path:
        return self.frames_dir / f"{index:05d}.png"

    def is_done(self, index: int) -> bool:
        return self.output_path(index).exists()

    def output_image(self, index: int) -> np.ndarray | None:
        path = self.output_path(index)
        return _read_png(path) if path.exists() else None

    def save_output(self, index: int, image: np.ndarray, infotext: str | None, seconds: float) -> None:
        self.save_output_png(index, png_bytes(image, infotext), seconds)

    def save_output_png(self, index: int, data: bytes, seconds: float) -> None:
        """A finished frame as its PNG file's bytes (written atomically), then its line in the log."""
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.output_path(index), data)
        line = json.dumps({"frame": index, "seconds": round(seconds, 4), "at": time.time()}).encode() + b"\n"
        with open(self.log_path, "ab+") as log:
            if log.seek(0, os.SEEK_END) and (log.seek(-1, os.SEEK_END), log.read(1))[1] != b"\n":
                line = b"\n" + line  # the last line was cut short (a full disk, a kill): start a new one
            log.write(line)

    def clear_outputs(self, indices: list[int] | None = None) -> None:
        """Forget finished frames (all, or ``indices``) so they are computed again (and what was kept for
        their fix-ups: a frame stylised again is the new base of its next fix-up)."""
        for folder in (self.frames_dir, self.fixbase_dir):
            if not folder.exists():
                continue
            paths = folder.glob("*.png") if indices is None else (folder / f"{i:05d}.png" for i in indices)
            for path in paths:
                path.unlink(missing_ok=True)
        if indices is None and self.exists():
            self.update(redone=None)

    @property
    def fixbase_dir(self) -> Path:
        return self.path / "fixbase"

    def fixbase_path(self, index: int) -> Path:
        return self.fixbase_dir / f"{index:05d}.png"

    def fixbase_image(self, index: int) -> np.ndarray:
        return _read_png(self.fixbase_path(index))

    def drop_unreadable(self) -> None:
        """Trust a frame file only when it is a whole PNG: a power cut can leave a renamed but empty (or
        zero-filled) file. Such an output frame is removed, so it is computed again; such a source frame
        makes the source frames be decoded again."""
        bad = [p for p in sorted(self.frames_dir.glob("*.png")) if not _whole_png(p)]
        for path in bad:
            path.unlink(missing_ok=True)
        if bad:
            names = ", ".join(str(int(p.stem)) for p in bad if p.stem.isdigit())
            notice(f"job {self.path}: frame(s) {names} were empty or unreadable (e.g. after a power cut); "
                   "they are computed again.")
        index = self.source_dir / "index.json"
        if index.exists() and not all(_whole_png(p) for p in self.source_dir.glob("*.png")):
            index.unlink()
            notice(f"job {self.path}: a source frame was empty or unreadable; the source is decoded again.")

    def output_frames(self, timeline: list[Timing]) -> Iterator[Frame]:
        for index, timing in enumerate(timeline):
            image = self.output_image(index)
            if image is None:
                raise JobError(f"frame {index} of job {self.path} is not finished; run the job again to finish it.")
            yield Frame(index, timing.time, timing.duration, image, png=self.output_path(index))

    def computed_count(self) -> int:
        if not self.log_path.exists():
            return 0
        # a line cut short by a full disk or a kill is not a frame computed
        return sum(1 for line in self.log_path.open() if line.startswith("{") and line.endswith("}\n"))


def _whole_png(path: Path) -> bool:
    """A non-empty file that PIL reads as a complete PNG (signature, chunks and their CRCs, end chunk)."""
    try:
        if path.stat().st_size == 0:
            return False
        with Image.open(path) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 -- any failure to read means "not a whole frame"
        return False


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB"))
