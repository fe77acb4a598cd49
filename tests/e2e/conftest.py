"""Clips and an in-process CLI runner for the end-to-end tests (tests/clips.py writes the clips)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import clips

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"


@pytest.fixture(scope="session")
def cli_clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_clips")


@pytest.fixture(scope="session")
def box_clip(cli_clips) -> Path:
    """24 frames at 10 fps: a 2.4 s clip, 160×120."""
    return clips.moving_box_clip(cli_clips / "box.mp4", frames=24)


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    assert SAMPLE.exists(), f"sample clip missing: {SAMPLE}"
    return SAMPLE


@pytest.fixture()
def cli():
    """Invoke the rotoscope app in-process: cli("convert", path, "-o", out) → click Result."""
    from rotoscope.cli import app

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


# -- web UI (rotoscope ui): an in-process server and Debian's chromium driven by Playwright --------

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory, tiny_model_dir):
    """`rotoscope ui` served in this process on a free loopback port, with its own jobs folder."""
    from types import SimpleNamespace

    from rotoscope.ui.server import UIConfig, start

    jobs = tmp_path_factory.mktemp("ui_jobs")
    demo, url = start(UIConfig(port=free_port(), jobs_dir=jobs))
    yield SimpleNamespace(url=url, jobs_dir=jobs, demo=demo)
    demo.close()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_browser.sh (scripts/test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def ui_page(chromium, ui_server, request):
    """A fresh browser tab on the page; afterwards, checks that the page asked no other host for anything."""
    from urllib.parse import urlparse

    context = chromium.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc) if r.url.startswith(("http:", "https:", "ws:", "wss:")) else None)
    page.goto(ui_server.url)
    page.wait_for_selector("#source-upload")
    yield page
    context.close()
    assert hosts <= {urlparse(ui_server.url).netloc}, f"the page contacted other hosts: {sorted(hosts)}"


@pytest.fixture()
def shots(request):
    """shots("01-upload", page): a full-page screenshot under test-artifacts/<test name>/."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str, page) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
