"""Video jobs over HTTP: a queue run one job at a time by a worker thread, on the model the A1111 routes use.

Each job has a folder ``JOBS_DIR/video/<id>/`` (``id`` = ``uuid4().hex``, made here):

    request.json   what the client asked for (options by option-model name, the source, the output names)
    state.json     written when the job ends: done / failed / cancelled (+ the error); absent = unfinished
    upload/clip.*  an uploaded clip
    out/<name>     the encoded outputs
    job/           the job store (job.json, source/, frames/, log.jsonl: every finished frame kept: resume),
                   beside the upload, since a job folder never holds its own source

On start the server queues again every job with a request and no end state, oldest first: the job store
resumes it from its finished frames, recomputing none. The worker holds ``Generation.lock`` (the web UI's
queue lock) for a whole job, so an img2img request and a video job never use the model at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import queue
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import api
from ..errors import RotoscopeError
from .checkpoints import find
from .errors import ApiError
from .server_state import Server
from .vjob_paths import (JOB_ID, SERVER_FILES, clip_suffix, job_id, output_name, relative_source, resolve_source,
                         scrub)

STATES = ("queued", "running", "done", "failed", "cancelled")
ENDED = ("done", "failed", "cancelled")
_DATA_URI_HEAD = "base64,"


def _write_json(path: Path, data: dict) -> None:
    """Complete or absent: a temp file renamed over the old one."""
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(json.dumps(data, indent=1, sort_keys=True))
    temp.replace(path)


@dataclass
class Tracker:
    """The runner's progress hooks: how long the frames of this run took, for the ETA."""

    stage: str = ""
    started: float = 0.0
    count: int = 0

    def start(self, stage: str, total: int | None) -> None:
        self.stage, self.started, self.count = stage, time.monotonic(), 0

    def advance(self, count: int = 1) -> None:
        self.count += count

    def finish(self) -> None:
        pass

    def seconds_per_frame(self) -> float | None:
        if self.stage != "stylize" or self.count == 0:
            return None
        return (time.monotonic() - self.started) / self.count


@dataclass
class Entry:
    id: str
    created: float
    state: str = "queued"
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    tracker: Tracker = field(default_factory=Tracker)


class VideoJobs:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.root = server.config.jobs_dir / "video"
        self.entries: dict[str, Entry] = {}
        self.todo: queue.Queue[str] = queue.Queue()
        self.guard = threading.Lock()

    # -- folders -----------------------------------------------------------
    def folder(self, id: str) -> Path:
        return self.root / job_id(id)

    def store(self, id: str) -> Path:
        """The job store's folder (``job.json``, ``frames/``…): beside, not around, the request and the upload,
        since a job folder never holds its own source."""
        return self.folder(id) / "job"

    def request(self, id: str) -> dict:
        return json.loads((self.folder(id) / "request.json").read_text())

    def entry(self, id: str) -> Entry:
        found = self.entries.get(job_id(id))
        if found is None:
            raise ApiError(404, "no such job; ids are the ones POST /rotoscope/v1/jobs answered", "NotFound")
        return found

    # -- start: resume what a stopped server left ---------------------------
    def start(self) -> None:
        """Load every job under the jobs folder; queue again those that had not ended; start the worker."""
        found = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if JOB_ID.fullmatch(folder.name) and (folder / "request.json").is_file():
                    try:
                        found.append((float(self.request(folder.name)["created"]), folder.name))
                    except (OSError, ValueError, KeyError, TypeError):  # not one of ours: left alone
                        continue
        for created, id in sorted(found):
            entry = Entry(id, created)
            state_file = self.root / id / "state.json"
            if state_file.is_file():
                ended = json.loads(state_file.read_text())
                entry.state, entry.error = ended["state"], ended.get("error")
            self.entries[id] = entry
            if entry.state not in ENDED:
                self.todo.put(id)
        threading.Thread(target=self._work, name="rotoscope-video-jobs", daemon=True).start()

    # -- submit --------------------------------------------------------------
    def submit(self, body: dict) -> str:
        """Check everything (source, options through the option model, caps) and queue the job; its id."""
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise ApiError(422, "options: an object of option names → values (GET /rotoscope/v1/schema)")
        if ("clip" in body) == ("source" in body):
            raise ApiError(422, "give either clip (the clip as base64) or source (a path in the server's media folder)")
        options, outputs = self._options(options)
        id = uuid.uuid4().hex
        folder = self.root / id
        folder.mkdir(parents=True)
        try:
            request = {"id": id, "created": time.time(), "options": options, "outputs": outputs}
            if "clip" in body:
                request["upload"] = self._save_clip(body.get("clip"), body.get("filename"), folder)
            else:
                path = resolve_source(self.server.config.sources, body.get("source"))
                request["source"] = relative_source(self.server.config.sources, path)
            spec = self._spec(id, request)  # the option model validates the whole job here (422 with its message)
            cap = self.server.config.max_frames
            if spec.media.max_frames > cap:
                raise ApiError(413, f"max_frames {spec.media.max_frames} is more than the server's cap of {cap} frames")
            self._check_pixels(spec)
            _write_json(folder / "request.json", request)
        except BaseException:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self.guard:
            self.entries[id] = Entry(id, request["created"])
        self.todo.put(id)
        return id

    def _options(self, given: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        options = dict(given)
        for name in options:
            api.option(name)  # unknown or renamed → 422 with the option's one-line message
            if name in SERVER_FILES and options[name] not in (None, [], ""):
                raise ApiError(422, f"{name}: names a file on the server, which is not taken over HTTP")
        outputs = options.pop("output", None) or ["output.gif"]
        if isinstance(outputs, str):
            outputs = [outputs]
        outputs = list(dict.fromkeys(output_name(n) for n in outputs))
        if "frames.zip" in outputs:
            raise ApiError(422, "frames.zip is the name of the frames' archive; name the output otherwise")
        options.pop("overwrite", None)
        if options.get("max_frames") is None:
            options["max_frames"] = self.server.config.max_frames  # longer clips are cut at the cap
        model = options.get("model")
        options["model"] = find(self.server.checkpoints, str(model)).title if model else self.server.current.title
        return options, outputs

    def _save_clip(self, text: object, name: object, folder: Path) -> str:
        if not isinstance(text, str) or not text:
            raise ApiError(422, "clip: the clip's bytes as base64")
        payload = text.split(_DATA_URI_HEAD, 1)[1] if text.startswith("data:") and _DATA_URI_HEAD in text else text
        if "://" in payload[:16]:
            raise ApiError(422, "clip: the clip's bytes as base64; URLs are not fetched")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "clip: not valid base64") from None
        upload = folder / "upload"
        upload.mkdir()
        target = upload / f"clip{clip_suffix(name)}"
        target.write_bytes(data)
        return target.name

    def _source(self, id: str, request: dict) -> Path:
        if "upload" in request:
            return self.root / id / "upload" / request["upload"]
        return resolve_source(self.server.config.sources, request["source"])  # checked again: the folder may change

    def _spec(self, id: str, request: dict):
        options = dict(request["options"])
        options["model"] = find(self.server.checkpoints, options["model"]).model
        out = self.root / id / "out"
        return api.build_spec(self._source(id, request), [str(out / n) for n in request["outputs"]], **options)

    def _check_pixels(self, spec) -> None:
        """The source's frames, the frames scaled to ``width`` / ``height`` and the model's working size each
        within ``--max-pixels`` (a small clip asked for at 8192 wide would decode to gigabytes)."""
        try:
            info = api.probe(spec.source)
        except RotoscopeError as exc:
            raise ApiError(422, f"source: {scrub(str(exc), self._folders())}") from None
        w, h = spec.media.width, spec.media.height
        if w and not h:
            h = max(1, round(info.height * w / info.width))
        elif h and not w:
            w = max(1, round(info.width * h / info.height))
        elif not w:
            w, h = info.width, info.height
        cap = self.server.config.max_pixels
        sizes = {"source": (info.width, info.height), "width × height": (w, h),
                 "process size": (spec.style.width or w, spec.style.height or h)}
        for what, (x, y) in sizes.items():
            if x * y > cap:
                raise ApiError(413, f"{what}: {x}x{y} frames are more than the server's cap of {cap} pixels")

    def _folders(self) -> list[Path]:
        return [self.server.config.jobs_dir, self.server.config.sources]

    # -- the worker ------------------------------------------------------------
    def _work(self) -> None:
        while True:
            id = self.todo.get()
            try:
                self._run(id)
            except Exception:  # never let one job stop the queue
                traceback.print_exc()

    def _run(self, id: str) -> None:
        entry = self.entries[id]
        # the model is the web UI routes' too: one user at a time; while a video job holds it, /sdapi/v1/progress
        # is busy (job_count 1), so a client's util_wait_for_ready waits for the job instead of returning early
        with self.server.generation.running(images=1, steps=0):
            if entry.cancel.is_set():
                self._end(entry, "cancelled", None)
                return
            entry.state = "running"
            try:
                request = self.request(id)
                (self.root / id / "out").mkdir(exist_ok=True)
                api.run_spec(self._spec(id, request), self.store(id), progress=entry.tracker, cancel=entry.cancel)
            except api.Cancelled:
                self._end(entry, "cancelled", None)
            except (RotoscopeError, ApiError) as exc:
                self._end(entry, "failed", scrub(str(exc), self._folders()))
            except Exception as exc:
                traceback.print_exc()
                self._end(entry, "failed", scrub(f"{type(exc).__name__}: {exc}", self._folders()))
            else:
                self._end(entry, "done", None)

    def _end(self, entry: Entry, state: str, error: str | None) -> None:
        _write_json(self.root / entry.id / "state.json", {"state": state, "error": error})
        entry.state, entry.error = state, error

    # -- what clients read --------------------------------------------------------
    def cancel(self, id: str) -> dict:
        entry = self.entry(id)
        if entry.state == "queued":
            entry.cancel.set()
            self._end(entry, "cancelled", None)  # the worker skips it when its turn comes
        elif entry.state == "running":
            entry.cancel.set()  # the runner stops within one denoising step
        return self.status(id)

    def status(self, id: str) -> dict:
        entry = self.entry(id)
        folder = self.folder(id)
        done, total, _ = api.job_frames(self.store(id)) if (self.store(id) / "job.json").is_file() else (0, None, None)
        per_frame = entry.tracker.seconds_per_frame() if entry.state == "running" else None
        eta = round(per_frame * (total - done), 2) if per_frame is not None and total is not None else None
        outputs = self.request(id)["outputs"]
        return {"id": id, "state": entry.state, "frames_done": done, "frames_total": total, "eta_seconds": eta,
                "error": entry.error, "created": entry.created, "outputs": outputs,
                "outputs_ready": [n for n in outputs if (folder / "out" / n).is_file()] if entry.state == "done" else []}

    def listing(self) -> list[dict]:
        with self.guard:
            entries = sorted(self.entries.values(), key=lambda e: e.created)
        return [{"id": e.id, "state": e.state} for e in entries]

    def preview(self, id: str) -> Path:
        self.entry(id)
        latest = api.job_frames(self.store(id))[2] if (self.store(id) / "job.json").is_file() else None
        if latest is None:
            raise ApiError(404, "no frame is finished yet", "NotFound")
        return latest

    def output(self, id: str, name: str) -> Path:
        entry = self.entry(id)
        name = output_name(name, [*self.request(id)["outputs"], "frames.zip"])
        if entry.state != "done":
            raise ApiError(409, f"the job is {entry.state}; outputs are there once it is done", "Conflict")
        if name == "frames.zip":
            return self._zip(id)
        return self.folder(id) / "out" / name

    def frame(self, id: str, index: int) -> Path:
        self.entry(id)
        frames, _ = api.job_frame_paths(self.store(id))
        names = {p.name: p for p in frames}
        found = names.get(f"{index:05d}.png") if 0 <= index < 100000 else None
        if found is None:
            raise ApiError(404, f"frame {index} is not finished", "NotFound")
        return found

    def _zip(self, id: str) -> Path:
        import zipfile

        target = self.folder(id) / "out" / "frames.zip"
        if not target.is_file():
            frames, _ = api.job_frame_paths(self.store(id))
            temp = target.with_name(".frames.zip.part")
            with zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as z:
                for path in frames:
                    z.write(path, path.name)
            temp.replace(target)
        return target

    def score(self, id: str) -> dict:
        entry = self.entry(id)
        if entry.state != "done":
            raise ApiError(409, f"the job is {entry.state}; it is scored once it is done", "Conflict")
        frames, source = api.job_frame_paths(self.store(id))
        return api.score(frames[0].parent, source, clip=False).to_dict()
