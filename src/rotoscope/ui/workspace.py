"""The web UI's folder of jobs: safe job names, kept uploads, past runs, models found on disk.

No gradio here: the page (app.py) and the HTTP API call these, and every path
they hand out stays inside the jobs folder.

Layout::

    JOBS/<name>/            one job dir each (job.json, source/, frames/, output.gif, …)
    JOBS/.uploads/<sha>/    uploaded sources, kept so a job resumes after a restart
    JOBS/.previews/<id>/    preview grids and converted-clip previews
    JOBS/.gradio/           gradio's upload and output cache, emptied when the page starts
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OptionError

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
UPLOADS = ".uploads"
PREVIEWS = ".previews"
TEMP = ".gradio"  # gradio's upload cache for the page (server.page_temp_dir)
# Files a local models folder may hold (a diffusers folder has model_index.json).
MODEL_SUFFIXES = (".safetensors", ".ckpt")


def check_job_name(name: str) -> str:
    """A job name is one folder inside the jobs folder: letters, digits, '.', '_', '-'; no '/' or '..'."""
    name = (name or "").strip()
    if not NAME_RE.fullmatch(name) or ".." in name:
        raise OptionError(
            f"job name {name!r} is not allowed: use 1–100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no '/', '\\' or '..'); every job stays inside the jobs folder."
        )
    return name


def looks_like_path(text: str) -> bool:
    """Does an option value name a place on the server outside the folder it was started in (absolute, ``~``, a
    drive, or ``..``)? Decided from the text alone, never from the disk; hub ids (org/name) and relative names
    are not."""
    text = text.strip()
    return (text.startswith(("/", "~", "\\")) or "\\" in text or ".." in text or text[1:3] in (":\\", ":/"))


def safe_filename(name: str, default: str = "upload") -> str:
    base = _SAFE_CHARS.sub("_", Path(str(name).replace("\\", "/")).name).lstrip("._")
    return base[:100] or default


@dataclass
class JobInfo:
    name: str
    source: str
    method: str
    prompt: str
    model: str
    seed: int
    frames_total: int | None
    frames_done: int
    status: str  # finished | stopped | running | new
    updated: str
    outputs: list[str] = field(default_factory=list)

    def row(self) -> list:
        total = "?" if self.frames_total is None else str(self.frames_total)
        return [self.name, self.status, f"{self.frames_done}/{total}", self.prompt, self.model, self.seed, self.updated]


JOB_COLUMNS = ["job", "status", "frames", "prompt", "model", "seed", "updated"]


class Workspace:
    def __init__(self, jobs_dir: str | Path, models_dir: str | Path | None = None) -> None:
        self.jobs_dir = Path(jobs_dir).resolve()
        self.models_dir = Path(models_dir).resolve() if models_dir else None
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.executor = None  # where the page's jobs run (api.executor); None = this process

    # -- names and paths ---------------------------------------------------------
    def job_dir(self, name: str) -> Path:
        path = (self.jobs_dir / check_job_name(name)).resolve()
        if path.parent != self.jobs_dir:  # a symlink pointing out of the folder
            raise OptionError(f"job {name!r} points outside the jobs folder {self.jobs_dir}; pick another name.")
        return path

    def existing_job(self, name: str) -> Path:
        path = self.job_dir(name)
        if not (path / "job.json").exists():
            raise OptionError(f"there is no job {name!r} in {self.jobs_dir}; pick one from the jobs list.")
        return path

    def inside(self, path: str | Path) -> Path:
        """``path`` resolved, refused unless it lies in the jobs folder."""
        resolved = Path(path).resolve()
        if resolved != self.jobs_dir and self.jobs_dir not in resolved.parents:
            raise OptionError(f"{path} is outside the jobs folder {self.jobs_dir}; only files there can be used.")
        return resolved

    def served_file(self, path: str, what: str) -> str:
        """A file an option names over the page or its API: only in the jobs folder or the models folder.

        The message is the same whether ``path`` exists or not, so the answer tells nothing about the server's disk.
        """
        resolved = Path(path).expanduser().resolve()
        roots = [self.jobs_dir] + ([self.models_dir] if self.models_dir else [])
        if not any(resolved == root or root in resolved.parents for root in roots):
            where = "the jobs folder or the models folder" if self.models_dir else "the jobs folder"
            raise OptionError(f"{what} {path!r} is not in {where}; over the page and its API only files there can be "
                              "used (upload it, or start the page with --models-dir).")
        return str(resolved)

    def relative(self, path: str | Path) -> str:
        """A path as the API shows it: relative to the jobs folder (never the server's absolute path)."""
        if not path:
            return ""
        resolved = Path(path).resolve()
        if resolved == self.jobs_dir or self.jobs_dir in resolved.parents:
            return resolved.relative_to(self.jobs_dir).as_posix()
        return Path(path).name

    def public(self, info: JobInfo) -> dict:
        """A past run as the HTTP API's /jobs returns it: file names relative to the jobs folder."""
        return info.__dict__ | {"source": self.relative(info.source), "outputs": [self.relative(p) for p in info.outputs]}

    def scratch(self, kind: str = PREVIEWS) -> Path:
        path = self.jobs_dir / kind / f"{time.strftime('%Y%m%d-%H%M%S')}-{hashlib.sha1(str(time.perf_counter_ns()).encode()).hexdigest()[:6]}"
        path.mkdir(parents=True)
        return path

    # -- uploads -----------------------------------------------------------------
    def keep_upload(self, files: list[str | Path]) -> str:
        """Copy uploaded file(s) into the jobs folder (content-addressed) and return the source to use.

        One file is a video, GIF or image; several files are an image sequence (a folder, in upload order).
        Kept copies make a job's source survive a server restart (gradio's upload cache does not).
        """
        files = [Path(f) for f in files if f]
        if not files:
            raise OptionError("no source: upload a video, a GIF, an image or several images (a sequence).")
        digest = hashlib.sha256()
        for f in files:
            digest.update(safe_filename(f.name).encode())
            with open(f, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        folder = self.jobs_dir / UPLOADS / digest.hexdigest()[:16]
        if len(files) == 1:
            target = folder / safe_filename(files[0].name)
            if not target.exists():
                _copy_atomic(files[0], target)
            return str(target)
        seq = folder / "frames"
        if not seq.exists():
            tmp = folder / "frames.part"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for i, f in enumerate(files):
                shutil.copyfile(f, tmp / f"{i:05d}{f.suffix.lower()}")
            tmp.rename(seq)
        return str(seq)

    def keep_bytes(self, data: bytes, name: str) -> str:
        """Store generated bytes (a painted mask PNG) content-addressed; return the path."""
        folder = self.jobs_dir / UPLOADS / hashlib.sha256(data).hexdigest()[:16]
        target = folder / safe_filename(name)
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            tmp.rename(target)
        return str(target)

    # -- jobs --------------------------------------------------------------------
    def jobs(self) -> list[JobInfo]:
        found = []
        for path in self.jobs_dir.iterdir():
            if path.is_dir() and NAME_RE.fullmatch(path.name) and (path / "job.json").exists():
                info = self.job_info(path)
                if info is not None:
                    found.append(info)
        return sorted(found, key=lambda j: j.updated, reverse=True)

    def job_info(self, path: Path) -> JobInfo | None:
        try:
            record = json.loads((path / "job.json").read_text())
            spec = record["spec"]
        except (OSError, ValueError, KeyError):
            return None
        index = path / "source" / "index.json"
        total = None
        if index.exists():
            try:
                total = len(json.loads(index.read_text())["frames"])
            except (OSError, ValueError, KeyError):
                total = None
        frames_dir = path / "frames"
        done = sum(1 for _ in frames_dir.glob("[0-9]*.png")) if frames_dir.exists() else 0
        outputs = [str(p) for p in sorted(path.glob("output.*")) if not p.name.endswith(".part")]
        if _locked(path / "lock"):
            status = "running"
        elif total is not None and done >= total and outputs:
            status = "finished"
        elif total is None and done == 0:
            status = "new"
        else:
            status = "stopped"
        mtime = max((p.stat().st_mtime for p in (path / "job.json", path / "log.jsonl") if p.exists()), default=0)
        return JobInfo(
            name=path.name, source=spec.get("source", ""), method=spec.get("method", ""),
            prompt=spec.get("style", {}).get("prompt", ""), model=spec.get("model", {}).get("model", ""),
            seed=int(spec.get("style", {}).get("seed", -1)), frames_total=total, frames_done=done, status=status,
            updated=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime)), outputs=outputs,
        )

    # -- models ------------------------------------------------------------------
    def models(self) -> list[str]:
        """The model picker's choices: the default model, tiny, classic styles, then what the models folder holds."""
        from .. import api

        choices = api.model_choices()
        if self.models_dir and self.models_dir.is_dir():  # A1111 / ComfyUI folders too (one scanner, api.model_files)
            for f in api.model_files(self.models_dir, follow_links=False, compute_hashes=False):
                path = Path(f.path)
                if f.kind == "checkpoint" and (path.is_dir() or path.suffix.lower() in MODEL_SUFFIXES):
                    choices.append(str(path))
        return choices


def _copy_atomic(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(src, tmp)
    tmp.rename(target)


def _locked(lock: Path) -> bool:
    """Is a run holding this job's lock right now (another process or thread)?"""
    if not lock.exists():
        return False
    try:
        with open(lock) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return False
    return False
