"""The Ray executor: actors that hold a model stylise units of frames; the driver writes them.

A *unit* is the frames of one batch (``--batch-size`` consecutive frames still to do, as the local run
batches them), so every frame gets the same bytes as a local run. The driver keeps at most
``IN_FLIGHT`` units per actor (``ray.wait``), writes each result with the job store's atomic write
keyed by frame index, in whatever order results come, and writes an index at most once per run. An
actor that dies takes only its in-flight units with it: those are queued again, for a new actor
started in its place; finished frames are never touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..notices import notice
from ..progress import Progress, check_cancel
from . import ExecutorError
from .cluster import Cluster

#: units queued on one actor at a time: one running, one waiting (its frames already shipped)
IN_FLIGHT = 2
#: actors that may die (and be replaced) in one job per worker before the job gives up
REPLACEMENTS_PER_WORKER = 3
#: seconds to wait for free CPUs/GPUs (a killed driver's actors are freed within a few) before refusing
ROOM_TIMEOUT = 60.0


def ray_refusal(spec) -> str | None:
    """Why ``spec`` cannot run on Ray yet (one line naming what does), or None."""
    from ..consistency import TECHNIQUES
    from ..methods.catalog import Sources, capabilities

    caps = capabilities(spec.method)
    what = ("--workers/--ray run gif2gif (any noise mode, masks, ControlNet, deflicker); ")
    if not caps.per_frame or caps.sources is not Sources.TODO:
        return what + f"--method {spec.method} runs locally for now: drop --workers/--ray."
    model_side = [n for n in spec.consistency.techniques if TECHNIQUES[n].stage == "stylize"]
    if model_side:
        return what + f"--consistency {','.join(model_side)} runs locally for now: drop --workers/--ray."
    return None


def model_key(spec) -> str:
    """Jobs with the same key can share actors: the same Stylizer is built for them."""
    data = spec.to_dict()
    parts = {k: data[k] for k in ("model", "style", "mask", "method", "video", "control")}
    for k in ("prompt", "negative_prompt", "seed"):  # passed with every unit, not built into the model
        parts["style"].pop(k, None)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class _Slot:
    """One worker place: its current actor (replaced when it dies) and that actor's units in flight."""

    name: str
    actor: Any
    flight: set = field(default_factory=set)
    starting: Any = None  # a new actor's first call while its model loads: no units queue behind it meanwhile


@dataclass
class _Pool:
    key: str
    spec_json: str
    slots: list[_Slot]


class RayExecutor:
    def __init__(self, cluster: Cluster, *, workers: int = 0, threads: int = 0) -> None:
        import ray

        self.ray = ray
        self.cluster = cluster
        self.workers = workers or cluster.gpus or max(1, cluster.cpus)
        if cluster.gpus and self.workers > cluster.gpus:
            raise ExecutorError(f"--workers {self.workers} needs {self.workers} GPUs; the cluster has {cluster.gpus}.")
        self.threads = threads
        self.pools: dict[str, _Pool] = {}
        self.stats = {"units": 0, "requeued": 0, "replaced": 0, "duplicates": 0, "written": 0, "models_built": 0}
        self.lock = threading.Lock()
        self.last_run: dict[str, int] = {}  # frames each worker wrote in the last job

    # -- actors ------------------------------------------------------------------------------------
    def check(self, spec) -> None:
        reason = ray_refusal(spec)
        if reason:
            raise ExecutorError(reason)

    def _new_actor(self, pool: _Pool, spec) -> Any:
        from .worker import FrameWorker

        threads = self.threads or (1 if not self.cluster.gpus else 0)
        options = {"num_cpus": 1, "num_gpus": 1 if self.cluster.gpus else 0, "max_restarts": 0, "max_task_retries": 0}
        actor = self.ray.remote(**options)(FrameWorker).remote(pool.spec_json, spec.model.threads or threads)
        self.stats["models_built"] += 1
        return actor

    def pool(self, spec) -> _Pool:
        """The actors for ``spec``'s model settings (started once; a batch's jobs with the same settings share them)."""
        key = model_key(spec)
        if key not in self.pools:
            for other in list(self.pools):  # one model per worker at a time: other models' actors go
                self._drop(self.pools.pop(other))
            self._wait_for_room()
            pool = _Pool(key, spec.to_json(), [])
            pool.slots = [_Slot(f"w{i}", self._new_actor(pool, spec)) for i in range(self.workers)]
            self._ready(pool)
            self.pools[key] = pool
        return self.pools[key]

    def _wait_for_room(self, timeout: float = ROOM_TIMEOUT) -> None:
        """Fail in one line, not hang, when the cluster has no room for the actors (each takes a CPU, or a GPU)."""
        kind = "GPU" if self.cluster.gpus else "CPU"
        deadline = time.monotonic() + timeout
        while (free := int(self.ray.available_resources().get(kind, 0))) < self.workers:
            if time.monotonic() > deadline:
                raise ExecutorError(f"the Ray cluster has {free} free {kind}s for --workers {self.workers} (other jobs "
                                    "hold the rest); pass fewer --workers or wait for them.")
            time.sleep(0.5)

    def _ready(self, pool: _Pool) -> None:
        """Wait for every actor's model (a model that cannot be built fails here, with its own message)."""
        from ray.exceptions import RayActorError, RayTaskError

        try:
            self.ray.get([slot.actor.pid.remote() for slot in pool.slots])
        except (RayActorError, RayTaskError) as exc:
            raise ExecutorError(f"a Ray worker could not build the model: {_first_line(exc)}") from None

    def worker_pids(self) -> dict[str, int]:
        """{worker name: pid} of the current actors (for progress and for tests that kill one)."""
        with self.lock:
            slots = [s for p in self.pools.values() for s in p.slots]
        return dict(zip([s.name for s in slots], self.ray.get([s.actor.pid.remote() for s in slots])))

    def _drop(self, pool: _Pool) -> None:
        for slot in pool.slots:
            self.ray.kill(slot.actor)

    def close(self) -> None:
        for pool in self.pools.values():
            self._drop(pool)
        self.pools.clear()

    # -- a job's frames ----------------------------------------------------------------------------
    def stylize(self, job, spec, todo: list[int], timeline, *, infotext: str, progress: Progress,
                cancel: threading.Event | None = None) -> None:
        """Stylise ``todo`` on the actors; this process writes each result into ``job`` (JobDir)."""
        self.check(spec)
        with self.lock:
            pool = self.pool(spec)
        size = max(1, spec.style.batch_size)
        queue = deque(todo[i:i + size] for i in range(0, len(todo), size))
        run = _Run(self, job, pool, spec.to_json(), len(timeline), timeline, infotext)
        progress.start("stylize", len(todo))
        run.loop(queue, progress, cancel)
        progress.finish()
        self.last_run = dict(run.per_worker)
        done = ", ".join(f"{name} {count}" for name, count in run.per_worker.items())
        notice(f"ray: {run.written} frames on {len(pool.slots)} workers ({done}); "
               f"{self.stats['replaced']} workers replaced, {self.stats['requeued']} units queued again.")


class _Run:
    """One job's units over a pool: hand out, collect, write, re-queue what a dead actor held."""

    def __init__(self, executor: RayExecutor, job, pool: _Pool, spec_json: str, count: int, timeline,
                 infotext: str) -> None:
        self.executor, self.job, self.pool, self.spec_json = executor, job, pool, spec_json
        self.count, self.timeline, self.infotext = count, timeline, infotext
        self.pending: dict[Any, tuple[_Slot, Any, list[int]]] = {}
        self.written: int = 0
        self.seen: set[int] = set()
        self.per_worker: dict[str, int] = {slot.name: 0 for slot in pool.slots}
        self.started = time.perf_counter()

    def _items(self, unit: list[int]) -> list[tuple[int, float, float, bytes]]:
        return [(i, self.timeline[i].time, self.timeline[i].duration, self.job.source_path(i).read_bytes()) for i in unit]

    def _fill(self, queue: deque) -> None:
        ray = self.executor.ray
        for slot in self.pool.slots:
            if slot.starting is not None and ray.wait([slot.starting], timeout=0)[0]:
                slot.starting = None
        usable = [s for s in self.pool.slots if s.starting is None]
        if not usable and not self.pending:  # every actor is loading: queue behind them
            usable = self.pool.slots
        for slot in usable:
            while queue and len(slot.flight) < IN_FLIGHT:
                unit = queue.popleft()
                ref = slot.actor.run.remote(self.spec_json, self.count, self._items(unit))
                slot.flight.add(ref)
                self.pending[ref] = (slot, slot.actor, unit)
                self.executor.stats["units"] += 1

    def loop(self, queue: deque, progress: Progress, cancel: threading.Event | None) -> None:
        ray = self.executor.ray
        limit = REPLACEMENTS_PER_WORKER * len(self.pool.slots)
        while queue or self.pending:
            check_cancel(cancel)
            self._fill(queue)
            ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=0.5)
            for ref in ready:
                slot, actor, unit = self.pending.pop(ref)
                slot.flight.discard(ref)
                try:
                    results = ray.get(ref)
                except ray.exceptions.RayActorError:
                    queue.appendleft(unit)  # only this actor's units come back; nothing written is redone
                    self.executor.stats["requeued"] += 1
                    if slot.actor is actor:  # the first of its lost units: a new actor takes its place
                        if self.executor.stats["replaced"] >= limit:
                            raise ExecutorError(f"Ray workers died {limit} times in this job; see the Ray logs "
                                                "(out of memory?). Finished frames are kept: run again to resume.") from None
                        slot.actor = self.executor._new_actor(self.pool, _spec(self.spec_json))
                        slot.flight = set()  # the dead actor's other units fail too, and come back the same way
                        slot.starting = slot.actor.pid.remote()
                        self.executor.stats["replaced"] += 1
                    continue
                except ray.exceptions.RayTaskError as exc:
                    raise ExecutorError(f"a Ray worker failed on frames {unit[0]}-{unit[-1]}: {_first_line(exc)}") from None
                self._write(slot, results, progress)

    def _write(self, slot: _Slot, results: list[tuple[int, bytes, float]], progress: Progress) -> None:
        for index, data, seconds in results:
            if index in self.seen:  # a unit done twice (at-least-once): the first result stays, byte-identical
                self.executor.stats["duplicates"] += 1
                continue
            self.job.save_output(index, _decode(data), self.infotext, seconds)
            self.seen.add(index)
            self.written += 1
            self.per_worker[slot.name] += 1
            self.executor.stats["written"] += 1
            progress.advance()
        workers = getattr(progress, "workers", None)  # a progress that shows per-worker counts
        if workers is not None:
            workers(dict(self.per_worker))


def _spec(spec_json: str):
    from ..jobs.spec import JobSpec

    return JobSpec.from_json(spec_json)


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB"))


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    text = str(cause if cause is not None else exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__
