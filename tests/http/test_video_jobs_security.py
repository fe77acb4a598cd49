"""The video-job API's refusals: each one's status, and nothing outside the jobs and media folders read,
fetched or written (a canary file next to them stays unread and unchanged; no file appears elsewhere)."""

from __future__ import annotations

import base64
import os
import socket
import threading

import pytest
import requests

from tests.clips import moving_box_clip

from .conftest import start, stop
from .test_video_jobs import LOOK, wait

AUTH = ("ann", "s3cret")
SECRET = "keep out: canary 7f3a"


class Listener:
    """A loopback port that counts the connections made to it (a URL source must never be fetched)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture(scope="module")
def guarded(models_dir, tmp_path_factory):
    """--api-auth, small caps, a media folder with links out of it, and a canary folder outside it."""
    root = tmp_path_factory.mktemp("vguarded")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    clip = moving_box_clip(outside / "clip.mp4", frames=8, size=(64, 48))
    media = root / "media"
    media.mkdir()
    (media / "clip.mp4").write_bytes(clip.read_bytes())
    os.symlink(outside / "clip.mp4", media / "link.mp4")  # a link out of the folder
    os.symlink(outside, media / "linkdir")
    proc, served = start(root, models_dir, "--api-auth", ":".join(AUTH), "--max-request", "200KB",
                         "--max-frames", "4", "--max-pixels", "1000000", "--media-dir", str(media), auth=AUTH)
    listener = Listener()
    yield served, root, listener
    stop(proc)
    listener.sock.close()


def everything(root, skip=("jobs",)):
    """Every path under ``root`` but the jobs folder, with its size and times (what was written or read)."""
    found = {}
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if rel.parts[0] in skip:
            continue
        st = p.lstat()
        found[str(rel)] = (st.st_size, st.st_mtime_ns)
    return found


def job_folders(served):
    folder = served.jobs_dir / "video"
    return set(folder.iterdir()) if folder.is_dir() else set()


@pytest.fixture(scope="module")
def finished(guarded):
    """One job that ran (8-frame clip, cut at the server's --max-frames 4)."""
    served, _, _ = guarded
    r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"source": "clip.mp4", "options": LOOK}, auth=AUTH,
                      timeout=120)
    assert r.status_code == 200, r.text
    return wait(served, r.json()["id"], auth=AUTH)


@pytest.mark.parametrize("source, status", [
    ("../outside/secret.txt", 403),
    ("ABSOLUTE", 403),
    ("%2e%2e%2foutside%2fsecret.txt", 403),
    ("..%2Foutside/clip.mp4", 403),
    ("link.mp4", 403),
    ("linkdir/secret.txt", 403),
    ("media/../../outside/clip.mp4", 403),
    ("URL", 422),
    ("file:///etc/passwd", 422),
    ("//127.0.0.1/x.mp4", 422),
    ("missing.mp4", 404),
])
def test_sources_outside_the_media_folder_are_refused(guarded, source, status):
    served, root, listener = guarded
    source = {"ABSOLUTE": str(root / "outside" / "secret.txt"),
              "URL": f"http://127.0.0.1:{listener.port}/clip.mp4"}.get(source, source)
    before, jobs_before = everything(root), job_folders(served)
    r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"source": source, "options": LOOK}, auth=AUTH, timeout=60)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "detail", "body", "errors"}
    assert SECRET not in r.text and str(root) not in r.text
    assert everything(root) == before and job_folders(served) == jobs_before
    assert listener.accepted == 0  # nothing fetched


@pytest.mark.parametrize("options", [
    {"lora": ["../outside/secret.txt"]}, {"mask": str(os.sep) + "etc/passwd"}, {"from_": "../outside/secret.txt"},
    {"vae": "../outside"}, {"model": "../outside/secret.txt"}, {"output": ["../../outside/x.gif"]},
    {"output": ["/tmp/x.gif"]},
])
def test_options_naming_server_files_are_refused(guarded, options):
    served, root, _ = guarded
    before, jobs_before = everything(root), job_folders(served)
    r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"source": "clip.mp4", "options": dict(LOOK, **options)},
                      auth=AUTH, timeout=60)
    assert r.status_code in (404, 422), r.text
    assert SECRET not in r.text
    assert everything(root) == before and job_folders(served) == jobs_before


def test_frames_are_capped(guarded, finished):
    served, root, _ = guarded
    assert finished["state"] == "done" and finished["frames_total"] == 4  # cut at --max-frames
    source = served.jobs_dir / "video" / finished["id"] / "job" / "source"
    assert len(list(source.glob("*.png"))) == 4  # no more decoded
    jobs_before = job_folders(served)
    r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"source": "clip.mp4", "options": dict(LOOK, max_frames=6)},
                      auth=AUTH, timeout=60)
    assert r.status_code == 413 and "cap of 4 frames" in r.json()["detail"]
    assert job_folders(served) == jobs_before


@pytest.mark.parametrize("options, what", [({"width": 8000}, "width × height: 8000x6000"),
                                           ({"height": 4000, "width": 4000, "max_frames": 2}, "width × height"),
                                           ({"process_width": 4096, "process_height": 4096}, "process size")])
def test_frame_pixels_are_capped(guarded, options, what):
    served, root, _ = guarded
    jobs_before = job_folders(served)
    r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"source": "clip.mp4", "options": dict(LOOK, **options)},
                      auth=AUTH, timeout=60)
    assert r.status_code == 413 and what in r.json()["detail"] and "cap of 1000000 pixels" in r.json()["detail"], r.text
    assert job_folders(served) == jobs_before


def test_upload_bytes_are_capped(guarded):
    served, root, _ = guarded
    before, jobs_before = everything(root), job_folders(served)
    for size, status in ((300_000, 413), (100_000, 422)):  # over the cap: refused unread; under: read, not a video
        data = base64.b64encode(os.urandom(size)).decode()
        r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"clip": data, "filename": "big.mp4"}, auth=AUTH,
                          timeout=60)
        assert r.status_code == status, r.text
    assert everything(root) == before and job_folders(served) == jobs_before


@pytest.mark.parametrize("clip, filename, status", [
    ("http://127.0.0.1:1/clip.mp4", "clip.mp4", 422),
    ("not base64 !!", "clip.mp4", 422),
    (base64.b64encode(b"x").decode(), "clip.sh", 422),
    (base64.b64encode(b"not a video at all").decode(), "../../outside/clip.mp4", 422),
])
def test_bad_uploads_are_refused(guarded, clip, filename, status):
    served, root, _ = guarded
    before, jobs_before = everything(root), job_folders(served)
    r = requests.post(f"{served.url}/rotoscope/v1/jobs", json={"clip": clip, "filename": filename}, auth=AUTH, timeout=60)
    assert r.status_code == status, r.text
    assert everything(root) == before and job_folders(served) == jobs_before


@pytest.mark.parametrize("path", [
    "/rotoscope/v1/jobs/..%2f..%2fetc/outputs/x",
    "/rotoscope/v1/jobs/..%2f..%2foutside%2fsecret.txt",
    "/rotoscope/v1/jobs/../../outside/secret.txt",
    "/rotoscope/v1/jobs/%2e%2e/outputs/secret.txt",
    "/rotoscope/v1/jobs/" + "0" * 32 + "/outputs/x.gif",
    "/rotoscope/v1/jobs/" + "A" * 32,
    "/rotoscope/v1/jobs/ID/outputs/..%2frequest.json",
    "/rotoscope/v1/jobs/ID/outputs/..%2f..%2f..%2foutside%2fsecret.txt",
    "/rotoscope/v1/jobs/ID/outputs/request.json",
    "/rotoscope/v1/jobs/ID/outputs/job.json",
    "/rotoscope/v1/jobs/ID/outputs/%2e%2e",
    "/rotoscope/v1/jobs/ID/frames/-1",
    "/rotoscope/v1/jobs/ID/frames/..%2f..%2fjob.json",
])
def test_ids_and_names_in_the_url_reach_nothing_else(guarded, finished, path):
    served, root, _ = guarded
    before = everything(root)
    r = requests.get(served.url + path.replace("ID", finished["id"]), auth=AUTH, timeout=30)
    assert r.status_code in (404, 422), r.text
    assert SECRET not in r.text and '"options"' not in r.text and '"spec"' not in r.text
    assert everything(root) == before


def test_every_route_needs_auth(guarded, finished):
    served, _, _ = guarded
    base = f"{served.url}/rotoscope/v1"
    id = finished["id"]
    routes = [("get", "/schema"), ("get", "/jobs"), ("post", "/jobs"), ("get", f"/jobs/{id}"),
              ("get", f"/jobs/{id}/preview"), ("post", f"/jobs/{id}/cancel"), ("get", f"/jobs/{id}/outputs/output.gif"),
              ("get", f"/jobs/{id}/frames/0"), ("get", f"/jobs/{id}/score")]
    for method, route in routes:
        for auth in (None, (AUTH[0], "wrong")):
            r = requests.request(method, base + route, auth=auth, json={"source": "clip.mp4"}, timeout=30)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Basic", route
    for method, route in routes[:2] + routes[3:5] + routes[6:8]:
        assert requests.request(method, base + route, auth=AUTH, timeout=30).status_code == 200, route
