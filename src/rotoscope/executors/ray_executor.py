"""The Ray executor: actors that hold a model make units of frames; the driver writes them.

A *unit* (executors/plan.py) is what one actor call makes — a batch, a piece of a sequential segment, a
plate of keys, a propagation span, an AnimateDiff window — with the finished frames it reads shipped
along, so every frame gets the same bytes as a local run. A unit is handed out once the frames it reads
are written (a segment's next piece after its last, a span after its keys). The driver keeps at most
``IN_FLIGHT`` units per actor (``ray.wait``), writes each result with the job store's atomic write
keyed by frame index, in whatever order results come, and writes an index at most once per run. An
actor that dies takes only its in-flight units with it: those are queued again, for a new actor
started in its place; finished frames are never touched.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..notices import notice
from ..progress import Progress, WorkerProgress, check_cancel
from . import ExecutorError
from .cluster import Cluster

#: units queued on one actor at a time: one running, one waiting (its frames already shipped)
IN_FLIGHT = 2
#: actors that may die (and be replaced) in one job per worker before the job gives up
REPLACEMENTS_PER_WORKER = 3
#: seconds to wait for free CPUs/GPUs (a killed driver's actors are freed within a few) before refusing
ROOM_TIMEOUT = 60.0


def ray_refusal(spec) -> str | None:
    """Why ``spec`` cannot run on Ray (one line naming what does), or None."""
    from ..methods.catalog import Redo, capabilities

    what = "--workers/--ray run gif2gif, keyframes, ebsynth and animatediff; "
    if capabilities(spec.method).redo is Redo.CLIP:  # one generation makes every frame: nothing to split
        return what + f"--method {spec.method} makes the whole clip in one call and runs locally: drop --workers/--ray."
    if spec.consistency.uses("cross-frame-attention"):  # its recordings live inside one model, frame after frame
        return what + "--consistency cross-frame-attention keeps state inside one model and runs locally: drop --workers/--ray."
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
        self.running = threading.Lock()
        self.last_units = 0
        self.last_run: dict[str, int] = {}  # frames each worker wrote in the last job

    # -- actors ------------------------------------------------------------------------------------
    def check(self, spec) -> None:
        reason = ray_refusal(spec)
        if reason:
            raise ExecutorError(reason)

    def refusal(self, spec) -> str | None:
        """Why ``spec`` cannot run on these actors (a face then runs it locally), or None."""
        return ray_refusal(spec)

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
            if self.pools:  # one model per worker at a time: the actors (their processes, torch imported) stay
                pool = self.pools.pop(next(iter(self.pools)))  # and build the new model in place of the old
                pool.key, pool.spec_json = key, spec.to_json()
                self._ready(pool, [slot.actor.load.remote(pool.spec_json) for slot in pool.slots])
                self.stats["models_built"] += len(pool.slots)
            else:
                self._wait_for_room()
                pool = _Pool(key, spec.to_json(), [])
                pool.slots = [_Slot(f"w{i}", self._new_actor(pool, spec)) for i in range(self.workers)]
                self._ready(pool, [slot.actor.pid.remote() for slot in pool.slots])
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

    def _ready(self, pool: _Pool, calls: list) -> None:
        """Wait for every actor's model (a model that cannot be built fails here, with its own message)."""
        from ray.exceptions import RayActorError, RayTaskError

        try:
            self.ray.get(calls)
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
                cancel: threading.Event | None = None, shots=None, selection=None) -> None:
        """Make ``todo`` on the actors, unit by unit (executors/plan.py); this process writes each result into
        ``job`` (JobDir). ``shots`` (media/shots.Shots) and ``selection`` (keyframe methods' keys): the job's."""
        from ..media.shots import Shots

        self.check(spec)
        with self.running:  # a face's jobs (page, HTTP queue) take the actors one after another
            self._stylize(job, spec, todo, timeline, infotext, progress, cancel, shots or Shots(len(timeline)), selection)

    def _stylize(self, job, spec, todo, timeline, infotext, progress, cancel, shots, selection) -> None:
        from .plan import plan

        with self.lock:
            pool = self.pool(spec)
        todo_set = set(todo)
        done = {i for i in range(len(timeline)) if i not in todo_set}
        units = plan(spec, todo, done, shots, selection)
        run = _Run(self, job, pool, spec.to_json(), timeline, infotext, shots, selection)
        progress.start("stylize", len(todo))
        run.loop(units, progress, cancel)
        progress.finish()
        self.last_run = dict(run.per_worker)
        self.last_units = len(units)
        lines = ", ".join(f"{name} {count}" for name, count in run.per_worker.items())
        notice(f"ray: {run.written} frames in {len(units)} units on {len(pool.slots)} workers ({lines}); "
               f"{self.stats['replaced']} workers replaced, {self.stats['requeued']} units queued again.")


class _Run:
    """One job's units over a pool: hand out those whose inputs are written, collect, write, re-queue what a
    dead actor held."""

    def __init__(self, executor: RayExecutor, job, pool: _Pool, spec_json: str, timeline, infotext: str,
                 shots, selection) -> None:
        self.executor, self.job, self.pool, self.spec_json = executor, job, pool, spec_json
        self.count, self.timeline, self.infotext = len(timeline), timeline, infotext
        self.cuts = tuple(shots.cuts)
        self.keys = (list(selection.keys), list(selection.cuts)) if selection is not None else None
        self.pending: dict[Any, tuple[_Slot, Any, Any]] = {}
        self.written: int = 0
        self.total = 0
        self.seen: set[int] = set()
        self.per_worker: dict[str, int] = {slot.name: 0 for slot in pool.slots}
        self.chain_slot: dict[int, _Slot] = {}  # a segment's units stay on one actor while it lives
        self.started = time.perf_counter()

    def _payload(self, unit) -> dict:
        job = self.job
        return {"todo": [(i, self.timeline[i].time, self.timeline[i].duration) for i in unit.todo],
                "sources": {i: job.source_path(i).read_bytes() for i in sorted(set(unit.todo) | set(unit.sources))},
                "outputs": {i: job.output_path(i).read_bytes() for i in sorted(unit.reads)},
                "cuts": self.cuts, "keys": self.keys, "kind": unit.kind, "infotext": self.infotext}

    def _slot_for(self, unit, usable: list[_Slot]) -> _Slot | None:
        preferred = self.chain_slot.get(unit.chain) if unit.chain is not None else None
        if preferred in usable and len(preferred.flight) < IN_FLIGHT:
            return preferred
        free = [s for s in usable if len(s.flight) < IN_FLIGHT]
        return min(free, key=lambda s: len(s.flight)) if free else None

    def _fill(self, queue: list) -> None:
        ray = self.executor.ray
        for slot in self.pool.slots:
            if slot.starting is not None and ray.wait([slot.starting], timeout=0)[0]:
                slot.starting = None
        usable = [s for s in self.pool.slots if s.starting is None]
        if not usable and not self.pending:  # every actor is loading: queue behind them
            usable = self.pool.slots
        for unit in list(queue):
            if not unit.needs <= self.seen:  # its inputs are not written yet
                continue
            slot = self._slot_for(unit, usable)
            if slot is None:
                break
            queue.remove(unit)
            ref = slot.actor.run.remote(self.spec_json, self.count, self._payload(unit))
            slot.flight.add(ref)
            self.pending[ref] = (slot, slot.actor, unit)
            if unit.chain is not None:
                self.chain_slot[unit.chain] = slot
            self.executor.stats["units"] += 1
        if queue and not self.pending:
            raise ExecutorError(f"units {queue[0].label} wait for frames no unit makes; run the job locally "
                                "(drop --workers/--ray) and report this.")

    def loop(self, queue: list, progress: Progress, cancel: threading.Event | None) -> None:
        ray = self.executor.ray
        limit = REPLACEMENTS_PER_WORKER * len(self.pool.slots)
        self.total = sum(len(u.todo) for u in queue)
        queue = list(queue)
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
                    queue.insert(0, unit)  # only this actor's units come back; nothing written is redone
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
                    raise ExecutorError(f"a Ray worker failed on frames {unit.label}: {_first_line(exc)}") from None
                self._write(slot, results, progress)

    def _write(self, slot: _Slot, results: list[tuple[int, bytes, float]], progress: Progress) -> None:
        for index, data, seconds in results:
            if index in self.seen:  # a unit done twice (at-least-once): the first result stays, byte-identical
                self.executor.stats["duplicates"] += 1
                continue
            # the actor encoded the frame's final PNG (infotext included, the bytes a local run saves), so
            # the driver only writes it: decoding and encoding again here capped a driver at ~26 frames/s
            # at 512x512 (bench/scale.py --driver)
            self.job.save_output_png(index, data, seconds)
            self.seen.add(index)
            self.written += 1
            self.per_worker[slot.name] += 1
            self.executor.stats["written"] += 1
            progress.advance()
        workers = getattr(progress, "workers", None)  # a progress that shows each worker (CLI bar, page)
        if workers is not None:
            workers(self.worker_progress())

    def worker_progress(self) -> dict[str, WorkerProgress]:
        """Per worker: frames written, frames/s since the job started, and the seconds until its units in flight
        and its share of the queued frames (in proportion to its rate) are made."""
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        rates = {name: count / elapsed for name, count in self.per_worker.items()}
        held = {slot.name: 0 for slot in self.pool.slots}
        for slot, _, unit in self.pending.values():
            held[slot.name] += len(unit.todo)
        queued = max(0, self.total - self.written - sum(held.values()))
        total_rate = sum(rates.values())
        found = {}
        for name, count in self.per_worker.items():
            rate = rates[name]
            eta = (held.get(name, 0) + queued * rate / total_rate) / rate if rate > 0 else None
            found[name] = WorkerProgress(count, round(rate, 3), eta)
        return found


def _spec(spec_json: str):
    from ..jobs.spec import JobSpec

    return JobSpec.from_json(spec_json)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    text = str(cause if cause is not None else exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__
