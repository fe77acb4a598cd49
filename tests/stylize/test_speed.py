"""Speed pieces in the img2img stylizer and the presets, through the tiny pipeline (no mocks).

Each test shows the piece is really used: the UNet's batch sizes are counted
with a forward hook (no unconditional pass at CFG 1; one step at low
strength), the LCM scheduler's ``step`` and TAESD's encoder / decoder are
seen running, the step cache runs shallow steps, similar frames skip the UNet.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.errors import OptionError
from rotoscope.jobs.spec import JobSpec
from rotoscope.media.decode import iter_frames
from rotoscope.media.options import MediaOptions
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.options import StyleOptions
from rotoscope.stylize.presets import PRESETS, apply_preset

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    out = [f.image for f in iter_frames(SAMPLE, MediaOptions(width=128, fps=4, max_frames=3))]
    return [np.asarray(Image.fromarray(f).resize((96, 64))) for f in out]


def stylizer(model: dict | None = None, **style):
    options = StyleOptions(**{"prompt": "a cup", "seed": 1, "steps": 4, "strength": 0.5, **style})
    options.validate()
    return build_stylizer(ModelOptions(model="tiny", **(model or {})), options)


def unet_batches(s) -> list[int]:
    """The batch size of every UNet call from now on."""
    calls: list[int] = []
    s.pipe.unet.register_forward_hook(lambda module, args, output: calls.append(int(args[0].shape[0])))
    return calls


# -- presets ------------------------------------------------------------------------------------


def test_presets_fill_in_only_what_the_user_did_not_give():
    spec = JobSpec(source="a.mp4", model=ModelOptions(model="tiny"))
    fast = apply_preset(spec, "fast")
    assert (fast.model.dtype, fast.model.lcm_lora, fast.model.vae) == ("half", "auto", "tiny")
    assert (fast.style.sampler, fast.style.steps, fast.style.cfg_scale) == ("LCM", 4, 1.0)
    mine = apply_preset(replace(spec, style=replace(spec.style, steps=6)), "fast", {"steps"})
    assert mine.style.steps == 6 and mine.style.sampler == "LCM"
    assert apply_preset(replace(spec, model=replace(spec.model, dtype="fp32")), "fast").model.dtype == "fp32"
    balanced = apply_preset(spec, "balanced")
    assert (balanced.model.dtype, balanced.style.step_cache, balanced.model.lcm_lora) == ("half", 2, None)
    assert apply_preset(spec, "quality") == replace(spec, model=replace(spec.model, attention="sdpa"))
    with pytest.raises(OptionError, match="--preset 'turbo' is not known; use one of quality, balanced, fast"):
        apply_preset(spec, "turbo")
    for preset in PRESETS.values():
        assert preset.gives_up and preset.summary
    from rotoscope import api  # the Python API: keywords given win over the preset

    via_api = api.build_spec("a.mp4", "o.gif", preset="fast", model="tiny", steps=6)
    assert (via_api.style.steps, via_api.style.sampler, via_api.model.vae) == (6, "LCM", "tiny")


def test_fast_preset_with_a_turbo_model_uses_its_own_few_step_settings():
    spec = apply_preset(JobSpec(source="a.mp4", model=ModelOptions(model="stabilityai/sd-turbo")), "fast")
    assert spec.model.lcm_lora is None and spec.model.vae == "tiny"
    assert (spec.style.steps, spec.style.cfg_scale, spec.style.timestep_spacing) == (2, 0.0, "trailing")


def test_speed_options_that_do_not_change_the_look_keep_the_job_key():
    plain = JobSpec(source="a.mp4", model=ModelOptions(model="tiny"))
    runtime = replace(plain, model=replace(plain.model, threads=1, low_memory=True, channels_last=True))
    assert runtime.look_key() == plain.look_key()
    assert apply_preset(plain, "fast").look_key() != plain.look_key()
    cached = replace(plain, style=replace(plain.style, step_cache=2))
    assert cached.look_key() != plain.look_key()


# -- the pieces, seen running ---------------------------------------------------------------


def test_guidance_1_skips_the_unconditional_pass(tiny_model_dir, frames):
    with_cfg = stylizer(cfg_scale=7.0)
    batches = unet_batches(with_cfg)
    with_cfg.stylize(frames[:1], seed=1)
    assert batches == [2, 2]  # 4 × 0.5 = 2 steps, conditional + unconditional
    no_cfg = stylizer(cfg_scale=1.0)
    batches = unet_batches(no_cfg)
    no_cfg.stylize(frames[:1], seed=1)
    assert batches == [1, 1]
    assert "negative_prompt_embeds" not in no_cfg._embeds  # the negative prompt is not even encoded


def test_low_strength_still_runs_one_step(tiny_model_dir, frames, caplog):
    s = stylizer(steps=2, strength=0.3, cfg_scale=1.0)  # SD-Turbo style: 2 × 0.3 < 1
    batches = unet_batches(s)
    with caplog.at_level(logging.WARNING, logger="rotoscope"):
        out = s.stylize(frames[:1], seed=1)
        s.stylize(frames[1:2], seed=1)
    assert batches == [1, 1]  # one step per frame
    assert sum("runs no denoising step; running 1" in r.getMessage() for r in caplog.records) == 1  # said once
    assert out[0].shape == frames[0].shape


def test_fast_preset_runs_the_lcm_scheduler_and_taesd(tiny_model_dir, frames):
    from diffusers import AutoencoderTiny, LCMScheduler

    spec = apply_preset(JobSpec(source="a.mp4", model=ModelOptions(model="tiny"),
                                style=StyleOptions(prompt="a cup", seed=1, strength=0.5)), "fast")
    s = build_stylizer(spec.model, spec.style)
    assert isinstance(s.pipe.scheduler, LCMScheduler) and isinstance(s.pipe.vae, AutoencoderTiny)
    steps: list = []
    step = s.pipe.scheduler.step
    s.pipe.scheduler.step = lambda *a, **k: steps.append(1) or step(*a, **k)  # count the real step's calls
    ran: list[str] = []
    s.pipe.vae.encoder.register_forward_hook(lambda *a: ran.append("encode"))
    s.pipe.vae.decoder.register_forward_hook(lambda *a: ran.append("decode"))
    batches = unet_batches(s)
    out = s.stylize(frames[:2], seed=1, indices=[0, 1])
    assert len(steps) == 2 and batches == [2, 2]  # 4 LCM steps × 0.5; two frames, no unconditional pass
    assert ran[0] == "encode" and ran[-1] == "decode" and set(ran) == {"encode", "decode"}
    assert [o.shape for o in out] == [f.shape for f in frames[:2]] and out[0].dtype == np.uint8


def test_step_cache_runs_shallow_steps_that_match_the_full_unet_on_the_same_input(tiny_model_dir, frames):
    from rotoscope.models.speed import StepCachedUNet

    s = stylizer(steps=8, strength=0.5, cfg_scale=1.0, step_cache=2)
    cached = s.pipe.unet
    assert isinstance(cached, StepCachedUNet) and cached is s.step_cache
    s.stylize(frames[:1], seed=1)
    assert (cached.calls, cached.full_calls) == (4, 2)  # full, shallow, full, shallow
    unet = cached.unet
    x, cond = torch.randn(1, 4, 8, 12), torch.randn(1, 77, 32)
    with torch.inference_mode():
        full = unet(x, 500, encoder_hidden_states=cond).sample  # the UNet itself is unchanged
        cached.reset()
        cached(x, 500, encoder_hidden_states=cond)
        shallow = cached(x, 500, encoder_hidden_states=cond).sample  # outer blocks on the cached deep feature
    assert cached.full_calls == 3 and torch.allclose(full, shallow, atol=1e-5)
    from rotoscope.stylize.img2img import DiffusersImg2Img

    plain = DiffusersImg2Img(s.loaded, replace(s.style, step_cache=0))  # the same loaded model, a pipeline of its own
    assert plain.pipe.unet is unet and s.loaded.pipe.unet is unet and plain.step_cache is None


def test_similar_frames_reuse_the_last_computed_output(tiny_model_dir, frames):
    still = [frames[0], frames[0].copy(), np.clip(frames[0].astype(int) + 1, 0, 255).astype(np.uint8), frames[2]]
    s = stylizer(cfg_scale=1.0, reuse_threshold=2.0)
    batches = unet_batches(s)
    out = [s.stylize([f], seed=1, indices=[i])[0] for i, f in enumerate(still)]
    assert len(batches) == 2 * 2  # frames 0 and 3 computed (2 steps each); 1 and 2 reused
    assert np.array_equal(out[0], out[1]) and np.array_equal(out[0], out[2]) and s.reuse.reused == 2
    batch = stylizer(cfg_scale=1.0, reuse_threshold=2.0)
    batched = batch.stylize(still, seed=1, indices=[0, 1, 2, 3])  # the same plan inside one batch
    assert np.array_equal(batched[0], batched[1]) and np.array_equal(batched[0], batched[2]) and batch.reuse.reused == 2
    # frames 0 and 3 ran as one batch of 2 here, one at a time above: CPU kernels may round a batch differently
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(out, batched))
    off = stylizer(cfg_scale=1.0)
    batches = unet_batches(off)
    [off.stylize([f], seed=1, indices=[i]) for i, f in enumerate(still)]
    assert len(batches) == 4 * 2  # off by default: every frame computed


def test_step_cache_refuses_cross_frame_attention(tiny_model_dir):
    s = stylizer(step_cache=2)
    with pytest.raises(OptionError, match="--step-cache .* cross-frame-attention"):
        s.use_cross_frame_attention(object())


# -- the command line ---------------------------------------------------------------------------


def test_cli_preset_fast_runs_and_records_its_pieces(tiny_model_dir, tmp_path):
    job = tmp_path / "job"
    result = CliRunner().invoke(app, ["run", str(SAMPLE), "--model", "tiny", "-p", "ink", "--seed", "3",
                                      "--max-frames", "2", "--width", "96", "--preset", "fast",
                                      "--threads", "2", "--strength", "0.5", "--job", str(job),
                                      "-o", str(tmp_path / "o.gif"), "--json"])
    assert result.exit_code == 0, result.output
    spec = json.loads((job / "job.json").read_text())["spec"]
    assert {k: spec["model"][k] for k in ("dtype", "lcm_lora", "vae", "threads")} == \
        {"dtype": "half", "lcm_lora": "auto", "vae": "tiny", "threads": 2}
    assert (spec["style"]["sampler"], spec["style"]["steps"], spec["style"]["cfg_scale"]) == ("LCM", 4, 1.0)


def test_cli_missing_lcm_lora_offline_is_one_error_line(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    result = CliRunner().invoke(app, ["run", str(SAMPLE), "--model", "tiny", "--preset", "fast", "--max-frames", "1",
                                      "--lcm-lora", "latent-consistency/lcm-lora-sdv1-5", "--job", str(tmp_path / "j")])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "LCM-LoRA" in lines[0] and "--lcm-lora FILE" in lines[0]
