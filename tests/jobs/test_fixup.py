"""Masks in the JobSpec (JSON round-trip, keys of jobs without a mask unchanged) and the fix-up via the Python API."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
from PIL import Image

import rotoscope.api as api
from rotoscope.jobs.fixup import with_mask_fields
from rotoscope.jobs.spec import JobSpec
from rotoscope.stylize.mask_options import MaskOptions
from tests import clips


def test_mask_options_round_trip_through_json():
    spec = JobSpec(source="clip.mp4", mask=MaskOptions(mask="m.png", mask_rects=["0:1,2,3,4/30:5,6,7,8"],
                                                       mask_ellipses=["1,1,9,9"], mask_key="#00ff00:20", invert_mask=True,
                                                       mask_blur=8, inpaint_area="only-masked", padding=16,
                                                       masked_content="latent-noise", mask_hold_last=True))
    again = JobSpec.from_json(spec.to_json())
    assert again == spec
    assert JobSpec.from_dict({"source": "clip.mp4"}).mask == MaskOptions()  # older job.json: no mask


def test_a_mask_is_part_of_the_look_and_no_mask_is_not_hashed():
    spec = JobSpec(source="clip.mp4")
    assert JobSpec(source="clip.mp4", mask=MaskOptions(mask="m.png")).look_key() != spec.look_key()
    assert JobSpec(source="clip.mp4", mask=MaskOptions()).look_key() == spec.look_key()


def test_infotext_gets_the_web_ui_inpaint_keys():
    text = with_mask_fields("a cup\nSteps: 20, Seed: 1", MaskOptions(mask="m.png", inpaint_area="only-masked", invert_mask=True))
    assert text.endswith("Mask blur: 4, Inpaint area: Only masked, Masked area padding: 32, Masked content: original, "
                         "Mask mode: Inpaint not masked")
    assert with_mask_fields("x", MaskOptions()) == "x"


def test_fixup_through_the_python_api(tmp_path):
    source = clips.png_sequence(tmp_path / "src", frames=10, size=(48, 32))
    job = tmp_path / "job"
    api.stylize(source, tmp_path / "out.gif", job_dir=job, model="classic:oil", seed=4)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((job / "frames").glob("*.png"))}
    result = api.stylize(source, tmp_path / "out.gif", job_dir=job, model="classic:pencil", seed=4, frames="2-3",
                         mask_rect=["0:0,0,8,8/3:40,24,8,8"], mask_blur=0)
    assert result.frames_computed == 2
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((job / "frames").glob("*.png"))}
    assert [n for n in before if before[n] != after[n]] == ["00002.png", "00003.png"]
    recorded = json.loads((job / "job.json").read_text())["spec"]
    assert recorded["model"]["model"] == "classic:oil" and recorded["mask"] == dataclasses.asdict(MaskOptions())
    frame3 = np.asarray(Image.open(job / "frames" / "00003.png").convert("RGB"))
    old3 = np.asarray(Image.open(job / "source" / "00003.png").convert("RGB"))
    assert frame3.shape == old3.shape
