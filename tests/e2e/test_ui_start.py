"""`rotoscope ui` prints one line a user can act on (where to open the page), not gradio's share=True hint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.servers import free_port

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _ui(tmp_path: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", "from rotoscope.cli import main; main()", "ui", "--port", str(port),
                             "--jobs-dir", str(tmp_path / "jobs")],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_ui_prints_where_to_open_it_and_no_share_hint(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = _ui(tmp_path, port)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not any(url in line for line in lines):
            time.sleep(0.2)
        assert any(url in line for line in lines), "".join(lines)
        with urllib.request.urlopen(url, timeout=30) as page:  # the URL printed is the page
            assert page.status == 200
        time.sleep(2)  # anything printed right after the start
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=10)
    output = "".join(lines)
    assert "share=True" not in output and "public link" not in output
    assert f"rotoscope web UI: open {url}" in output


def test_a_busy_port_is_one_line_naming_the_option(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _ui(tmp_path, port)
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, output
    assert "Traceback" not in output and "GRADIO_SERVER_PORT" not in output
    assert output.strip().endswith("pass another --port, or stop what serves there.")
    assert f"--port {port} on 127.0.0.1 cannot be used" in output
