"""The web UI's ``/sdapi/v1`` routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from .. import api
from .checkpoints import find
from .generate import generate
from .server_state import Server

SCHEDULERS = [
    {"name": "automatic", "label": "Automatic", "aliases": None, "default_rho": -1, "need_inner_model": False},
    {"name": "karras", "label": "Karras", "aliases": None, "default_rho": 7.0, "need_inner_model": False},
]


def router(server: Server) -> APIRouter:
    r = APIRouter(prefix="/sdapi/v1")

    # generation routes are plain functions: FastAPI runs them in its thread pool, so /progress and
    # /interrupt (async, on the event loop) answer while one runs
    @r.post("/txt2img")
    def txt2img(body: dict[str, Any] = Body(...)) -> dict:
        return generate(server, body, txt2img=True)

    @r.post("/img2img")
    def img2img(body: dict[str, Any] = Body(...)) -> dict:
        return generate(server, body, txt2img=False)

    @r.get("/progress")
    async def progress() -> dict:
        return server.generation.progress()

    @r.post("/interrupt")
    async def interrupt() -> dict:
        server.generation.interrupt()  # the request stops within one denoising step
        return {}

    @r.post("/skip")
    async def skip() -> dict:
        server.generation.skip()  # the image being made stops; the request goes on with the next
        return {}

    @r.get("/options")
    async def get_options() -> dict:
        return {"sd_model_checkpoint": server.current.title, "samples_format": "png", "CLIP_stop_at_last_layers": 1}

    @r.post("/options")
    def set_options(body: dict[str, Any] = Body(...)) -> None:
        name = body.get("sd_model_checkpoint")
        if name:
            chosen = find(server.checkpoints, str(name))
            with server.generation.lock:  # not while a generation uses the model
                server.current = chosen
        return None

    @r.get("/sd-models")
    async def sd_models() -> list[dict]:
        return [c.as_json() for c in server.checkpoints]

    @r.post("/refresh-checkpoints")
    async def refresh() -> None:
        server.refresh()
        return None

    @r.get("/samplers")
    async def samplers() -> list[dict]:
        return [{"name": n, "aliases": [], "options": {}} for n in api.sampler_names()]

    @r.get("/schedulers")
    async def schedulers() -> list[dict]:
        return SCHEDULERS

    @r.get("/scripts")
    async def scripts() -> dict:
        # "controlnet m2m" is what webuiapi looks for before it sends ControlNet units (and resets stale ones)
        served = ["controlnet", "controlnet m2m", "animatediff"]
        return {"txt2img": list(served), "img2img": list(served)}

    return r
