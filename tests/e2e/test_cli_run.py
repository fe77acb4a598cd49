"""`rotoscope run` and `rotoscope preview` end to end with the tiny diffusers model.

In-process through typer's CliRunner, except the SIGKILL test (a real child process killed
mid-run). Real PyAV decode/encode, the real job store and a real diffusers pipeline
(tiny weights, built once per session by the ``tiny_model_dir`` fixture).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.jobs.infotext import parse_infotext
from rotoscope.jobs.preview import LABEL_HEIGHT
from tests.clips import gif_frames
from tests.frames import frame_digests as digests

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "cup.mp4"

MAIN = ["run", str(SAMPLE), "-p", "a cup", "--model", "tiny", "--seed", "3", "--duration", "1.5", "--fps", "10",
        "--width", "192"]
# A few small frames, for tests about options rather than pictures.
SMALL = ["--duration", "0.2", "--fps", "10", "--width", "64"]


def invoke(*args, env: dict | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert "error:" not in result.stderr
    return result


def error_line(result) -> str:
    """The single 'error: …' line, the last thing on stderr, after exit code 2."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


def as_json(result) -> dict:
    return json.loads(ok(result).stdout)


def job_spec(job: Path) -> dict:
    return json.loads((job / "job.json").read_text())["spec"]




def check_infotext(text: str | bytes, seed: int = 3, prompt: str = "a cup") -> None:
    if isinstance(text, bytes):
        text = text.decode()
    assert text.startswith(prompt + "\n"), text
    assert f"Seed: {seed}," in text and "Model: tiny," in text and "Denoising strength: 0.3," in text
    assert "Steps: 20," in text and "Sampler: Euler a," in text


# -- one full run, shared by the tests below ----------------------------------------------------


@pytest.fixture(scope="module")
def main_run(tiny_model_dir, tmp_path_factory):
    """The README command: 15 frames (1.5 s at 10 fps) into a GIF, an MP4 and a PNG folder."""
    d = tmp_path_factory.mktemp("run")
    outputs = ["-o", d / "X.gif", "-o", d / "X.mp4", "-o", f"{d / 'frames'}/"]
    args = [*MAIN, "--job", d / "J", *outputs]
    result = ok(invoke(*args))
    return d, args, result


def test_run_writes_outputs_and_job_dir(main_run):
    d, _, result = main_run
    assert "15 frames stylised, 0 resumed, seed 3" in result.stdout
    images, delays, info = gif_frames(d / "X.gif")
    assert len(images) == 15 and delays == [100] * 15
    assert images[0].shape[:2] == (144, 192)
    check_infotext(info["comment"])

    job = d / "J"
    record = json.loads((job / "job.json").read_text())
    assert record["spec"]["style"]["seed"] == 3 and record["spec"]["style"]["prompt"] == "a cup"
    assert record["spec"]["model"]["model"] == "tiny"
    assert set(record["versions"]) == {"rotoscope", "torch", "diffusers", "av"}
    assert len(list((job / "source").glob("*.png"))) == 15
    frames = sorted((job / "frames").glob("*.png"))
    assert [p.name for p in frames] == [f"{i:05d}.png" for i in range(15)]
    for path in frames + sorted((d / "frames").glob("*.png")):
        with Image.open(path) as image:
            assert image.size == (192, 144)
            check_infotext(image.info["parameters"])
    assert len(list((d / "frames").glob("*.png"))) == 15


def test_mp4_carries_infotext_and_the_audio(main_run):
    d, _, _ = main_run
    with av.open(str(d / "X.mp4")) as container:
        assert container.streams.video[0].frames == 15
        assert container.streams.audio, "the sample's audio span goes with the MP4"
        check_infotext(container.metadata.get("comment", ""))


def test_same_command_again_computes_nothing(main_run):
    d, args, _ = main_run
    before = digests(d / "J" / "frames")
    data = as_json(invoke(*args, "--json"))
    assert (data["frames"], data["computed"], data["resumed"], data["seed"]) == (15, 0, 15, 3)
    assert digests(d / "J" / "frames") == before
    assert len((d / "J" / "log.jsonl").read_text().splitlines()) == 15
    check_infotext(data["infotext"])


# -- killed and resumed -------------------------------------------------------------------------


def test_sigkill_midway_then_rerun_computes_each_frame_once(tiny_model_dir, tmp_path):
    job = tmp_path / "J"
    args = ["run", str(SAMPLE), "-p", "a cup", "--model", "tiny", "--seed", "3", "--duration", "4", "--fps", "10",
            "--width", "96", "--job", str(job), "-o", str(tmp_path / "X.gif")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    stderr = (tmp_path / "stderr.txt").open("wb")  # a file, not a pipe nobody reads while it runs
    proc = subprocess.Popen([sys.executable, "-m", "rotoscope.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=stderr, env=env, start_new_session=True)
    log = job / "log.jsonl"
    deadline = time.time() + 300  # generous: a shared, busy machine can be very slow
    try:
        while time.time() < deadline and proc.poll() is None:
            if log.exists() and len(log.read_text().splitlines()) >= 3:
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        stderr.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()
    done = digests(job / "frames")
    assert 3 <= len(done) < 40, "the run should have been killed midway"
    logged = {json.loads(line)["frame"] for line in log.read_text().splitlines()}
    # a frame's PNG is renamed into place just before its log line is appended: a kill in
    # between (a window of microseconds) leaves at most one finished frame without a line
    unlogged = {int(name[:5]) for name in done} - logged
    assert len(unlogged) <= 1
    assert not (tmp_path / "X.gif").exists()  # outputs appear only when complete

    data = as_json(invoke(*args, "--json"))
    assert data["frames"] == 40 and data["resumed"] == len(done) and data["computed"] == 40 - len(done)
    computed = [json.loads(line)["frame"] for line in log.read_text().splitlines()]
    assert sorted(computed) == sorted(set(range(40)) - unlogged)  # every frame once over both runs
    after = digests(job / "frames")
    assert len(after) == 40
    assert all(after[name] == digest for name, digest in done.items())  # finished frames untouched
    assert len(gif_frames(tmp_path / "X.gif")[0]) == 40


# -- a seed drawn once --------------------------------------------------------------------------


def test_seed_minus_one_is_drawn_printed_recorded_and_kept(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default job dir: jobs/<source>-<hash> here
    args = ["run", SAMPLE, "-p", "a cup", "--model", "tiny", "--seed", "-1", *SMALL, "-o", "out.gif", "--json"]
    first = invoke(*args)
    data = as_json(first)
    match = re.search(r"seed drawn: (\d+)", first.stderr)
    assert match, first.stderr
    seed = int(match.group(1))
    assert data["seed"] == seed and data["computed"] == 2
    job = Path(data["job"])
    assert job.parent.name == "jobs" and job_spec(job)["style"]["seed"] == seed
    assert f"Seed: {seed}," in data["infotext"]

    again = invoke(*args)
    data = as_json(again)
    assert "seed drawn" not in again.stderr
    assert (data["seed"], data["computed"], data["resumed"], data["job"]) == (seed, 0, 2, str(job))
    assert job_spec(job)["style"]["seed"] == seed


# -- --from: settings from an earlier output or pasted infotext ----------------------------------


@pytest.fixture(scope="module")
def styled(tiny_model_dir, tmp_path_factory):
    """A small run with non-default settings, whose outputs carry its infotext."""
    d = tmp_path_factory.mktemp("from")
    ok(invoke("run", SAMPLE, "-p", "ink cup, thick lines", "-n", "blurry", "--model", "tiny", "--seed", "17",
              "--strength", "0.45", "--steps", "6", "--sampler", "DPM++ 2M Karras", "--cfg", "5.5", *SMALL,
              "--job", d / "J", "-o", d / "Y.gif", "-o", f"{d / 'frames'}/"))
    return d


LOOK = {"prompt": "ink cup, thick lines", "negative_prompt": "blurry", "seed": 17, "strength": 0.45, "steps": 6,
        "sampler": "DPM++ 2M Karras", "cfg_scale": 5.5, "width": 64, "height": 48}


def look(job: Path) -> dict:
    style = job_spec(job)["style"]
    return {k: style[k] for k in LOOK}


@pytest.mark.parametrize("where", ["gif", "png", "text"])
def test_run_from_recreates_the_look(styled, tmp_path, where):
    source = {"gif": styled / "Y.gif", "png": styled / "frames" / "00001.png"}.get(where)
    if source is None:  # pasted infotext
        with Image.open(styled / "frames" / "00001.png") as image:
            source = image.info["parameters"]
    job = tmp_path / "K"
    ok(invoke("run", SAMPLE, "--from", source, *SMALL, "--job", job, "-o", tmp_path / "Z.gif"))
    assert look(job) == LOOK
    assert job_spec(job)["model"]["model"] == "tiny"
    # same look, same source frames → the very same pictures
    assert digests(job / "frames") == digests(styled / "J" / "frames")


def test_explicit_flags_override_from(styled, tmp_path):
    job = tmp_path / "K"
    ok(invoke("run", SAMPLE, "--from", styled / "Y.gif", "-p", "a red cup", "--seed", "5", "--strength", "0.6",
              *SMALL, "--job", job, "-o", tmp_path / "Z.gif"))
    assert look(job) == {**LOOK, "prompt": "a red cup", "seed": 5, "strength": 0.6}


# -- preview ----------------------------------------------------------------------------------


def test_preview_grid_and_tiles(tiny_model_dir, tmp_path):
    grid = tmp_path / "P" / "grid.png"
    result = ok(invoke("preview", SAMPLE, "--frame", "5", "--seeds", "3", "--strengths", "0.2,0.4", "-p", "cup",
                       "--model", "tiny", "--width", "128", "-o", grid))
    assert "6 tiles" in result.stdout
    tiles = sorted(p for p in grid.parent.glob("grid-seed*.png"))
    assert len(tiles) == 6 and grid.exists()
    seeds = set()
    for tile in tiles:
        found = re.fullmatch(r"grid-seed(\d+)-s([\d.]+)\.png", tile.name)
        assert found, tile.name
        seed, strength = int(found.group(1)), float(found.group(2))
        seeds.add(seed)
        with Image.open(tile) as image:
            assert image.size == (128, 96)
            prompt, _, params = parse_infotext(image.info["parameters"])
        assert prompt == "cup" and params["Seed"] == str(seed) and float(params["Denoising strength"]) == strength
        assert params["Model"] == "tiny"
    # three consecutive seeds from a drawn first one, listed in order
    listed = [int(n) for n in re.findall(r"seed (\d+)  strength 0.2 ", result.stdout)]
    assert len(listed) == 3 and seeds == set(listed)
    assert listed == [(listed[0] + i) % 2**32 for i in range(3)]
    with Image.open(grid) as image:
        assert image.size == (3 * 128, 2 * (96 + LABEL_HEIGHT))
    # tiles at one strength differ by seed; the same seed at the two strengths differs too
    pixels = {t.name: np.asarray(Image.open(t)) for t in tiles}
    assert len({v.tobytes() for v in pixels.values()}) == 6


# -- bad input: exit 2 and one line ------------------------------------------------------------


def bad_run(tmp_path, *extra, env=None):
    return invoke("run", SAMPLE, "-p", "cup", *SMALL, "--job", tmp_path / "J", "-o", tmp_path / "x.gif", *extra, env=env)


@pytest.mark.parametrize("extra, needles", [
    (["--model", "tiny", "--strength", "0"], ["--strength 0 ", "(0, 1]"]),
    (["--model", "tiny", "--strength", "1.5"], ["--strength 1.5", "(0, 1]"]),
    # steps × strength < 1 is not an error: one step runs (tests/stylize/test_speed.py)
])
def test_bad_look_options(tmp_path, extra, needles):
    line = error_line(bad_run(tmp_path, *extra))
    for needle in needles:
        assert needle in line, line
    assert not (tmp_path / "J").exists()  # refused before any work
    assert not (tmp_path / "x.gif").exists()


def test_unknown_sampler_lists_valid_names(tiny_model_dir, tmp_path):
    line = error_line(bad_run(tmp_path, "--model", "tiny", "--sampler", "Euler b"))
    assert "sampler 'Euler b' is not known" in line
    for name in ("'Euler a'", "'Euler'", "'DPM++ 2M Karras'", "'DDIM'", "'UniPC'"):
        assert name in line
    assert not (tmp_path / "x.gif").exists()
    assert not (tmp_path / "J").exists()  # checked with the other options, before any work


def test_missing_model_folder(tmp_path):
    line = error_line(bad_run(tmp_path, "--model", "/no/such/folder"))
    assert "/no/such/folder does not exist" in line and "diffusers folder" in line


def test_broken_model_file(tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(os.urandom(100))
    line = error_line(bad_run(tmp_path, "--model", broken))
    assert "broken.safetensors is damaged" in line and "download it again" in line


def test_cuda_without_gpu(tiny_model_dir, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    line = error_line(bad_run(tmp_path, "--model", "tiny", "--device", "cuda"))
    assert "CUDA" in line and "no GPU" in line and "--device cpu" in line


def test_hub_model_offline_and_not_cached(tmp_path):
    line = error_line(bad_run(tmp_path, "--model", "org/not-cached-model", env={"HF_HUB_OFFLINE": "1"}))
    assert "'org/not-cached-model'" in line and "HF_HUB_OFFLINE" in line
    # the ways out: download it elsewhere and pass the folder, or a single file with its configs
    assert "hf download org/not-cached-model --local-dir DIR" in line and "--model DIR" in line
    assert ".safetensors" in line and "--model-config" in line


def test_missing_lora(tiny_model_dir, tmp_path):
    line = error_line(bad_run(tmp_path, "--model", "tiny", "--lora", tmp_path / "missing.safetensors"))
    assert "LoRA file" in line and "missing.safetensors does not exist" in line and "--lora" in line


def test_corrected_model_after_a_model_error_runs(tiny_model_dir, tmp_path):
    error_line(bad_run(tmp_path, "--model", "/no/such/folder"))
    ok(bad_run(tmp_path, "--model", "tiny", "--seed", "1"))


def test_empty_prompt_is_allowed(tiny_model_dir, tmp_path):
    result = ok(invoke("run", SAMPLE, "-p", "", "--model", "tiny", "--seed", "1", *SMALL, "--job", tmp_path / "J",
                       "-o", tmp_path / "x.gif", "--json"))
    data = json.loads(result.stdout)
    assert data["computed"] == 2 and data["infotext"].startswith("\nSteps: 20,")
    assert len(gif_frames(tmp_path / "x.gif")[0]) == 2
