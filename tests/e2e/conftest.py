"""Clips and an in-process CLI runner for the end-to-end tests (tests/clips.py writes the clips)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import clips
from tests.servers import free_port  # the UI tests import it from here

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


# -- driving the settings column: every control is made from an option's declaration (rotoscope.ui.controls) -----


def open_panel(page, panel: str) -> None:
    """Unfold a settings panel (an accordion) if it is folded."""
    button = page.locator(f"#panel-{panel.lower()} > button.label-wrap").first
    button.wait_for(state="visible")
    if "open" not in (button.get_attribute("class") or "").split():
        button.click()


def choose(page, elem_id: str, label: str) -> None:
    """Open a dropdown and click one of its options (typing races the list's filtering)."""
    box = page.locator(f"#{elem_id} input").first
    box.evaluate("e => e.blur()")  # the list opens on focus: a box still focused from the last pick stays shut
    box.click()
    page.locator(f"#{elem_id} li[role=option][aria-label='{label}']").first.click()


def set_option(page, info, value) -> None:
    """Set one option's control to ``value`` as a person would: click, pick, type (then leave the box)."""
    from rotoscope.ui.controls import kind

    open_panel(page, info.panel)
    elem_id = f"opt-{info.key}"
    root = page.locator(f"#{elem_id}")
    root.wait_for(state="visible")
    match kind(info):
        case "radio":
            root.locator(f"input[type=radio][value='{value}']").check()
        case "dropdown":
            choose(page, elem_id, value)
            page.wait_for_function("([id, v]) => document.querySelector(`#${id} input`)?.value === v", arg=[elem_id, value])
        case "model":  # the model box also takes any hub id, folder or file: typed
            box = root.locator("input").first
            box.fill(value)
            box.press("Enter")
            box.press("Tab")
        case "multiselect":
            for item in value:
                choose(page, elem_id, item)
            page.keyboard.press("Escape")
        case "checkbox":
            root.locator("input[type=checkbox]").set_checked(value)
        case "outputs":
            for fmt in info_formats():
                root.get_by_label(fmt, exact=True).set_checked(fmt in value)
        case "file":
            root.locator("input[type=file]").set_input_files(str(value))
        case "slider" | "number":
            box = root.locator("input[type=number]").first
            box.fill(str(value))
            box.press("Tab")
        case "lines":
            box = root.locator("textarea").first
            box.fill("\n".join(value))
            box.press("Tab")
        case _:
            box = root.locator("textarea, input").first
            box.fill(str(value))
            box.press("Tab")


def info_formats() -> tuple[str, ...]:
    from rotoscope.ui.controls import FORMATS

    return FORMATS


def upload_source(page, clip: Path) -> None:
    """Upload a clip on the Source tab and wait for its converted preview."""
    page.get_by_role("tab", name="Source", exact=True).click()
    page.locator("#source-upload input[type=file]").set_input_files(str(clip))
    page.wait_for_function("() => /\\d+ frames/.test(document.querySelector('#clip-info')?.innerText || '')")


def shown_spec(page) -> dict:
    """Click "Show job settings" on the Run tab and read the JobSpec the page built (an error shown instead
    fails with its message)."""
    import json

    page.get_by_role("tab", name="Run", exact=True).click()
    box = page.locator("#job-settings textarea")
    old = box.input_value() if box.count() else ""
    page.click("#show-spec")
    page.wait_for_function(
        "old => { const v = document.querySelector('#job-settings textarea')?.value || '';"
        " return (v.startsWith('{') && v !== old) || document.querySelector('[data-testid=toast-body]'); }", arg=old)
    toast = page.locator("[data-testid=toast-body]")
    assert not toast.count(), f"the page showed an error: {toast.first.inner_text()}"
    return json.loads(box.input_value())
