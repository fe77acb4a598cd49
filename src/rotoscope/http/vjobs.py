"""rotoscope's own video-job API, ``/rotoscope/v1``: what none of the A1111 servers has.

    POST /rotoscope/v1/jobs                      {clip: base64, filename} or {source: path}, + options → {id}
    GET  /rotoscope/v1/schema                    the JSON Schema of ``options`` (from the option model)
    GET  /rotoscope/v1/jobs                      [{id, state}]
    GET  /rotoscope/v1/jobs/{id}                 state, frames done / total, ETA, error, outputs
    GET  /rotoscope/v1/jobs/{id}/preview         the latest finished frame (PNG)
    POST /rotoscope/v1/jobs/{id}/cancel          stops within one denoising step; finished frames are kept
    GET  /rotoscope/v1/jobs/{id}/outputs/{name}  an output (GIF/MP4/WebP/…) or frames.zip
    GET  /rotoscope/v1/jobs/{id}/frames/{index}  one finished frame (PNG)
    GET  /rotoscope/v1/jobs/{id}/score           flicker and fidelity of the finished job (``rotoscope score``)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse

from .server_state import Server
from .vjob_queue import VideoJobs
from .vjob_schema import job_schema

_MEDIA = {".gif": "image/gif", ".mp4": "video/mp4", ".webp": "image/webp", ".png": "image/png",
          ".apng": "image/apng", ".zip": "application/zip"}


def _file(path) -> FileResponse:
    return FileResponse(path, media_type=_MEDIA.get(path.suffix.lower(), "application/octet-stream"),
                        filename=path.name)


def router(server: Server) -> APIRouter:
    jobs = VideoJobs(server)
    jobs.start()  # jobs a stopped server left unfinished are queued again
    r = APIRouter(prefix="/rotoscope/v1")

    @r.post("/jobs")
    def submit(body: dict[str, Any] = Body(...)) -> dict:
        return {"id": jobs.submit(body)}

    @r.get("/schema")
    def schema() -> dict:
        return job_schema([c.title for c in server.checkpoints])

    @r.get("/jobs")
    def listing() -> dict:
        return {"jobs": jobs.listing()}

    @r.get("/jobs/{id}")
    def status(id: str) -> dict:
        return jobs.status(id)

    @r.get("/jobs/{id}/preview")
    def preview(id: str) -> FileResponse:
        return _file(jobs.preview(id))

    @r.post("/jobs/{id}/cancel")
    def cancel(id: str) -> dict:
        return jobs.cancel(id)

    @r.get("/jobs/{id}/outputs/{name}")
    def output(id: str, name: str) -> FileResponse:
        return _file(jobs.output(id, name))

    @r.get("/jobs/{id}/frames/{index}")
    def frame(id: str, index: int) -> FileResponse:
        return _file(jobs.frame(id, index))

    @r.get("/jobs/{id}/score")
    def score(id: str) -> dict:
        return jobs.score(id)

    return r
