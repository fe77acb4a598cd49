"""Techniques inside real jobs: gif2gif with the tiny diffusers model or a classic filter, resume after a stop.

No mocks: the tiny SD pipeline (random UNet, trained VAE) through the project's loader, PyAV decode, the job store.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.consistency import ConsistencyOptions
from rotoscope.consistency.attention import CrossFrameController
from rotoscope.core.frames import Frame
from rotoscope.jobs.runner import run_job
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.store import JobDir
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.methods import MethodContext
from rotoscope.methods.gif2gif import Gif2Gif
from rotoscope.metrics import score_frames
from rotoscope.models.options import ModelOptions
from rotoscope.progress import Cancelled
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.options import StyleOptions
from tests.frames import frame_digests as digests

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"
FAST = dict(steps=4, strength=0.5)  # 2 denoising steps


@pytest.fixture(scope="module")
def small() -> list[np.ndarray]:
    return [f.image for f in iter_frames(SAMPLE, MediaOptions(width=128, fps=10, max_frames=4))]


def context(noise="shared", techniques=(), seed=9, sources=None, **knobs) -> MethodContext:
    style = StyleOptions(prompt="a cup", seed=seed, noise=noise, **FAST)
    options = ConsistencyOptions(techniques=list(techniques), **knobs)
    options.validate()
    lookup = (lambda i: sources[i] if 0 <= i < len(sources) else None) if sources else (lambda i: None)
    return MethodContext(build_stylizer(ModelOptions(model="tiny"), style), style, seed, previous=lambda i: None,
                         consistency=options, source=lookup)


def run(frames: list[np.ndarray], ctx: MethodContext) -> list[np.ndarray]:
    return [f.image for f in Gif2Gif().run((Frame(i, i / 10, 0.1, im) for i, im in enumerate(frames)), ctx)]


def diff(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# -- noise modes: shared-noise vs per-frame ----------------------------------------------------------


def test_shared_noise_repeats_a_frame_exactly_per_frame_does_not(tiny_model_dir, small):
    same = [small[0]] * 3
    shared = run(same, context("shared"))
    assert all(np.array_equal(shared[0], o) for o in shared[1:])
    fresh = run(same, context("per-frame"))
    assert diff(fresh[0], fresh[1]) > 1.0 and diff(fresh[1], fresh[2]) > 1.0


# -- cross-frame attention ------------------------------------------------------------------------------


def test_cross_frame_attention_on_identical_frames_gives_identical_outputs(tiny_model_dir, small):
    ctx = context("shared", ["cross-frame-attention"])
    outputs = run([small[1]] * 3, ctx)
    for o in outputs[1:]:
        assert np.abs(o.astype(int) - outputs[0]).max() <= 1  # attention over repeated keys: the same, up to float rounding
    assert ctx.stylizer.attention.anchor  # it recorded the first frame's self-attention inputs


def test_cross_frame_attention_reads_the_anchor_frames_keys_and_values(tiny_model_dir):
    """At the UNet: a frame reading its own recording is unchanged; reading another frame's changes the result."""
    stylizer = build_stylizer(ModelOptions(model="tiny"), StyleOptions(prompt="a cup", **FAST))
    unet = stylizer.pipe.unet
    controller = CrossFrameController("first")
    stylizer.use_cross_frame_attention(controller)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 4, 12, 16, generator=g), torch.randn(1, 4, 12, 16, generator=g)
    text = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
    t = torch.tensor([500])
    with torch.inference_mode():
        plain_a, plain_b = unet(a, t, text).sample, unet(b, t, text).sample  # controller inactive: stock attention
        with controller.frame():
            recorded = unet(a, t, text).sample  # no anchor yet: records only
        controller.commit()
        with controller.frame():
            again = unet(a, t, text).sample
        with controller.frame():
            crossed = unet(b, t, text).sample
    assert torch.equal(recorded, plain_a)
    assert torch.allclose(again, plain_a, atol=1e-5)
    assert (crossed - plain_b).abs().max() > 1e-4


# -- resume: sequential techniques restart from the finished frames ---------------------------------------


class StopAfter:
    """A Progress that asks the run to stop after ``n`` stylised frames (as Ctrl-C / a kill would)."""

    def __init__(self, n: int, event: threading.Event) -> None:
        self.n, self.event, self.stage, self.count = n, event, None, 0

    def start(self, stage, total):
        self.stage = stage

    def advance(self, count=1):
        if self.stage == "stylize":
            self.count += count
            if self.count >= self.n:
                self.event.set()

    def finish(self):
        pass


def job_spec(tmp_path: Path, name: str, model="classic:watercolor", techniques=("flow-warp", "color-match", "loopback"),
             frames=8, **knobs) -> JobSpec:
    return JobSpec(source=str(SAMPLE), media=MediaOptions(fps=10, width=128, max_frames=frames),
                   model=ModelOptions(model=model), style=StyleOptions(prompt="a cup", seed=5, **FAST),
                   output=OutputOptions(outputs=[str(tmp_path / name) + "/"], overwrite=True),
                   consistency=ConsistencyOptions(techniques=list(techniques), **knobs))




def pixel_digests(folder: Path) -> dict[str, str]:
    """Digests of the pixels alone (the PNGs' infotext names the techniques, so file bytes differ)."""
    return {p.name: hashlib.sha256(np.asarray(Image.open(p)).tobytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def test_sequential_techniques_resume_exactly_after_a_stop(tmp_path):
    techniques = ("flow-warp", "color-match", "loopback", "deflicker")
    whole = run_job(job_spec(tmp_path, "whole", techniques=techniques), job_dir=tmp_path / "a")
    assert whole.frames_computed == 8
    stop = threading.Event()
    with pytest.raises(Cancelled):
        run_job(job_spec(tmp_path, "cut", techniques=techniques), job_dir=tmp_path / "b", progress=StopAfter(3, stop),
                cancel=stop)
    assert len(list((tmp_path / "b" / "frames").glob("*.png"))) == 3
    resumed = run_job(job_spec(tmp_path, "cut", techniques=techniques), job_dir=tmp_path / "b")
    assert (resumed.frames_computed, resumed.frames_resumed) == (5, 3)
    assert digests(tmp_path / "a" / "frames") == digests(tmp_path / "b" / "frames")
    assert digests(tmp_path / "whole") == digests(tmp_path / "cut")


def test_cross_frame_attention_resumes_after_a_stop(tiny_model_dir, tmp_path):
    techniques = ("cross-frame-attention",)
    spec = lambda name: job_spec(tmp_path, name, model="tiny", techniques=techniques, frames=5)  # noqa: E731
    run_job(spec("whole"), job_dir=tmp_path / "a")
    stop = threading.Event()
    with pytest.raises(Cancelled):
        run_job(spec("cut"), job_dir=tmp_path / "b", progress=StopAfter(3, stop), cancel=stop)
    resumed = run_job(spec("cut"), job_dir=tmp_path / "b")
    assert (resumed.frames_computed, resumed.frames_resumed) == (2, 3)
    a, b = digests(tmp_path / "a" / "frames"), digests(tmp_path / "b" / "frames")
    assert [a[k] for k in sorted(a)][:3] == [b[k] for k in sorted(b)][:3]
    for name in sorted(a)[3:]:  # the rebuilt references are the anchor (exact) and the previous frame (close)
        x = np.asarray(Image.open(tmp_path / "a" / "frames" / name))
        y = np.asarray(Image.open(tmp_path / "b" / "frames" / name))
        assert diff(x, y) < 0.5


# -- deflicker: a post-filter while encoding; the job's frames stay as the model made them -------------------


def test_deflicker_filters_outputs_not_the_stored_frames(tmp_path):
    plain = run_job(job_spec(tmp_path, "plain", techniques=()), job_dir=tmp_path / "p")
    steady = run_job(job_spec(tmp_path, "steady", techniques=("deflicker",), deflicker_strength=0.7),
                     job_dir=tmp_path / "d")
    assert plain.frames_computed == steady.frames_computed == 8
    assert pixel_digests(tmp_path / "p" / "frames") == pixel_digests(tmp_path / "d" / "frames")  # stored frames untouched
    assert digests(tmp_path / "plain") != digests(tmp_path / "steady")
    job = JobDir(tmp_path / "d")

    def score(folder: Path):
        images = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))]
        return score_frames((im, job.source_image(i)) for i, im in enumerate(images))

    assert score(tmp_path / "steady").warp_error < score(tmp_path / "plain").warp_error


# -- the CLI ------------------------------------------------------------------------------------------------------


def test_cli_run_records_consistency_and_noise_mode(tmp_path):
    out = tmp_path / "out.gif"
    result = CliRunner().invoke(app, ["run", str(SAMPLE), "--model", "classic:cartoon", "--seed", "3", "--duration", "0.5",
                                      "--fps", "10", "--width", "96", "--job", str(tmp_path / "job"), "-o", str(out),
                                      "--consistency", "per-frame,flow-warp,deflicker", "--flow-warp-weight", "0.4"])
    assert result.exit_code == 0, result.output
    assert out.exists()
    recorded = json.loads((tmp_path / "job" / "job.json").read_text())["spec"]
    assert recorded["style"]["noise"] == "per-frame"
    assert recorded["consistency"]["techniques"] == ["flow-warp", "deflicker"]
    assert recorded["consistency"]["flow_warp_weight"] == 0.4
