"""The web UI in a real browser: Debian's chromium driven by Playwright, against `rotoscope ui` served in-process.

Every step leaves a screenshot in test-artifacts/<test>/ (untracked); the finished run's one,
04-result.png, is what docs/ui.png shows: copy it there by hand to refresh the docs (tests write no tracked file). The ui_page fixture fails a test whose page contacted any host but the server.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from rotoscope.jobs.table import lookup
from tests.e2e.conftest import open_panel, set_option

def set_options(page, **values) -> None:
    """Set settings by option name (each control is made from its option's declaration)."""
    for name, value in values.items():
        set_option(page, lookup(name), value)


def set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]").first
    box.fill(str(value))
    box.press("Enter")


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def upload_clip(page, clip: Path, *, duration, fps, width) -> None:
    """Trim first (each setting change re-converts), then upload: the converted preview shows the frame count."""
    set_options(page, duration=duration, fps=fps, width=width)
    page.locator("#source-upload input[type=file]").set_input_files(str(clip))
    expected = round(duration * fps)
    page.wait_for_function(
        "n => (document.querySelector('#clip-info')?.innerText || '').includes(n + ' frames')", arg=expected)
    page.wait_for_selector("#probe-facts :text('h264')")


def set_look(page, *, prompt: str, seed: int, steps: int, strength: float) -> None:
    set_options(page, prompt=prompt, model="tiny", steps=steps, strength=strength, seed=seed)


def gif_frames(path: Path) -> int:
    with Image.open(path) as image:
        return image.n_frames


def test_upload_preview_run_download(ui_page, sample_clip, shots, tmp_path):
    page = ui_page
    upload_clip(page, sample_clip, duration=1, fps=10, width=128)
    assert re.search(r"128×96, 1\.00 s — GIF [0-9.]+ KB", page.locator("#clip-info").inner_text())
    shots("01-source", page)

    set_look(page, prompt="ink drawing of a cup", seed=7, steps=4, strength=0.5)
    shots("02-look", page)

    tab(page, "Preview")
    set_number(page, "preview-seeds", 2)
    page.click("#preview-button")
    tiles = page.locator("#preview-grid button.thumbnail-item")
    tiles.nth(1).wait_for()
    assert tiles.count() == 2
    page.wait_for_selector("#preview-grid :text('seed 8')")
    tiles.nth(1).click()  # the second tile is seed 8: clicking it sets the seed
    page.wait_for_selector("#preview-info :text('seed 8')")
    shots("03-preview", page)
    assert page.locator("#opt-seed input[type=number]").input_value() == "8"

    tab(page, "Run")
    page.click("#run-button")
    page.wait_for_selector("#run-status :text('10 frames')", timeout=120_000)
    page.wait_for_selector("#result-gif img")
    status = page.locator("#run-status").inner_text()
    assert "seed 8" in status and "10 stylised" in status, status
    assert "Seed: 8" in page.locator("#infotext textarea").input_value()
    result_shot = shots("04-result", page)  # docs/ui.png is this picture, copied by hand (tests write no tracked file)
    with Image.open(result_shot) as shot:
        assert shot.width >= 1280

    with page.expect_download() as download:
        page.click("#download-gif")
    saved = tmp_path / "download.gif"
    download.value.save_as(saved)
    assert gif_frames(saved) == 10
    with Image.open(saved) as image:
        assert image.size == (128, 96)
    with page.expect_download() as download:
        page.click("#download-mp4")
    assert download.value.suggested_filename.endswith(".mp4")


def test_method_options_follow_the_method(ui_page, ui_server, sample_clip, shots):
    """The settings show the chosen method's own options, and the job is made with them."""
    import json

    page = ui_page
    upload_clip(page, sample_clip, duration=1, fps=10, width=128)
    set_options(page, model="classic:cartoon")
    assert not page.locator("#opt-keys").is_visible() and not page.locator("#opt-context_length").is_visible()
    set_options(page, method="keyframes", keys="every:5", plate="1x1")
    assert not page.locator("#opt-context_length").is_visible()
    shots("01-keyframe-options", page)
    tab(page, "Run")
    page.click("#run-button")
    page.wait_for_selector("#run-status :text('10 frames')", timeout=120_000)
    name = re.search(r"job (\S+?):", page.locator("#run-status").inner_text())[1]
    spec = json.loads((ui_server.jobs_dir / name / "job.json").read_text())["spec"]
    assert (spec["method"], spec["keys"]["keys"], spec["keys"]["plate"]) == ("keyframes", "every:5", "1x1")
    shots("02-keyframes-run", page)

    set_options(page, method="animatediff")
    open_panel(page, "Video")
    page.locator("#opt-context_length").wait_for(state="visible")
    assert not page.locator("#opt-keys").is_visible()


def test_paint_mask(ui_page, ui_server, sample_clip, shots):
    page = ui_page
    upload_clip(page, sample_clip, duration=0.5, fps=10, width=128)
    tab(page, "Mask")
    page.click("#mask-load")
    canvas = page.locator("#mask-editor canvas").first
    canvas.wait_for()
    page.wait_for_timeout(1500)  # the editor draws the frame as its background (slower on a busy machine)
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.35
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 11):  # a stroke across the middle
        page.mouse.move(x0 + step * box["width"] * 0.03, y0 + step * box["height"] * 0.03)
    page.mouse.up()
    shots("01-painted", page)
    set_options(page, inpaint_area="only-masked")
    page.click("#mask-save")
    page.wait_for_function("() => (document.querySelector('#mask-file textarea, #mask-file input')?.value || '').endsWith('.png')")
    path = Path(page.locator("#mask-file textarea, #mask-file input").first.input_value())
    shots("02-saved", page)
    assert ui_server.jobs_dir.resolve() in path.resolve().parents  # kept in the jobs folder
    with Image.open(path) as mask:
        assert mask.mode == "L"
        values = set(mask.get_flattened_data())
    assert values <= {0, 255} and 255 in values and 0 in values  # painted stroke white, the rest black
    page.wait_for_selector("#mask-crop img")  # the frame with the mask tinted and the "only masked" crop box

    # the saved mask goes into the job: a quick run with a classic (weight-free) style inpaints through it
    set_options(page, model="classic:cartoon")
    tab(page, "Run")
    page.click("#run-button")
    page.wait_for_selector("#run-status :text('5 frames')", timeout=120_000)
    info = page.locator("#infotext textarea").input_value()
    assert "Mask blur: 4" in info and "Inpaint area: Only masked" in info, info
    shots("03-masked-run", page)


def test_cancel_run(ui_page, sample_clip, shots):
    page = ui_page
    upload_clip(page, sample_clip, duration=2, fps=10, width=128)
    set_look(page, prompt="cancel me", seed=3, steps=20, strength=0.5)
    tab(page, "Run")
    page.click("#run-button")
    # the progress bar shows stage, count, frames/s and ETA while frames are stylised
    page.wait_for_selector("text=/stylising \\d+\\/20 · [0-9.]+ fr\\/s · ETA \\d+ s/", timeout=120_000)
    shots("01-running", page)
    page.click("#cancel-button")
    page.wait_for_selector("#cancel-note :text('cancel asked at')")
    page.wait_for_selector("#run-status :text('cancelled')")
    text = page.locator("#run-status").inner_text()
    done, total = map(int, re.search(r"(\d+) of (\d+) frames", text).groups())
    assert total == 20 and 0 < done < 20, text
    shots("02-cancelled", page)

    tab(page, "Jobs")
    page.click("#jobs-refresh")
    page.wait_for_function("t => (document.querySelector('#jobs-table')?.innerText || '').includes(t)", arg=f"{done}/20")
    assert "stopped" in page.locator("#jobs-table").inner_text()
    shots("03-jobs", page)

    page.locator("#jobs-table span", has_text="cup-").filter(visible=True).first.click()  # picks the job
    page.wait_for_function("() => (document.querySelector('#jobs-picked textarea, #jobs-picked input')?.value || '').startsWith('cup-')")
    page.click("#jobs-resume")
    page.wait_for_selector("#jobs-status :text('resumed')", timeout=120_000)
    status = page.locator("#jobs-status").inner_text()
    assert f"{20 - done} stylised" in status and f"{done} resumed" in status, status
    page.wait_for_selector("#jobs-gif img")
    shots("04-resumed", page)
