"""The page's settings are the option model: every job option has its control (shown when its method or
technique is chosen), and what the page sends builds the same JobSpec as the CLI and the Python API.

Real Chromium drives the real page (tests/e2e/conftest.py); the expected spec is ``rotoscope.api.build_spec``
given the same values — the one builder every face uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rotoscope import api
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.table import job_options, lookup, panels
from rotoscope.options import Option
from tests.e2e.conftest import open_panel, set_option, shown_spec, upload_source

#: values for the free-text options, and light ones for the media options (the page converts the clip as they
#: change); every other option's value comes from its declaration
VALUES = {
    "shots": "none", "start": 0.5, "duration": 1.0, "fps": 5.0, "every_nth": 2, "max_frames": 4, "width": 96, "height": 72,
    "prompt": "ink drawing of a cup", "negative_prompt": "blurry", "model": "tiny", "vae": "madebyollin/taesd",
    "lora": ["style.safetensors:0.8"], "embedding": ["easynegative.pt"], "device": "cpu",
    "model_config": "v1-inference.yaml", "models_dir": "webui-models", "background": "#00ff00", "max_size": "1.5MB",
    "mask_rect": ["4,4,20,16"], "mask_ellipse": ["8,8,24,20", "0:8,8,24,20/5:20,8,24,20"], "mask_key": "#00ff00:30",
    "control": ["canny:0.5", "tile:0.7:0-0.6"], "control_model": ["canny=tiny", "tile=tiny"],
    "keys": "every:5", "plate": "1x1", "motion_adapter": "tiny", "video_model": "tiny",
    "lcm_lora": "latent-consistency/lcm-lora-sdv1-5",
    "from_": "Steps: 12, Sampler: Euler, CFG scale: 5, Seed: 42, Clip skip: 2",
    "control_image_dir": ["tile={control_frames}"],
}


def sample(info: Option) -> Any:
    """A value other than the declared default, inside the declared range or choices."""
    if info.key in VALUES:
        return VALUES[info.key]
    choices = [c for c in info.choice_list() if c != info.default]
    if info.base_type is list:
        return choices[:1]
    if choices:
        return choices[-1]
    if info.base_type is bool:
        return not info.default
    low = info.low if info.low is not None else 0
    high = info.high if info.high is not None else low + 100
    for fraction in (0.25, 0.75):
        value = low + (high - low) * fraction
        value = round(value) if info.base_type is int else round(value, 1)
        if value != info.default:
            return value
    raise AssertionError(f"no sample value for {info.key}")


def cases() -> list[tuple[str, dict[str, Any]]]:
    """Per panel, the panel's options at sample values, with the method / techniques / mask their owners need
    (one case per method where a panel's options belong to different methods)."""
    found = []
    for panel, options in panels().items():
        by_method: dict[str | None, list[Option]] = {}
        for info in options:
            if info.key in ("output", "mask"):
                continue  # the page writes outputs into the job folder; the mask file is its own test
            if info.key == "from_":  # settings from infotext lose to the ones given: a case of its own
                found.append(("from", {"from_": sample(info)}))
                continue
            method = info.owner.names[0] if info.owner and info.owner.kind == "method" else None
            by_method.setdefault(method, []).append(info)
        for method, owned in by_method.items():
            values = {info.key: sample(info) for info in owned}
            techniques = [o.owner.names[0] for o in owned if o.owner and o.owner.kind == "technique"]
            if techniques:
                values["consistency"] = list(dict.fromkeys([*values.get("consistency", []), *techniques]))
            if method:
                values["method"] = method
            if any(o.owner and o.owner.kind == "mask" for o in owned) and "mask_rect" not in values:
                values["mask_rect"] = VALUES["mask_rect"]
            if "control" in values:  # ControlNet needs a diffusion model
                values.setdefault("model", "tiny")
            found.append((f"{panel}-{method}" if method else panel, values))
    return found


CASES = cases()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A short clip: 12 frames at 10 fps, 160×120."""
    from tests import clips

    return clips.moving_box_clip(tmp_path_factory.mktemp("options") / "box.mp4", frames=12)


@pytest.fixture(scope="module")
def control_frames(ui_server) -> Path:
    """Precomputed control images (one per frame) for --control-image-dir, in the page's jobs folder (the page
    reads no server folder outside it)."""
    from PIL import Image

    folder = ui_server.jobs_dir / "control-frames"
    folder.mkdir(exist_ok=True)
    for i in range(12):
        Image.new("RGB", (160, 120), (i * 20, 0, 0)).save(folder / f"{i:03d}.png")
    return folder


def control(page, key: str):
    return page.locator(f"#opt-{key}")


def test_every_option_has_its_control(ui_page, shots):
    """Each job option has a control; a method's or technique's own options show only while it is chosen."""
    page = ui_page
    options = job_options()
    free = [o for o in options if o.owner is None or o.owner.kind == "mask"]
    for info in free:
        open_panel(page, info.panel)
        expect(control(page, info.key), f"a control for {info.cli_flag} in the {info.panel} panel").to_be_visible()

    by_method = [o for o in options if o.owner and o.owner.kind == "method"]
    for method in lookup("method").choice_list():
        set_option(page, lookup("method"), method)
        for info in by_method:
            if method in info.owner.names:
                open_panel(page, info.panel)
                expect(control(page, info.key), f"{info.cli_flag} with --method {method}").to_be_visible()
            else:
                expect(control(page, info.key), f"{info.cli_flag} with --method {method}").to_be_hidden()
        shots(f"method-{method}", page)

    by_technique = [o for o in options if o.owner and o.owner.kind == "technique"]
    chosen: list[str] = []
    for info in by_technique:
        expect(control(page, info.key), f"{info.cli_flag} without its technique").to_be_hidden()
    for technique in lookup("consistency").choice_list():
        chosen.append(technique)
        set_option(page, lookup("consistency"), [technique])
        for info in by_technique:
            shows = expect(control(page, info.key), f"{info.cli_flag} with --consistency {','.join(chosen)}")
            shows.to_be_visible() if set(info.owner.names) & set(chosen) else shows.to_be_hidden()
    shots("techniques", page)


@pytest.mark.parametrize("name, values", CASES, ids=[name for name, _ in CASES])
def test_page_builds_the_cli_spec(ui_page, clip, control_frames, name, values):
    """The panel's options set in the page give the JobSpec that build_spec (the CLI's builder) gives."""
    page = ui_page
    values = {k: [v.format(control_frames=control_frames) for v in value] if k == "control_image_dir" else value
              for k, value in values.items()}
    upload_source(page, clip)
    first = ("method", "consistency", "mask_rect")  # the owners first: their options show once they are chosen
    for key in sorted(values, key=lambda k: (k not in first, first.index(k) if k in first else 0)):
        set_option(page, lookup(key), values[key])
    page_spec = JobSpec.from_dict(shown_spec(page))
    expected = api.build_spec(page_spec.source, page_spec.output.outputs, **values)
    assert page_spec.normalised() == expected.normalised()


def run_page_job(page, jobs_dir: Path) -> dict:
    """Click Run, wait for the job, return the spec recorded in its job.json."""
    import re

    page.get_by_role("tab", name="Run", exact=True).click()
    page.click("#run-button")
    page.wait_for_selector("#run-status :text('stylised')", timeout=120_000)
    name = re.search(r"job (\S+?):", page.locator("#run-status").inner_text())[1]
    return json.loads((jobs_dir / name / "job.json").read_text())["spec"]


def test_per_frame_noise_with_color_match(ui_page, ui_server, clip):
    """The noise radio and the techniques are separate options: per-frame noise with color-match runs per-frame
    noise (the page used to send "shared" whatever the consistency box said)."""
    page = ui_page
    upload_source(page, clip)
    values = {"model": "classic:cartoon", "noise": "per-frame", "consistency": ["color-match"], "seed": 5,
              "duration": 0.5, "width": 64, "output": ["gif", "webp"]}
    for key, value in values.items():
        set_option(page, lookup(key), value)
    recorded = run_page_job(page, ui_server.jobs_dir)
    assert recorded["style"]["noise"] == "per-frame" and recorded["consistency"]["techniques"] == ["color-match"]
    outputs = recorded["output"]["outputs"]
    assert [Path(p).name for p in outputs] == ["output.gif", "output.webp"] and all(Path(p).is_file() for p in outputs)
    values.pop("output")
    expected = api.build_spec(recorded["source"], outputs, **values)
    assert JobSpec.from_dict(recorded).normalised() == expected.normalised()


def test_uploaded_mask_is_kept_in_the_jobs_folder(ui_page, ui_server, clip, tmp_path):
    """The Mask setting takes an uploaded mask; the job reads the copy kept in the jobs folder."""
    from PIL import Image

    mask = tmp_path / "mask.png"
    Image.new("L", (160, 120), 255).save(mask)
    page = ui_page
    upload_source(page, clip)
    set_option(page, lookup("mask"), mask)
    set_option(page, lookup("mask_blur"), 8)
    spec = JobSpec.from_dict(shown_spec(page))
    kept = Path(spec.mask.mask)
    assert ui_server.jobs_dir.resolve() in kept.resolve().parents and kept.read_bytes() == mask.read_bytes()
    expected = api.build_spec(spec.source, spec.output.outputs, mask=str(kept), mask_blur=8)
    assert spec.normalised() == expected.normalised()


def test_validation_errors_are_the_library_messages(ui_page, clip):
    """The page checks nothing itself: a value out of range reaches JobSpec.validate, whose message is shown."""
    page = ui_page
    upload_source(page, clip)
    set_option(page, lookup("strength"), 0)
    page.get_by_role("tab", name="Run", exact=True).click()
    page.click("#show-spec")
    expect(page.locator("[data-testid=toast-body]").first).to_contain_text("--strength 0 must be in (0, 1]")
