"""The ASGI app: the routes, the web UI's error shape, and the guard (auth, size cap) around all of it."""

from __future__ import annotations

from fastapi import FastAPI

from . import errors, sdapi, vjobs
from .config import ServeConfig
from .guard import Guard
from .server_state import Server


def create_app(config: ServeConfig, model: str = "tiny") -> Guard:
    config.validate()
    server = Server(config, model=model)
    server.refresh()
    app = FastAPI(title="rotoscope A1111-compatible API", docs_url=None, redoc_url=None, openapi_url=None)
    errors.install(app)
    app.include_router(sdapi.router(server))
    app.include_router(vjobs.router(server))  # /rotoscope/v1: video jobs
    return Guard(app, credentials=config.credentials, max_request=config.max_request)


def serve(config: ServeConfig, model: str = "tiny") -> None:
    import uvicorn

    app = create_app(config, model)
    print(f"rotoscope API on http://{config.bind}:{config.port}/sdapi/v1", flush=True)
    uvicorn.run(app, host=config.bind, port=config.port, log_level="warning", access_log=False)
