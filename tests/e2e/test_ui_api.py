"""The web UI's HTTP API (gradio named endpoints), called over HTTP with gradio_client as the README shows."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.e2e.conftest import free_port


@pytest.fixture(scope="module")
def client(ui_server):
    from gradio_client import Client

    return Client(ui_server.url, verbose=False)


def test_endpoints_are_listed(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/probe", "/convert", "/preview", "/run", "/jobs", "/resume", "/cancel"} <= names


def test_probe_and_convert(client, sample_clip):
    from gradio_client import handle_file

    facts = client.predict(handle_file(str(sample_clip)), api_name="/probe")
    assert facts["frame_count"] == 217 and (facts["width"], facts["height"]) == (640, 480)
    gif, info = client.predict(handle_file(str(sample_clip)), {"duration": 1, "fps": 10, "width": 96},
                               api_name="/convert")
    with Image.open(gif) as image:
        assert image.n_frames == 10 == info["frames"] and image.size == (96, 72)


def test_run_returns_the_gif(client, sample_clip):
    """The README example: upload a clip, run it with the tiny model, get the GIF back."""
    from gradio_client import handle_file

    options = {"prompt": "ink drawing", "model": "tiny", "seed": 7, "steps": 4, "strength": 0.5,
               "duration": 1, "fps": 10, "width": 128, "formats": ["gif", "mp4"], "consistency": "color-match"}
    gif, mp4, result = client.predict(handle_file(str(sample_clip)), None, options, api_name="/run")
    with Image.open(gif) as image:
        assert image.n_frames == 10 and image.size == (128, 96)
    assert mp4.endswith(".mp4")
    assert result["seed"] == 7 and result["frames"] == 10 and result["computed"] == 10
    assert "Seed: 7" in result["infotext"] and "Model: tiny" in result["infotext"]
    assert "Consistency: color-match" in result["infotext"]
    # the consistency report of `rotoscope score` comes with the result
    score = result["score"]
    assert score["frames"] == 10 and 0 < score["ssim"] <= 1 and score["warp_error"] > 0
    assert abs(score["added_flicker"] - (score["warp_error"] - score["source_warp_error"])) < 1e-3

    # the same request again resumes the finished job: nothing is recomputed
    _, _, again = client.predict(handle_file(str(sample_clip)), None, options, api_name="/run")
    assert again["job"] == result["job"] and again["computed"] == 0 and again["resumed"] == 10

    jobs = {job["name"]: job for job in client.predict(api_name="/jobs")}
    assert jobs[result["job"]]["status"] == "finished" and jobs[result["job"]]["frames_done"] == 10


def test_run_takes_the_methods_own_options(client, ui_server, sample_clip):
    """Keyframe settings and ControlNet units go over the API under the Python API's names."""
    import json

    from gradio_client import handle_file

    options = {"method": "keyframes", "keys": "every:5", "plate": "1x1", "control": "canny:0.5", "model": "tiny",
               "seed": 3, "steps": 4, "strength": 0.5, "duration": 1, "fps": 10, "width": 128, "formats": ["gif"]}
    gif, _, result = client.predict(handle_file(str(sample_clip)), None, options, api_name="/run")
    assert result["frames"] == 10 and "Method: keyframes" in result["infotext"]
    spec = json.loads((ui_server.jobs_dir / result["job"] / "job.json").read_text())["spec"]
    assert (spec["keys"]["keys"], spec["keys"]["plate"]) == ("every:5", "1x1")
    assert [(unit["type"], unit["weight"]) for unit in spec["control"]] == [("canny", 0.5)]


def test_errors_are_the_library_messages(client, sample_clip):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"--strength 1.5 must be in \(0, 1\]"):
        client.predict(handle_file(str(sample_clip)), None, {"model": "classic:cartoon", "strength": 1.5}, api_name="/run")
    with pytest.raises(AppError, match="unknown option 'colour'"):
        client.predict(handle_file(str(sample_clip)), None, {"colour": "red"}, api_name="/run")
    # the old name of the output width gets the one-line rename, not a silent default
    with pytest.raises(AppError, match=r"scale_width \(--scale-width\) is now width \(--width\)"):
        client.predict(handle_file(str(sample_clip)), None, {"model": "classic:cartoon", "scale_width": 96}, api_name="/run")


def test_jobs_survive_a_restart(tmp_path, sample_clip):
    """A job run on one server is listed, and resumes (redoing only asked frames), on the next one over the same folder."""
    from gradio_client import Client, handle_file

    from rotoscope.ui.server import UIConfig, start

    jobs = tmp_path / "jobs"
    options = {"model": "classic:pencil", "seed": 5, "duration": 0.5, "fps": 10, "width": 96, "job": "pencil-cup"}
    demo, url = start(UIConfig(port=free_port(), jobs_dir=jobs))
    try:
        _, _, first = Client(url, verbose=False).predict(handle_file(str(sample_clip)), None, options, api_name="/run")
    finally:
        demo.close()
    assert first["job"] == "pencil-cup" and first["computed"] == 5

    demo, url = start(UIConfig(port=free_port(), jobs_dir=jobs))
    try:
        client = Client(url, verbose=False)
        listed = {job["name"]: job for job in client.predict(api_name="/jobs")}
        assert listed["pencil-cup"]["status"] == "finished"
        gif, _, redone = client.predict("pencil-cup", "1-2", api_name="/resume")
    finally:
        demo.close()
    assert redone["computed"] == 2 and redone["resumed"] == 3 and redone["seed"] == 5
    with Image.open(gif) as image:
        assert image.n_frames == 5
