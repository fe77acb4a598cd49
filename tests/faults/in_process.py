"""Run several CLI commands in one fresh process (one start-up instead of one each), each optionally
under a file size limit: RLIMIT_FSIZE's soft limit is lowered for the command and raised again after
(the hard limit stays), SIGXFSZ ignored so a write past it fails with EFBIG as on a full disk.

    in_process.py '[{"args": ["convert", …], "file_limit": 500}, …]'

Prints one JSON list: each command's exit code, output and whether it raised something other than
SystemExit (a traceback)."""

from __future__ import annotations

import json
import resource
import signal
import sys


def main() -> None:
    from typer.testing import CliRunner

    from rotoscope.cli import app

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    results = []
    for step in json.loads(sys.argv[1]):
        limit = step.get("file_limit")
        if limit:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        try:
            result = CliRunner().invoke(app, step["args"])
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        results.append({"rc": result.exit_code, "output": result.output, "crashed": repr(result.exception) if crashed else None})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
