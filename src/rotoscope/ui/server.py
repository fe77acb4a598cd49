"""Starting the page safely: loopback by default, auth required to listen, upload limit, files only from the jobs folder.

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
from .workspace import PREVIEWS, Workspace

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


class LocalFilesOnly:
    """ASGI middleware: gradio's ``file=<url>`` and ``proxy=<url>`` routes would make the server fetch other hosts;
    rotoscope serves only files of this machine, so those requests are refused."""

    MESSAGE = "rotoscope serves only local files from its jobs folder; it fetches nothing from other hosts."

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _remote_fetch(scope.get("path", "")):
            body = json.dumps({"detail": self.MESSAGE}).encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _remote_fetch(path: str) -> bool:
    lowered = path.lower()
    if "/proxy=" in lowered:
        return True
    if "/file=" in lowered:
        target = lowered.split("/file=", 1)[1]
        return target.startswith(("http:", "https:", "//", "ftp:"))
    return False


def _prune_previews(ws: Workspace) -> None:
    root = ws.jobs_dir / PREVIEWS
    if not root.is_dir():
        return
    import shutil

    cutoff = time.time() - PREVIEW_KEEP_S
    for path in root.iterdir():
        if path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)


def launch_kwargs(config: UIConfig, ws: Workspace) -> dict:
    from starlette.middleware import Middleware

    from .app import CSS

    return dict(
        server_name=config.bind, server_port=config.port, auth=config.credentials(),
        auth_message="rotoscope: sign in with the --auth user and password.",
        max_file_size=config.max_upload, allowed_paths=[str(ws.jobs_dir)],
        share=False, inbrowser=False, show_error=True, quiet=True, ssr_mode=False, mcp_server=False,
        enable_monitoring=False, run_history=False, footer_links=["api", "settings"], pwa=False,
        app_kwargs={"middleware": [Middleware(LocalFilesOnly)]}, css=CSS,
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


def build(config: UIConfig):
    """The gradio Blocks and the launch() keywords for ``config`` (validated)."""
    config.validate()
    check_port_free(config)
    ws = Workspace(config.jobs_dir, config.models_dir)
    _prune_previews(ws)
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


def serve(config: UIConfig) -> None:
    """Serve until Ctrl-C (what `rotoscope ui` does)."""
    demo, kwargs = build(config)
    demo.launch(prevent_thread_lock=True, **kwargs)
    print(open_line(config), flush=True)
    try:
        while demo.is_running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
