"""The ControlNet and AnimateDiff extensions' API, driven by the real ``webuiapi`` client against ``rotoscope serve``."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import requests
import webuiapi
from PIL import Image, ImageDraw

from rotoscope import api

from .test_sdapi import LOOK, client, pixels


def shapes() -> Image.Image:
    """Edges for canny to find: a light square and a dark disc on a gradient."""
    y, x = np.mgrid[0:64, 0:64]
    image = Image.fromarray(np.stack([x * 3, y * 3, (x + y)], -1).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 10, 30, 34), fill=(240, 230, 200))
    draw.ellipse((34, 30, 58, 54), fill=(20, 40, 90))
    return image


def canny_of(image: Image.Image) -> np.ndarray:
    return np.asarray(api.control_map(np.asarray(image.convert("RGB")), "canny"))


def test_controlnet_routes(server):
    c = client(server)
    assert c.controlnet_version() == 2
    assert "control_v11p_sd15_canny" in c.controlnet_model_list()
    assert {"none", "canny", "tile_resample"} <= set(c.controlnet_module_list())
    # webuiapi sends controlnet_images; the extension reads controlnet_input_images: both are taken
    detected = c.controlnet_detect([shapes()], module="canny")
    assert detected.info == "Success" and np.array_equal(pixels(detected.images[0]), canny_of(shapes()))
    raw = requests.post(f"{server.url}/controlnet/detect", timeout=60, json={
        "controlnet_module": "canny", "controlnet_input_images": [webuiapi.raw_b64_img(shapes())]}).json()
    (only,) = raw["images"]
    assert raw["info"] == "Success" and np.array_equal(pixels(Image.open(io.BytesIO(base64.b64decode(only)))),
                                                       canny_of(shapes()))
    for body, detail in (({"controlnet_module": "nope", "controlnet_images": ["x"]}, "Module not available"),
                         ({"controlnet_module": "canny"}, "No image selected")):
        r = requests.post(f"{server.url}/controlnet/detect", json=body, timeout=60)
        assert r.status_code == 422 and r.json()["detail"] == detail


def test_controlnet_unit_equals_preview_and_appends_the_map(server, tmp_path):
    unit = webuiapi.ControlNetUnit(image=shapes(), module="canny", model="control_v11p_sd15_canny [d14c016b]",
                                   weight=0.8, guidance_end=0.9, resize_mode=0, control_mode=0, pixel_perfect=True)
    off = webuiapi.ControlNetUnit(image=shapes(), module="canny", model="control_v11p_sd15_canny", enabled=False)
    result = client(server).img2img(images=[shapes()], denoising_strength=1.0, width=64, height=64,
                                    controlnet_units=[unit, off], **LOOK)
    assert len(result.images) == 2 and len(result.info["infotexts"]) == 1  # the image, then unit 0's map
    assert np.array_equal(pixels(result.images[1]), canny_of(shapes()))
    shapes().save(tmp_path / "in.png")
    common = dict(seeds=1, model="tiny", strength=1.0, process_width=64, process_height=64, **LOOK)
    want = api.preview(tmp_path / "in.png", tmp_path / "p.png", control="canny:0.8:0-0.9", **common)
    assert np.array_equal(pixels(result.images[0]), pixels(Image.open(want.tiles[0].path)))
    plain = api.preview(tmp_path / "in.png", tmp_path / "q.png", **common)
    assert not np.array_equal(pixels(result.images[0]), pixels(Image.open(plain.tiles[0].path)))
    text = result.info["infotexts"][0]
    assert 'ControlNet 0: "Module: canny, Model: default canny, Weight: 0.8' in text
    assert str(server.jobs_dir) not in text and "Image dir" not in text


def test_controlnet_on_txt2img_and_a_precomputed_map(server):
    """module "none": the image is the map, its type from the model; save_detected_map false: no map answered."""
    unit = {"image": webuiapi.raw_b64_img(Image.fromarray(canny_of(shapes()))), "module": "none",
            "model": "control_v11p_sd15_canny", "save_detected_map": False, "resize_mode": "Just Resize"}
    body = dict(LOOK, width=64, height=64, alwayson_scripts={"controlnet": {"args": [unit]}})
    r = requests.post(f"{server.url}/sdapi/v1/txt2img", json=body, timeout=120)
    assert r.status_code == 200 and len(r.json()["images"]) == 1


@pytest.mark.parametrize("unit, detail", [
    ({"module": "nope", "model": "control_v11p_sd15_canny"}, "module(nope) not found in supported modules."),
    ({"module": "canny", "model": "control_v99"}, "model(control_v99) not found in supported models."),
    ({"module": "none", "model": "None"}, "module none needs a model"),
    ({"module": "canny", "resize_mode": "Stretch"}, "resize_mode 'Stretch' is not one of"),
    ({"module": "canny", "control_mode": 7}, "control_mode 7 is not one of"),
    ({"module": "canny", "guidance_start": 0.5, "guidance_end": 0.5}, "must be less than guidance_end"),
    ({"module": "canny", "weight": 3}, "weight 3 must be between 0 and 2"),
])
def test_controlnet_unit_errors(server, unit, detail):
    body = dict(LOOK, width=64, height=64, init_images=[webuiapi.raw_b64_img(shapes())],
                alwayson_scripts={"ControlNet": {"args": [unit]}})
    r = requests.post(f"{server.url}/sdapi/v1/img2img", json=body, timeout=60)
    assert r.status_code == 422 and detail in r.json()["detail"]
    assert set(r.json()) == {"error", "detail", "body", "errors"}


def test_animatediff_answers_the_gif(server):
    c = client(server)
    motion = webuiapi.AnimateDiff(video_length=4, fps=8, batch_size=4, format=["GIF"])
    result = c.txt2img(width=64, height=64, animatediff=motion, **LOOK)
    gif = result.images[0]
    assert gif.format == "GIF" and gif.n_frames == 4 and gif.size == (64, 64)
    assert result.info["video_length"] == 4 and result.info["interrupted"] is False
    moving = c.img2img(images=[shapes()], denoising_strength=0.5, width=64, height=64, animatediff=motion, **LOOK)
    frames = []
    for i in range(moving.images[0].n_frames):
        moving.images[0].seek(i)
        frames.append(pixels(moving.images[0]))
    assert len(frames) == 4 and not np.array_equal(frames[0], pixels(shapes()))
    r = requests.post(f"{server.url}/sdapi/v1/txt2img", timeout=60, json=dict(
        LOOK, alwayson_scripts={"AnimateDiff": {"args": [{"enable": True, "video_path": "/etc/passwd"}]}}))
    assert r.status_code == 422 and "files on the server are not read" in r.json()["detail"]
