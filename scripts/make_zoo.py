"""Build the model-file zoo (rotoscope.models.zoo) into its cache ahead of the tests: prints a line per file
with its size and build time, then a JSON line."""

from __future__ import annotations

import json
import sys
import time

from rotoscope.models import zoo


def main(names: list[str]) -> None:
    times = {}
    start = time.perf_counter()
    for family in ("sd15", "sd21"):
        zoo.ensure_config_dir(family)
    for name in names or zoo.FILES:
        t = time.perf_counter()
        path = zoo.ensure(name)
        times[name] = round(time.perf_counter() - t, 1)
        print(f"{name:45s} {path.stat().st_size / 2**20:9.1f} MiB {times[name]:6.1f} s", flush=True)
    print(json.dumps({"zoo": str(zoo.zoo_root()), "seconds": round(time.perf_counter() - start, 1), "files": times}))


if __name__ == "__main__":
    main(sys.argv[1:])
