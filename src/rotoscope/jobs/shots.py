"""A job's shots: where its source frames' hard cuts are (``--shots``), found once per run and process.

Choosing is computation (media/shots.py); reading the job's source frames happens here. A method
that makes its own timeline from a still (img2vid) has one shot.
"""

from __future__ import annotations

from ..media.shots import Shots, find_shots
from ..methods.catalog import Timeline, capabilities
from .store import JobDir

_FOUND: dict[tuple, Shots] = {}


def job_shots(job: JobDir, spec, count: int) -> Shots:
    """The shots of a job's ``count`` frames by ``spec.media.shots`` (auto reads the source frames once)."""
    if capabilities(spec.method).timeline is Timeline.OWN or count < 2:
        return Shots(count)
    text = spec.media.shots
    stamps = tuple(job.source_path(i).stat().st_mtime_ns for i in (0, count - 1))  # frames extracted again: found again
    key = (str(job.path.resolve()), spec.frames_key(), count, text, stamps)
    if key not in _FOUND:
        if len(_FOUND) > 8:
            _FOUND.clear()
        _FOUND[key] = find_shots((job.source_image(i) for i in range(count)), count, text)
    return _FOUND[key]
