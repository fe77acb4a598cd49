"""keyframes (TemporalKit style) with the tiny model: a tenth of gif2gif's model calls, steadier frames, resume, --frames."""

from __future__ import annotations

import numpy as np

from rotoscope.jobs.runner import run_job
from rotoscope.jobs.spec import JobSpec
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.methods.keys import KeyOptions, expand_keys_redo
from rotoscope.models.options import ModelOptions
from tests.methods.keyframe_helpers import SAMPLE, STYLE, run_method, warp_error


def test_keyframes_call_the_model_a_tenth_as_often_and_flicker_less(tiny_model_dir, clip20, gif2gif):
    base, base_counter = gif2gif
    out, counter = run_method("keyframes", clip20)
    assert [f.index for f in out] == list(range(20))
    assert [(f.time, f.duration) for f in out] == [(f.time, f.duration) for f in clip20]
    assert base_counter.calls == 20
    assert counter.images == 1 and counter.calls == 1  # keys 0 and 10 in one 2x2 plate: one generation
    assert warp_error(out, clip20) < warp_error(base, clip20)
    one_by_one, counter = run_method("keyframes", clip20, KeyOptions(keys="every:10", plate="1x1"))
    assert counter.calls == 2 and counter.calls <= base_counter.calls / 10
    assert one_by_one[0].image.shape == base[0].image.shape


def test_the_keys_of_a_plate_start_from_the_same_noise(tiny_model_dir):
    """Shared noise in a plate: every tile gets the top-left tile's initial noise (keys made together agree, as
    gif2gif's frames do), and only inside ``tiled_noise``."""
    import torch

    from rotoscope.stylize.factory import build_stylizer

    stylizer = build_stylizer(ModelOptions(model="tiny"), STYLE)
    scheduler = stylizer.pipe.scheduler
    scheduler.set_timesteps(4)
    step = scheduler.timesteps[:1]
    noise, zero = torch.randn(1, 4, 6, 10, generator=torch.Generator().manual_seed(0)), torch.zeros(1, 4, 6, 10)
    with stylizer.tiled_noise(2, 3):
        tiled = scheduler.add_noise(zero, noise, step)
    tile = tiled[..., :2, :5]
    assert torch.equal(tiled, tile.repeat(1, 1, 3, 2))  # every tile the same noise...
    assert torch.equal(tile, scheduler.add_noise(zero, noise, step)[..., :2, :5])  # ...the top-left tile's
    assert not torch.equal(scheduler.add_noise(zero, noise, step), tiled)  # outside the context: the plain noise


def test_frames_next_to_a_key_look_like_it(tiny_model_dir, clip20):
    out, _ = run_method("keyframes", clip20[:12], KeyOptions(keys="0,6", plate="2x1"))
    near = np.abs(out[1].image.astype(int) - out[0].image).mean()
    far = np.abs(out[5].image.astype(int) - out[0].image).mean()
    assert near < far


def test_expand_redo_follows_a_redone_key():
    assert expand_keys_redo([12, 13], 30, [0, 10, 20], []) == [12, 13]  # no key: just re-propagated
    assert expand_keys_redo([10], 30, [0, 10, 20], []) == list(range(1, 20))
    assert expand_keys_redo([20], 30, [0, 10, 20], [20]) == list(range(20, 30))  # a cut key: only after it


def test_resume_and_frames_redo_through_the_job_store(tiny_model_dir, tmp_path):
    spec = JobSpec(source=str(SAMPLE), method="keyframes", media=MediaOptions(fps=10, width=64, max_frames=12),
                   model=ModelOptions(model="tiny"), style=STYLE, keys=KeyOptions(keys="every:4"),
                   output=OutputOptions(outputs=[str(tmp_path / "out.gif")]))
    job = tmp_path / "job"
    first = run_job(spec, job_dir=job)
    assert first.frames_computed == 12 and (tmp_path / "out.gif").exists()
    saved = {p.name: p.read_bytes() for p in (job / "frames").glob("*.png")}
    for name in ("00004.png", "00006.png"):  # as if killed before these were written
        (job / "frames" / name).unlink()
    again = run_job(spec, job_dir=job)
    assert again.frames_computed == 2
    assert {p.name: p.read_bytes() for p in (job / "frames").glob("*.png")} == saved  # same plate, same frames
    redo = run_job(spec, job_dir=job, frames="4")  # a key: the frames carried from it are redone too
    assert redo.frames_computed == 7
