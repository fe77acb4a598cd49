"""Starting the page safely: loopback by default, auth required to listen, upload limits, files only from the jobs folder,
requests only from the page itself (Host and Origin checked), nothing fetched from other hosts, logins rate-limited.

    from rotoscope.ui.server import UIConfig, start
    demo, url = start(UIConfig(port=7860, jobs_dir="jobs"))   # returns once it serves; demo.close() stops it
"""

from __future__ import annotations

import ipaddress
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OptionError
from ..api import jobs_root, parse_size
from .workspace import PREVIEWS, TEMP, Workspace

DEFAULT_PORT = 7860
DEFAULT_MAX_UPLOAD = "500MB"
PREVIEW_KEEP_S = 24 * 3600


@dataclass
class UIConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    listen: bool = False  # bind 0.0.0.0 (every interface): needs auth
    auth: str | None = None  # "user:pass"
    max_upload: int = field(default_factory=lambda: parse_size(DEFAULT_MAX_UPLOAD))  # bytes
    jobs_dir: Path = field(default_factory=jobs_root)
    models_dir: Path | None = None
    allow_hosts: list[str] = field(default_factory=list)  # more Host names accepted ("*": any)
    allow_origins: list[str] = field(default_factory=list)  # more page origins accepted, e.g. http://mybox:7860 ("*": any)
    where: dict = field(default_factory=dict)  # where jobs run: executor / workers / ray / ray_token (executors/)

    @property
    def bind(self) -> str:
        return "0.0.0.0" if self.listen else self.host

    def credentials(self) -> tuple[str, str] | None:
        if self.auth is None:
            return None
        user, sep, password = self.auth.partition(":")
        if not sep or not user or not password:
            raise OptionError("--auth must be user:password, both non-empty (e.g. --auth ana:s3cret).")
        return user, password

    def validate(self) -> None:
        creds = self.credentials()
        if not _loopback(self.bind) and creds is None:
            where = "--listen" if self.listen else f"--host {self.host}"
            raise OptionError(f"{where} makes the page reachable from other machines; add --auth user:password "
                              "(or drop it to stay on 127.0.0.1).")
        if not 1 <= self.port <= 65535:
            raise OptionError(f"--port {self.port} must be between 1 and 65535.")
        if self.max_upload < 1024:
            raise OptionError(f"--max-upload {self.max_upload} bytes is too small; give e.g. 500MB.")
        if self.models_dir is not None and not Path(self.models_dir).is_dir():
            raise OptionError(f"--models-dir {self.models_dir} is not a folder; give the folder holding your models.")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


ANY_ADDRESS = ("0.0.0.0", "::", "")
LOGIN_FAILURES = 5  # wrong passwords per client ...
LOGIN_WINDOW_S = 60  # ... in this many seconds, then 429 until the oldest failure is a window old
BODY_SLACK = 64 * 1024  # multipart headers and form fields on top of --max-upload


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class Guard:
    """ASGI middleware in front of gradio: what reaches the page must come from the page.

    - ``Host`` must name this server (loopback names, the bound address, ``--allow-host``): no DNS rebinding;
    - an ``Origin`` must be the page's own (same host and port as ``Host``) or an ``--allow-origin``: no
      cross-site uploads or calls;
    - ``file=`` serves only the jobs folder (which holds the page's temp folder); ``file=<url>`` and
      ``proxy=<url>`` are refused: the server fetches nothing from other hosts;
    - a request body is at most ``--max-upload`` (+64 KB of form fields) in all, by Content-Length and as it streams;
    - after 5 wrong passwords from one client in a minute, logins get 429 with Retry-After;
    - with auth on, ``/openapi.json`` is off (gradio's API page lists the endpoints after login).
    """

    FETCH = "rotoscope serves only local files from its jobs folder; it fetches nothing from other hosts."

    def __init__(self, app, *, config: UIConfig, served: list[Path]) -> None:
        self.app = app
        self.config = config
        self.served = [Path(p).resolve() for p in served]
        self.max_body = config.max_upload + BODY_SLACK
        any_host = config.bind in ANY_ADDRESS or "*" in config.allow_hosts
        self.hosts = None if any_host else (
            {"localhost", "127.0.0.1", "::1", config.bind.lower()} | {h.lower().strip("[]") for h in config.allow_hosts})
        self.origins = {o.rstrip("/").lower() for o in config.allow_origins}
        self.failures: dict[str, list[float]] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        try:
            self.check(scope)
        except Refused as refused:
            return await self.refuse(scope, send, refused)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("?",))[0]
        login = scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login")
        if login:
            try:
                self.check_login_rate(client)
            except Refused as refused:
                return await self.refuse(scope, send, refused)
        state = {"started": False, "status": 0, "read": 0}

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > self.max_body:
                    raise Refused(413, self.too_large())
            return message

        async def watched_send(message):
            if message["type"] == "http.response.start":
                state["started"], state["status"] = True, message["status"]
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Refused as refused:
            if state["started"]:
                raise
            return await self.refuse(scope, send, refused)
        except Exception:
            if state["read"] > self.max_body and not state["started"]:  # the app wrapped our refusal
                return await self.refuse(scope, send, Refused(413, self.too_large()))
            raise
        if login and state["status"] not in (200, 302, 303):
            self.failures.setdefault(client, []).append(time.monotonic())

    def too_large(self) -> str:
        return (f"the request is larger than --max-upload ({self.config.max_upload:,} bytes in all); "
                "send fewer or smaller files, or start the page with a larger --max-upload.")

    def check(self, scope) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if self.hosts is not None and _hostname(host) not in self.hosts:
            raise Refused(403, f"Host {host!r} is not this server; open the page at http://127.0.0.1:{self.config.port}/ "
                               "(or start it with --allow-host NAME).")
        origin = headers.get("origin")
        if origin is not None:
            page = origin.rstrip("/").lower()
            same = page.partition("://")[2] == host.lower() and page.startswith(("http://", "https://"))
            if not (same or page in self.origins or "*" in self.origins):
                raise Refused(403, f"requests from {origin} are refused: only the page itself may call this server "
                                   "(start it with --allow-origin ORIGIN to allow another site).")
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        lowered = path.lower()
        if "/proxy=" in lowered:
            raise Refused(403, self.FETCH)
        if "/file=" in lowered:
            target = path[lowered.index("/file=") + 6:]
            if target.lower().startswith(("http:", "https:", "//", "ftp:")) or "://" in target:
                raise Refused(403, self.FETCH)
            if not self.is_served(target):  # the same words for a missing file and a forbidden one
                raise Refused(403, f"File not allowed: {target}.")
        if self.config.auth is not None and path.rstrip("/") in ("/openapi.json", "/docs", "/redoc"):
            raise Refused(404, "Not Found")
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise Refused(413, self.too_large())

    def is_served(self, target: str) -> bool:
        try:
            resolved = Path(target).resolve()
        except (OSError, ValueError):
            return False
        return any(resolved == root or root in resolved.parents for root in self.served)

    def check_login_rate(self, client: str) -> None:
        now = time.monotonic()
        recent = [t for t in self.failures.get(client, []) if now - t < LOGIN_WINDOW_S]
        self.failures[client] = recent
        if len(recent) >= LOGIN_FAILURES:
            wait = max(1, int(LOGIN_WINDOW_S - (now - recent[0])) + 1)
            raise Refused(429, f"too many wrong passwords from {client}: try again in {wait} s.",
                          {"retry-after": str(wait)})

    @staticmethod
    async def refuse(scope, send, refused: Refused) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": refused.message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        headers += [(k.encode(), v.encode()) for k, v in refused.headers.items()]
        await send({"type": "http.response.start", "status": refused.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _hostname(host: str) -> str:
    """The name in a Host header, without the port (``[::1]:7860`` → ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _prune_previews(ws: Workspace) -> None:
    root = ws.jobs_dir / PREVIEWS
    if not root.is_dir():
        return
    import shutil

    cutoff = time.time() - PREVIEW_KEEP_S
    for path in root.iterdir():
        if path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)


_TEMP_DIR: Path | None = None


def page_temp_dir(ws: Workspace) -> Path:
    """gradio's upload and output cache, inside the jobs folder (``JOBS/.gradio``), emptied at start.

    gradio reads GRADIO_TEMP_DIR once per process for some of its parts, so a process keeps the folder of the
    first page it starts (tests start several pages in one process; `rotoscope ui` starts one).
    """
    import os
    import shutil

    global _TEMP_DIR
    if _TEMP_DIR is None:
        folder = ws.jobs_dir / TEMP
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["GRADIO_TEMP_DIR"] = str(folder)
        _TEMP_DIR = folder
    return _TEMP_DIR


def launch_kwargs(config: UIConfig, ws: Workspace) -> dict:
    from starlette.middleware import Middleware

    from .app import CSS

    served = [ws.jobs_dir, page_temp_dir(ws)]
    app_kwargs = {"middleware": [Middleware(Guard, config=config, served=served)]}
    if config.auth is not None:
        app_kwargs["openapi_url"] = None  # the schema only after login: gradio's API page (footer "Use via API")
    return dict(
        server_name=config.bind, server_port=config.port, auth=config.credentials(),
        auth_message="rotoscope: sign in with the --auth user and password.",
        max_file_size=config.max_upload, allowed_paths=[str(ws.jobs_dir)],
        share=False, inbrowser=False, show_error=True, quiet=True, ssr_mode=False, mcp_server=False,
        enable_monitoring=False, run_history=False, footer_links=["api", "settings"], pwa=False,
        app_kwargs=app_kwargs, css=CSS,
    )


def check_port_free(config: UIConfig) -> None:
    """Fail in a second, with the option to change, when something already serves on the port."""
    import socket

    family = socket.AF_INET6 if ":" in config.bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind((config.bind, config.port))
        except OSError as exc:
            raise OptionError(f"--port {config.port} on {config.bind} cannot be used ({exc.strerror or exc}); "
                              "pass another --port, or stop what serves there.") from None


def build(config: UIConfig, executor=None):
    """The gradio Blocks and the launch() keywords for ``config`` (validated); its jobs run on ``executor``
    (api.executor: None = this process)."""
    config.validate()
    check_port_free(config)
    ws = Workspace(config.jobs_dir, config.models_dir)
    ws.executor = executor
    _prune_previews(ws)
    page_temp_dir(ws)  # before gradio is imported: it reads GRADIO_TEMP_DIR then
    from .app import build_app

    demo = build_app(ws)
    demo.queue(default_concurrency_limit=1)
    return demo, launch_kwargs(config, ws)


def start(config: UIConfig):
    """Serve in a background thread; returns (demo, url). ``demo.close()`` stops it."""
    demo, kwargs = build(config)
    _, url, _ = demo.launch(prevent_thread_lock=True, **kwargs)
    return demo, url


def open_line(config: UIConfig) -> str:
    """The one line `rotoscope ui` prints once the page serves: where to open it (gradio's own lines are off)."""
    if _loopback(config.bind):
        host = f"[{config.bind}]" if ":" in config.bind else config.bind
        return f"rotoscope web UI: open http://{host}:{config.port}/ in a browser (Ctrl-C stops it)"
    where = f"http://127.0.0.1:{config.port}/ here, or http://THIS-MACHINE:{config.port}/ from another machine"
    if config.bind != "0.0.0.0":
        host = f"[{config.bind}]" if ":" in config.bind else config.bind
        where = f"http://{host}:{config.port}/"
    return f"rotoscope web UI: open {where} and sign in with the --auth user (Ctrl-C stops it)"


class Stopped(Exception):
    """SIGTERM (``kill``, a service manager) while serving: stop as Ctrl-C does."""


def _on_sigterm(signum, frame):
    raise Stopped


def serve(config: UIConfig) -> None:
    """Serve until Ctrl-C or SIGTERM (what `rotoscope ui` does); either stops it cleanly with one line."""
    from .. import api

    with api.executor(**config.where) as executor:  # Ray actors (if asked for) live as long as the page
        _serve(config, executor)


def _serve(config: UIConfig, executor) -> None:
    import signal
    import sys

    demo, kwargs = build(config, executor)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        demo.launch(prevent_thread_lock=True, **kwargs)
        print(open_line(config), flush=True)
        while demo.is_running:
            time.sleep(0.2)
    except (KeyboardInterrupt, Stopped) as exc:
        why = "SIGTERM" if isinstance(exc, Stopped) else "Ctrl-C"
        print(f"rotoscope web UI: stopped ({why}); jobs are kept in {Path(config.jobs_dir).resolve()}", file=sys.stderr,
              flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        demo.close()
