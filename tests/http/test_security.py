"""Auth, caps and paths: each refusal's status, and nothing read or written outside the jobs and models folders."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import webuiapi

from .conftest import SRC, start, stop
from .test_sdapi import LOOK, scene

AUTH = ("ann", "s3cret")


@pytest.fixture(scope="module")
def guarded(models_dir, tmp_path_factory):
    """A server with --api-auth and small caps; a canary folder next to its jobs folder."""
    root = tmp_path_factory.mktemp("guarded")
    canary = root / "outside"
    canary.mkdir()
    (canary / "secret.txt").write_text("keep out")
    proc, served = start(root, models_dir, "--api-auth", ":".join(AUTH), "--max-request", "200KB",
                         "--max-pixels", "10000", auth=AUTH)
    yield served, canary
    stop(proc)


def snapshot(folder):
    return sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_listen_without_api_auth_refuses_to_start(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rotoscope", "serve", "--listen", "--jobs-dir", str(tmp_path / "j")],
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert r.returncode == 2 and "--api-auth" in r.stderr + r.stdout
    assert not (tmp_path / "j").exists()


def test_basic_auth_right_and_wrong(guarded):
    served, _ = guarded
    ok = webuiapi.WebUIApi(port=served.port, username=AUTH[0], password=AUTH[1], steps=2)
    assert ok.txt2img(width=64, height=64, **dict(LOOK, steps=2)).info["all_seeds"] == [3]
    wrong = webuiapi.WebUIApi(port=served.port, username=AUTH[0], password="nope")
    with pytest.raises(RuntimeError) as refused:
        wrong.txt2img(width=64, height=64, steps=2)
    assert refused.value.args[0] == 401
    for path in ("/sdapi/v1/progress", "/sdapi/v1/sd-models", "/sdapi/v1/options", "/nothing-here"):
        r = requests.get(served.url + path, timeout=10)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Basic"


@pytest.mark.parametrize("name", ["../outside/secret.txt", "/etc/passwd", "..%2Foutside", "%2e%2e%2f%2e%2e%2fetc",
                                  "mini/../../outside", "https://example.com/model.safetensors", "org/name"])
def test_model_names_are_titles_never_paths(guarded, name):
    served, canary = guarded
    before = snapshot(canary)
    for body, route in (({"sd_model_checkpoint": name}, "options"),
                        ({"override_settings": {"sd_model_checkpoint": name}, "steps": 2}, "txt2img")):
        r = requests.post(f"{served.url}/sdapi/v1/{route}", json=body, auth=AUTH, timeout=60)
        assert r.status_code == 404 and "not found" in r.json()["detail"]
    assert requests.get(f"{served.url}/sdapi/v1/options", auth=AUTH, timeout=10).json()["sd_model_checkpoint"] == "tiny"
    assert snapshot(canary) == before


@pytest.mark.parametrize("path", ["/sdapi/v1/../../outside/secret.txt", "/sdapi/v1/%2e%2e/%2e%2e/outside/secret.txt",
                                  "/..%2F..%2Foutside%2Fsecret.txt", "//etc/passwd"])
def test_traversal_in_the_url_finds_nothing(guarded, path):
    served, canary = guarded
    r = requests.get(served.url + path, auth=AUTH, timeout=10)
    assert r.status_code == 404 and "keep out" not in r.text


@pytest.mark.parametrize("image", ["http://127.0.0.1:1/x.png", "file:///etc/passwd", "/etc/passwd", "../outside/secret.txt"])
def test_images_are_inline_only(guarded, image):
    served, canary = guarded
    before = snapshot(canary)
    r = requests.post(f"{served.url}/sdapi/v1/img2img", json={"init_images": [image], "steps": 2}, auth=AUTH, timeout=30)
    assert r.status_code == 422 and set(r.json()) == {"error", "detail", "body", "errors"}
    assert snapshot(canary) == before
    assert list((served.jobs_dir / "api").iterdir()) == []


def test_request_bytes_are_capped(guarded):
    served, _ = guarded
    r = requests.post(f"{served.url}/sdapi/v1/txt2img", json={"prompt": "x" * 300_000}, auth=AUTH, timeout=30)
    assert r.status_code == 413


def test_decoded_pixels_are_capped(guarded):
    served, _ = guarded
    big = scene().resize((128, 128))  # 16384 pixels > the cap of 10000, a few KB as PNG
    r = requests.post(f"{served.url}/sdapi/v1/img2img", json={"init_images": [webuiapi.raw_b64_img(big)], "steps": 2},
                      auth=AUTH, timeout=30)
    assert r.status_code == 413 and "10000 pixels" in r.json()["detail"]
    assert list((served.jobs_dir / "api").iterdir()) == []
