"""The video-job API (``/rotoscope/v1``) on a real ``rotoscope serve``: schema, queue, status, outputs, cancel,
the model shared with img2img, and resume after the server is killed (no finished frame computed again)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
import requests
import webuiapi
from PIL import Image

from rotoscope import api
from rotoscope.http.vjob_paths import SERVER_FILES
from tests.clips import moving_box_clip

from .conftest import start, stop
from .test_sdapi import scene

LOOK = {"prompt": "ink drawing", "seed": 3, "steps": 3, "strength": 0.5}
SLOW = {"prompt": "ink drawing", "seed": 5, "steps": 40, "strength": 1.0}  # ~0.7 s a frame on the tiny model


def clip_b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def submit(served, *, auth=None, **body) -> requests.Response:
    return requests.post(f"{served.url}/rotoscope/v1/jobs", json=body, auth=auth, timeout=120)


def status(served, id: str, auth=None) -> dict:
    r = requests.get(f"{served.url}/rotoscope/v1/jobs/{id}", auth=auth, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def wait(served, id: str, until=lambda s: s["state"] in ("done", "failed", "cancelled"), auth=None) -> dict:
    while True:  # no time is asserted: the test's own timeout bounds it
        found = status(served, id, auth)
        if until(found):
            return found
        time.sleep(0.05)


def job_folders(served) -> set[Path]:
    folder = served.jobs_dir / "video"
    return set(folder.iterdir()) if folder.is_dir() else set()


def decode(data: bytes) -> list[np.ndarray]:
    """Frames of a GIF or MP4 (PyAV); of an animated WebP (Pillow: FFmpeg's WebP decoder has no animation)."""
    if data[:4] == b"RIFF":
        with Image.open(io.BytesIO(data)) as image:
            return [np.asarray(image.seek(i) or image.convert("RGB")) for i in range(image.n_frames)]
    with av.open(io.BytesIO(data)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return moving_box_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=8, size=(64, 48))


@pytest.fixture(scope="module")
def vserver(models_dir, clip, tmp_path_factory):
    root = tmp_path_factory.mktemp("vjobs")
    media = root / "media"
    media.mkdir()
    (media / "clip.mp4").write_bytes(clip.read_bytes())
    proc, served = start(root, models_dir, "--media-dir", str(media))
    served.media_dir = media
    yield served
    stop(proc)


def test_schema_is_the_option_model(vserver):
    schema = requests.get(f"{vserver.url}/rotoscope/v1/schema", timeout=30).json()
    props = schema["properties"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    steps = api.option("steps")
    assert props["steps"] == {"type": "integer", "minimum": 1, "maximum": 150, "default": 20,
                              "description": steps.help, "title": "--steps"}
    assert props["method"]["enum"] == list(api.option("method").choice_list())
    assert props["strength"]["exclusiveMinimum"] == 0 and props["strength"]["maximum"] == 1
    assert {"const": -1} in props["seed"]["anyOf"]  # -1 (random) allowed outside the range
    assert props["max_frames"]["anyOf"][1] == {"type": "null"}
    assert props["model"]["enum"] == ["tiny", "mini"]
    assert props["output"]["default"] == ["output.gif"]
    served_keys = set(props)
    for info in api.options_table():  # every option but the ones naming server files, each with its help
        if info.key in SERVER_FILES:
            assert info.key not in served_keys
        else:
            assert props[info.key]["description"] == info.help or info.key in ("model", "output")


def test_upload_runs_and_equals_the_python_api(vserver, clip, tmp_path):
    r = submit(vserver, clip=clip_b64(clip), filename="clip.mp4",
               options=dict(LOOK, output=["out.gif", "out.mp4", "out.webp"]))
    assert r.status_code == 200, r.text
    id = r.json()["id"]
    assert len(id) == 32 and int(id, 16) >= 0
    done = wait(vserver, id)
    assert done["state"] == "done", (done, done.get("error"))
    assert done["frames_done"] == done["frames_total"] == 8 and done["error"] is None
    assert done["outputs_ready"] == ["out.gif", "out.mp4", "out.webp"]
    want = api.stylize(clip, tmp_path / "want.gif", job_dir=tmp_path / "job", model="tiny", **LOOK)
    base = f"{vserver.url}/rotoscope/v1/jobs/{id}"
    with zipfile.ZipFile(io.BytesIO(requests.get(f"{base}/outputs/frames.zip", timeout=30).content)) as z:
        names = sorted(z.namelist())
        assert names == [f"{i:05d}.png" for i in range(8)]
        for name in names:
            got = np.asarray(Image.open(io.BytesIO(z.read(name))).convert("RGB"))
            assert np.array_equal(got, np.asarray(Image.open(want.job_dir / "frames" / name).convert("RGB")))
    third = requests.get(f"{base}/frames/3", timeout=30)
    assert third.headers["content-type"] == "image/png"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(third.content)).convert("RGB")),
                          np.asarray(Image.open(want.job_dir / "frames" / "00003.png").convert("RGB")))
    for name in ("out.gif", "out.mp4", "out.webp"):
        out = requests.get(f"{base}/outputs/{name}", timeout=30)
        assert out.status_code == 200 and len(decode(out.content)) == 8
    assert Image.open(io.BytesIO(requests.get(f"{base}/preview", timeout=30).content)).size == (64, 48)
    score = requests.get(f"{base}/score", timeout=120).json()
    assert score["frames"] == 8 and score["ssim"] > 0
    listing = requests.get(f"{vserver.url}/rotoscope/v1/jobs", timeout=30)
    assert {"id": id, "state": "done"} in listing.json()["jobs"]
    for text in (listing.text, requests.get(base, timeout=30).text):
        assert str(vserver.jobs_dir) not in text and str(vserver.jobs_dir.resolve()) not in text


def test_source_in_the_media_folder(vserver):
    r = submit(vserver, source="clip.mp4", options=dict(LOOK, max_frames=3))
    assert r.status_code == 200, r.text
    done = wait(vserver, r.json()["id"])
    assert done["state"] == "done" and done["frames_total"] == 3
    gif = requests.get(f"{vserver.url}/rotoscope/v1/jobs/{done['id']}/outputs/output.gif", timeout=30)
    assert len(decode(gif.content)) == 3


@pytest.mark.parametrize("options, detail", [
    ({"steps": 0}, "--steps 0 must be between 1 and 150"),
    ({"method": "nope"}, "--method 'nope' is not known"),
    ({"cfg": 7}, "cfg (--cfg) is now cfg_scale"),
    ({"strenght": 0.3}, "did you mean strength?"),
    ({"consistency": "loopback", "flow_warp_weight": 0.5}, "flow-warp"),
    ({"output": ["../x.gif"]}, "bare file names"),
    ({"output": ["frames.zip"]}, "frames.zip is the name of the frames' archive"),
    ({"output": ["out.txt"]}, "out.txt"),
])
def test_bad_options_are_422_with_the_option_message(vserver, clip, options, detail):
    before = job_folders(vserver)
    r = submit(vserver, source="clip.mp4", options=options)
    assert r.status_code == 422 and detail in r.json()["detail"], r.text
    assert job_folders(vserver) == before  # nothing is queued nor left behind


def test_cancel_stops_a_running_job_and_skips_a_queued_one(vserver, clip):
    running = submit(vserver, source="clip.mp4", options=SLOW).json()["id"]
    queued = submit(vserver, source="clip.mp4", options=LOOK).json()["id"]
    gone = vserver.media_dir / "gone.mp4"
    gone.write_bytes(clip.read_bytes())
    fails = submit(vserver, source="gone.mp4", options=LOOK).json()["id"]
    gone.unlink()  # before its turn: the job fails, saying why without the server's folders
    wait(vserver, running, until=lambda s: s["frames_done"] >= 1)
    assert status(vserver, queued)["state"] == "queued"
    assert requests.post(f"{vserver.url}/rotoscope/v1/jobs/{queued}/cancel", timeout=30).json()["state"] == "cancelled"
    eta = status(vserver, running)["eta_seconds"]
    assert eta is not None and eta > 0
    requests.post(f"{vserver.url}/rotoscope/v1/jobs/{running}/cancel", timeout=30)
    ended = wait(vserver, running)
    assert ended["state"] == "cancelled" and ended["frames_done"] < 8 and ended["outputs_ready"] == []
    gone = requests.get(f"{vserver.url}/rotoscope/v1/jobs/{running}/outputs/output.gif", timeout=30)
    assert gone.status_code == 409
    assert status(vserver, queued)["state"] == "cancelled"
    assert not (vserver.jobs_dir / "video" / queued / "job" / "job.json").exists()  # never started
    failed = wait(vserver, fails)
    assert failed["state"] == "failed" and "gone.mp4 is not in the server's media folder" in failed["error"]
    assert str(vserver.media_dir) not in failed["error"] and str(vserver.jobs_dir) not in failed["error"]


def test_img2img_waits_for_the_video_job(vserver):
    """One model, one user at a time: an img2img sent while a video job runs is answered after the job ends."""
    id = submit(vserver, source="clip.mp4", options=dict(SLOW, steps=16)).json()["id"]
    first = wait(vserver, id, until=lambda s: s["frames_done"] >= 1)
    assert first["state"] == "running" and first["frames_done"] < 8
    busy = requests.get(f"http://127.0.0.1:{vserver.port}/sdapi/v1/progress", timeout=10).json()
    assert busy["state"]["job_count"] == 1  # not idle: a client's util_wait_for_ready waits for the job
    webuiapi.WebUIApi(port=vserver.port).img2img(images=[scene()], steps=2, seed=1, width=64, height=64)
    after = status(vserver, id)
    assert after["state"] == "done" and after["frames_done"] == 8


def frame_marks(folder: Path) -> dict[str, tuple[str, int, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(folder.glob("[0-9]*.png"))}


def test_resume_after_the_server_is_killed(models_dir, clip, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "clip.mp4").write_bytes(clip.read_bytes())
    proc, served = start(tmp_path, models_dir, "--media-dir", str(media))
    try:
        id = submit(served, source="clip.mp4", options=dict(SLOW, steps=24, output=["out.gif", "out.mp4"])).json()["id"]
        wait(served, id, until=lambda s: s["frames_done"] >= 2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        stop(proc)
    frames = served.jobs_dir / "video" / id / "job" / "frames"
    kept = frame_marks(frames)
    assert 2 <= len(kept) < 8, kept  # killed mid-job
    log_lines = (served.jobs_dir / "video" / id / "job" / "log.jsonl").read_text().splitlines()
    proc, again = start(tmp_path, models_dir, "--media-dir", str(media))  # same jobs folder
    try:
        assert again.jobs_dir == served.jobs_dir
        done = wait(again, id)
        assert done["state"] == "done" and done["frames_done"] == done["frames_total"] == 8, done
        now = frame_marks(frames)
        assert {k: now[k] for k in kept} == kept  # no finished frame computed again (same bytes, time, inode)
        log = (served.jobs_dir / "video" / id / "job" / "log.jsonl").read_text().splitlines()
        assert log[:len(log_lines)] == log_lines
        computed_after = {json.loads(line)["frame"] for line in log[len(log_lines):]}
        assert computed_after == set(range(8)) - {int(name[:5]) for name in kept}  # only the missing frames
        for name in ("out.gif", "out.mp4"):
            out = requests.get(f"{again.url}/rotoscope/v1/jobs/{id}/outputs/{name}", timeout=30)
            assert out.status_code == 200 and len(decode(out.content)) == 8
    finally:
        stop(proc)
