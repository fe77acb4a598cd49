"""The A1111 API driven by the real ``webuiapi`` client; results equal the Python API's for the same settings."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import requests
import webuiapi
from PIL import Image

import rotoscope
from rotoscope import api

LOOK = dict(prompt="ink drawing", negative_prompt="blurry", seed=3, steps=3, cfg_scale=6.0)


def client(served) -> webuiapi.WebUIApi:
    return webuiapi.WebUIApi(port=served.port, sampler="Euler a", steps=3)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def scene() -> Image.Image:
    y, x = np.mgrid[0:64, 0:64]
    return Image.fromarray(np.stack([x * 4, y * 4, (x + y) * 2], -1).astype(np.uint8))


def square_mask() -> Image.Image:
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (20, 16, 44, 40))
    return mask


def test_rotoscope_is_the_worktree():
    assert "/src/rotoscope/" in rotoscope.__file__


def test_constructor_reads_scripts_and_lists(server):
    c = client(server)
    assert c.has_controlnet is True and c.has_animatediff is True  # so the client resets stale units each call
    assert "Euler a" in c.util_get_sampler_names()
    assert c.get_scripts()["txt2img"] == ["controlnet", "controlnet m2m", "animatediff"]
    assert [m["title"] for m in c.get_sd_models()] == ["tiny", "mini"]
    assert c.get_progress()["progress"] == 0 and c.get_progress()["state"]["job_count"] == 0


def test_txt2img_equals_the_python_api(server, tmp_path):
    result = client(server).txt2img(width=64, height=64, batch_size=2, **LOOK)
    assert result.info["all_seeds"] == [3, 4] and len(result.images) == 2
    assert result.images[0].info["parameters"].startswith("ink drawing\nNegative prompt: blurry\nSteps: 3")
    assert result.parameters["prompt"] == "ink drawing"
    tiles = api.txt2img(tmp_path / "t.png", count=2, model="tiny", process_width=64, process_height=64, **LOOK)
    for got, tile in zip(result.images, tiles):
        assert np.array_equal(pixels(got), pixels(Image.open(tile.path)))


def test_img2img_equals_preview(server, tmp_path):
    scene().save(tmp_path / "in.png")
    result = client(server).img2img(images=[scene()], denoising_strength=0.5, width=64, height=64, **LOOK)
    assert result.info["all_seeds"] == [3]
    want = api.preview(tmp_path / "in.png", tmp_path / "p.png", seeds=1, model="tiny", strength=0.5,
                       process_width=64, process_height=64, **LOOK)
    assert np.array_equal(pixels(result.image), pixels(Image.open(want.tiles[0].path)))
    assert not np.array_equal(pixels(result.image), pixels(scene()))


@pytest.mark.parametrize("full_res, fill, padding", [(True, 1, 8), (False, 0, 0), (True, 2, 32)])
def test_img2img_with_mask_equals_preview(server, tmp_path, full_res, fill, padding):
    scene().save(tmp_path / "in.png")
    square_mask().save(tmp_path / "mask.png")
    result = client(server).img2img(images=[scene()], mask_image=square_mask(), mask_blur=2, inpainting_fill=fill,
                                    inpaint_full_res=full_res, inpaint_full_res_padding=padding,
                                    denoising_strength=0.8, width=64, height=64, **LOOK)
    areas = {True: "only-masked", False: "whole"}
    want = api.preview(tmp_path / "in.png", tmp_path / "p.png", seeds=1, model="tiny", strength=0.8,
                       process_width=64, process_height=64, mask=str(tmp_path / "mask.png"), mask_blur=2,
                       masked_content=("fill", "original", "latent-noise")[fill], inpaint_area=areas[full_res],
                       padding=padding, **LOOK)
    got = pixels(result.image)
    assert np.array_equal(got, pixels(Image.open(want.tiles[0].path)))
    assert np.array_equal(got[:8], pixels(scene())[:8])  # far outside the mask: kept
    text = result.info["infotexts"][0]
    assert "Mask blur: 2" in text and str(server.jobs_dir) not in text  # no server path leaks


def test_set_model_switches_the_model(server):
    c = client(server)
    c.util_set_model("mini")
    try:
        assert c.util_get_current_model() == "mini"
        result = c.txt2img(width=64, height=64, **LOOK)
        assert "Model: mini" in result.info["infotexts"][0]
        per_request = c.txt2img(width=64, height=64, override_settings={"sd_model_checkpoint": "tiny"}, **LOOK)
        assert "Model: tiny" in per_request.info["infotexts"][0]
    finally:
        c.util_set_model("tiny")
    assert c.util_get_current_model() == "tiny"


def _start(c: webuiapi.WebUIApi, **kwargs) -> tuple[threading.Thread, dict]:
    answer: dict = {}
    worker = threading.Thread(target=lambda: answer.update(r=c.txt2img(width=64, height=64, **kwargs)))
    worker.start()
    return worker, answer


def _wait(c: webuiapi.WebUIApi, worker: threading.Thread, job_no: int, step: int, seen: list | None = None) -> dict:
    """Polls /progress until image ``job_no`` has run ``step`` denoising steps (no time is asserted)."""
    while True:
        assert worker.is_alive(), f"the request ended before image {job_no} reached step {step}"
        p = c.get_progress()
        if seen is not None and p["state"]["job_count"]:
            seen.append(p)
        if p["state"]["job_no"] == job_no and p["state"]["sampling_step"] >= step:
            return p
        time.sleep(0.05)


def test_interrupt_stops_a_running_generation_within_one_step(server):
    c = client(server)
    worker, answer = _start(c, n_iter=16, **dict(LOOK, steps=150))
    _wait(c, worker, 0, 3)
    assert c.interrupt() == {}
    worker.join()
    info = answer["r"].info
    assert info["interrupted"] is True and len(answer["r"].images) == 0  # the first image was stopped mid-way
    assert info["steps_run_at_interrupt"] >= 3
    assert info["steps_run"] - info["steps_run_at_interrupt"] <= 1  # the UNet ran at most the step in progress
    c.util_wait_for_ready(check_interval=0.1)  # returns: idle is progress 0 and job_count 0
    assert c.get_progress()["progress"] == 0 and c.get_progress()["state"]["job_count"] == 0
    assert list((server.jobs_dir / "api").iterdir()) == []  # the request's working folder is gone


def test_skip_drops_the_current_image_and_progress_counts_steps(server):
    """/skip abandons image 0 and the request goes on (seeds 4, 5 answered); /progress follows the steps."""
    c = client(server)
    seen: list = []
    worker, answer = _start(c, n_iter=3, **dict(LOOK, steps=30))
    first = _wait(c, worker, 0, 2, seen)
    assert c.skip() == {}
    second = _wait(c, worker, 1, 2, seen)
    worker.join()
    result = answer["r"]
    assert result.info["interrupted"] is False and result.info["all_seeds"] == [4, 5] and len(result.images) == 2
    assert first["state"]["job_count"] == 3 and first["state"]["sampling_steps"] == 30
    assert 0 < first["progress"] < 1 / 3 < second["progress"] < 2 / 3
    states = [(p["state"]["job_no"], p["state"]["sampling_step"]) for p in seen]
    assert states == sorted(states) and all(0 <= p["progress"] <= 1 and p["eta_relative"] >= 0 for p in seen)
    assert c.get_progress()["progress"] == 0 and c.get_progress()["state"]["job_count"] == 0


def test_unknown_fields_and_nulls_are_accepted(server):
    body = {"prompt": "x", "seed": 1, "steps": 2, "width": 64, "height": 64, "hr_checkpoint_name": None,
            "s_churn": 0, "something_new": {"a": 1}, "cfg_scale": None, "sampler_index": None, "scheduler": "automatic"}
    r = requests.post(f"{server.url}/sdapi/v1/txt2img", json=body, timeout=120)
    assert r.status_code == 200 and len(r.json()["images"]) == 1
    assert isinstance(r.json()["info"], str)


@pytest.mark.parametrize("body, status, detail", [
    ({"sampler_name": "Nope"}, 404, "Sampler not found"),
    ({"alwayson_scripts": {"NoSuchScript": {"args": [1]}}}, 422, "always on script NoSuchScript not found"),
    ({"script_name": "x/y/z plot"}, 422, "Script 'x/y/z plot' not found"),
    ({"override_settings": {"sd_model_checkpoint": "missing"}}, 404, "not found"),
    ({"batch_size": 40}, 422, "1 to 16 images"),
    ({"steps": 0}, 422, "steps"),
])
def test_errors_have_the_web_ui_shape(server, body, status, detail):
    r = requests.post(f"{server.url}/sdapi/v1/txt2img", json=dict(body, width=64, height=64), timeout=60)
    assert r.status_code == status
    data = r.json()
    assert set(data) == {"error", "detail", "body", "errors"} and detail in data["detail"]


def test_img2img_takes_data_uris_and_raw_base64(server):
    raw = webuiapi.raw_b64_img(scene())
    for image in (raw, "data:image/png;base64," + raw):
        r = requests.post(f"{server.url}/sdapi/v1/img2img", json={"init_images": [image], "steps": 2, "seed": 1,
                                                                  "width": 64, "height": 64}, timeout=120)
        assert r.status_code == 200 and r.json()["parameters"]["init_images"] is None
