"""The ASGI app: the routes, the web UI's error shape, and the guard (auth, size cap) around all of it."""

from __future__ import annotations

from fastapi import FastAPI

from . import controlnet, errors, sdapi, vjobs
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
    app.include_router(controlnet.router(config.max_pixels))
    app.include_router(vjobs.router(server))  # /rotoscope/v1: video jobs
    return Guard(app, credentials=config.credentials, max_request=config.max_request)


def serve(config: ServeConfig, model: str = "tiny") -> None:
    import uvicorn

    app = create_app(config, model)
    print(f"rotoscope API on http://{config.bind}:{config.port}/sdapi/v1", flush=True)
    uvicorn.run(app, host=config.bind, port=config.port, log_level="warning", access_log=False)


def serve_in_thread(config: ServeConfig, model: str = "tiny"):
    """The server in a thread of this process (the bench, and tests that read this process's pipeline counters);
    returns the uvicorn server once it answers: ``server.should_exit = True`` stops it."""
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(config, model), host=config.bind, port=config.port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # until it listens (or its thread died)
        if not thread.is_alive():
            raise RuntimeError(f"the API server on port {config.port} did not start")
        time.sleep(0.05)
    return server
