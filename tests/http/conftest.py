"""A real ``rotoscope serve`` subprocess on a free loopback port, stopped by the fixture."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.servers import free_port, stop

SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Served:
    port: int
    jobs_dir: Path
    models_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(root: Path, models_dir: Path, *extra: str, auth: tuple[str, str] | None = None) -> tuple[subprocess.Popen, Served]:
    port = free_port()
    jobs = root / "jobs"
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen([sys.executable, "-m", "rotoscope", "serve", "--port", str(port), "--model", "tiny",
                             "--jobs-dir", str(jobs), "--models-dir", str(models_dir), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served = Served(port, jobs, models_dir)
    while True:  # until it answers (or dies): no time is asserted
        if proc.poll() is not None:
            raise RuntimeError(f"rotoscope serve exited: {proc.stdout.read()}")
        try:
            requests.get(f"{served.url}/sdapi/v1/progress", auth=auth, timeout=5)
            return proc, served
        except requests.ConnectionError:
            time.sleep(0.2)


@pytest.fixture(scope="session")
def models_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """--models-dir with a second local model: the tiny pipeline saved as the folder ``mini``."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(tiny_model_dir, root / "mini")
    return root


@pytest.fixture(scope="module")
def server(models_dir, tmp_path_factory) -> Iterator[Served]:
    proc, served = start(tmp_path_factory.mktemp("serve"), models_dir)
    yield served
    stop(proc)
