"""``rotoscope --help`` without importing typer, click or rich.

``import typer`` alone costs ~7× ``python -c pass`` on a small machine (click ~4×, rich ~5×), so
no help that they render can start within 3× of Python. Typer still parses and renders everything;
this only answers a *plain* help request (``rotoscope --help``, ``rotoscope COMMAND --help``) from
a cache of the text the real CLI printed for the same request last time:

- the cache key holds everything the text depends on: the version, a fingerprint of the package's
  sources (size + mtime of every .py: the CLI is generated from the option model, so any option
  change invalidates it), the program name, whether stdout is a terminal, its width and encoding,
  and the environment variables rich and typer read;
- on a miss the real CLI runs with stdout teed, and a successful help is stored (temp file +
  rename; a read-only or missing cache folder just means no cache);
- anything else goes straight to the real CLI, so behaviour never differs from typer's.

Only ``os`` and ``sys`` are imported on the fast path (``zlib`` for the file name).
"""

from __future__ import annotations

import os
import sys

# Environment variables that change what rich / typer print for --help.
_ENV = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
        "JUPYTER_COLUMNS", "JUPYTER_LINES", "PYCHARM_HOSTED", "_TYPER_FORCE_DISABLE_TERMINAL", "TYPER_USE_RICH",
        "_TYPER_STANDARD_TRACEBACK", "LANG", "LC_ALL")


def _help_request(argv: list[str]) -> str | None:
    """'' for ``--help``, the command for ``COMMAND --help``; None when argv is anything else."""
    if argv == ["--help"]:
        return ""
    if len(argv) == 2 and argv[1] == "--help" and argv[0].replace("-", "").isalnum():
        return argv[0]
    return None


def _fingerprint(package: str) -> str:
    """Count, total size and newest mtime of the package's .py files (~1 ms for ~100 files)."""
    count = size = newest = 0
    stack = [package]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    return f"{count}:{size}:{newest}"


def _key(request: str) -> str:
    from .. import __version__

    out = sys.stdout
    tty = out.isatty()
    width = os.get_terminal_size(out.fileno()).columns if tty else 0
    env = ",".join(f"{k}={os.environ.get(k, '')}" for k in _ENV)
    prog = os.path.basename(sys.argv[0])
    return (f"v{__version__} src={_fingerprint(os.path.dirname(os.path.dirname(__file__)))} prog={prog} cmd={request} "
            f"tty={tty} width={width} enc={out.encoding} {env}")


def _cache_file(key: str) -> str:
    import zlib

    root = os.environ.get("ROTOSCOPE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "rotoscope")
    return os.path.join(root, "help", f"{zlib.crc32(key.encode()):08x}.txt")


class _Tee:
    """stdout that also keeps what was written (isatty, fileno, encoding… are the real stream's)."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        written = self._stream.write(text)  # first: click probes with write(b"") and expects TypeError
        self.parts.append(text)
        return written

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _real_main() -> None:
    from .commands import app

    app()


def main() -> None:
    request = _help_request(sys.argv[1:])
    if request is None:
        return _real_main()
    key = _key(request)
    path = _cache_file(key)
    try:
        with open(path, encoding="utf-8") as f:
            stored_key, text = f.read().split("\n", 1)
    except (OSError, ValueError):
        stored_key, text = None, ""
    if stored_key == key:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    code: object = 1
    try:
        _real_main()
        code = 0
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        sys.stdout = tee._stream
        if code in (0, None):
            _store(path, key, "".join(tee.parts))


def _store(path: str, key: str, text: str) -> None:
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temp, "w", encoding="utf-8") as f:
            f.write(key + "\n" + text)
        os.replace(temp, path)
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass

