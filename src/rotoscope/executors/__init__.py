"""Where a job runs: here (the default, ``--executor local``) or on Ray actors (``--workers N`` /
``--ray ADDRESS``).

Only *where* changes: the frames are the same bytes either way (fixed per-frame seeds, the same
batches), and the job store is written by this process alone (the driver), by frame index, with
the store's own atomic write. Ray is imported only when a job asks for it.

    with open_executor(Where(workers=2)) as executor:   # None for a local run
        run_job(spec, executor=executor)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import RotoscopeError


class ExecutorError(RotoscopeError):
    """Ray is not installed or not reachable, a token is missing or refused, or the job cannot be split."""


@dataclass(frozen=True)
class Where:
    """The ``--executor/--workers/--ray/--ray-token`` options (declared in jobs/table.py's EXTRAS)."""

    executor: str = "local"
    workers: int = 0
    ray: str | None = None
    ray_token: str | None = None

    @property
    def on_ray(self) -> bool:
        return self.executor == "ray" or bool(self.workers) or bool(self.ray)

    def check(self, spec: Any) -> None:
        """Refuse (one line, naming what runs on Ray) a job the Ray executor cannot split yet."""
        if self.on_ray:
            from .ray_executor import ray_refusal

            reason = ray_refusal(spec)
            if reason:
                raise ExecutorError(reason)

    @classmethod
    def take(cls, options: dict[str, Any]) -> "Where":
        """Remove the where-options from ``options`` (keyword arguments of a job) and return them."""
        from ..jobs.table import WHERE, lookup

        given: Mapping[str, Any] = {k: options.pop(k) for k in WHERE if k in options}
        given = {k: lookup(k).read(v) if isinstance(v, str) and lookup(k).base_type is not str else v
                 for k, v in given.items()}  # text from the CLI or the page, read by the declaration
        for key, value in given.items():
            if value is not None:
                lookup(key).check(value)
        where = cls(**{k: v for k, v in given.items() if v is not None})
        if where.executor not in ("local", "ray"):
            raise ExecutorError(f"--executor {where.executor!r} is not known; use local or ray.")
        if where.executor == "local" and (where.workers or where.ray):
            if "executor" in given and given["executor"] is not None:
                raise ExecutorError("--executor local runs here; drop --workers/--ray, or pass --executor ray.")
        if int(where.workers) < 0:
            raise ExecutorError(f"--workers {where.workers} must be 0 or more.")
        return where


@contextmanager
def open_executor(where: Where, *, threads: int = 0) -> Iterator[Any]:
    """None for a local run; else a :class:`~.ray_executor.RayExecutor` on a cluster that is connected (or
    started, bound to 127.0.0.1) for the ``with`` block and left (or stopped) after it."""
    if not where.on_ray:
        yield None
        return
    from .cluster import connect
    from .ray_executor import RayExecutor

    with connect(where) as cluster:
        executor = RayExecutor(cluster, workers=where.workers, threads=threads)
        try:
            yield executor
        finally:
            executor.close()
