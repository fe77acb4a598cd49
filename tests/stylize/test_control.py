"""ControlNet guidance with tiny ControlNets: multi-ControlNet img2img and inpaint, annotators, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rotoscope.errors import ModelError, OptionError
from rotoscope.jobs.spec import JobSpec
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.control import ControlOptions, ControlUnits, assign_control_extras, canny, parse_control
from rotoscope.stylize.factory import build_stylizer
from rotoscope.stylize.mask_options import MaskOptions
from rotoscope.stylize.options import StyleOptions
from tests import clips

STYLE = StyleOptions(prompt="a cup", seed=3, steps=4, strength=0.5)
FRAMES = [clips.picture(i, (64, 48)) for i in (0, 5)]


def test_parse_control_web_ui_fields():
    assert parse_control("canny") == ControlOptions("canny", 1.0, 0.0, 1.0)
    assert parse_control("tile:0.6") == ControlOptions("tile", 0.6, 0.0, 1.0)
    assert parse_control("canny:0.8:0.1-0.9") == ControlOptions("canny", 0.8, 0.1, 0.9)
    for bad, match in (("scribble", "not known"), ("canny:3", "weight"), ("canny:1:0.9-0.2", "start < end"), ("canny:x", "numbers")):
        with pytest.raises(OptionError, match=match):
            parse_control(bad)


def test_control_extras_go_to_the_named_or_next_unit(tmp_path):
    folder = tmp_path / "edges"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "0.png")
    units = assign_control_extras([parse_control("canny"), parse_control("tile")], [f"tile={folder}"], ["canny=tiny"])
    assert units[1].image_dir == str(folder) and units[0].model == "tiny" and units[0].image_dir is None
    with pytest.raises(OptionError, match="no --control depth"):
        assign_control_extras([parse_control("canny")], [f"depth={folder}"], None)


def test_canny_annotator_is_white_edges_on_black():
    edges = canny(FRAMES[0])
    assert edges.shape == (48, 64, 3) and set(np.unique(edges)) <= {0, 255} and edges.any()


def test_missing_annotator_model_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("ROTOSCOPE_ANNOTATORS", str(tmp_path))
    spec = JobSpec(source="clip.mp4", model=ModelOptions(model="tiny"), control=[parse_control("depth")])
    with pytest.raises(ModelError, match=r"--control depth needs its annotator model.*--control-image-dir depth=DIR"):
        spec.validate()
    with pytest.raises(ModelError, match="--control softedge needs its annotator model"):
        ControlUnits([ControlOptions("softedge")])
    for kind in ("lineart", "openpose"):  # no annotator network here: only precomputed frames
        with pytest.raises(ModelError, match=f"--control {kind} needs precomputed control frames"):
            ControlUnits([ControlOptions(kind)])
    with pytest.raises(OptionError, match="diffusion model"):
        JobSpec(source="clip.mp4", model=ModelOptions(model="classic:cartoon"), control=[parse_control("canny")]).validate()


@pytest.fixture(scope="module")
def plain(tiny_model_dir):
    return build_stylizer(ModelOptions(model="tiny"), STYLE).stylize(FRAMES, seed=3)


def test_multi_controlnet_img2img_runs_and_steers(tiny_model_dir, plain):
    stylizer = build_stylizer(ModelOptions(model="tiny"), STYLE, control=[parse_control("canny"), parse_control("tile:0.5:0-0.5")])
    assert type(stylizer.pipe).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    guided = stylizer.stylize(FRAMES, seed=3)
    assert [g.shape for g in guided] == [f.shape for f in FRAMES]
    assert np.abs(guided[0].astype(int) - plain[0]).mean() > 0.5  # the ControlNets change the picture
    assert "ControlNet 1" in stylizer.infotext_fields()
    # precomputed control images (per frame, per unit) replace the annotators; weight 0 is no guidance at all
    off = build_stylizer(ModelOptions(model="tiny"), STYLE, control=[parse_control("canny:0")])
    black = [[np.zeros((48, 64, 3), np.uint8)] for _ in FRAMES]
    assert np.array_equal(off.stylize(FRAMES, seed=3, control=black)[0], plain[0])


def test_multi_controlnet_inpaint_keeps_the_outside(tiny_model_dir):
    mask_options = MaskOptions(mask_rects=["16,8,24,24"], mask_blur=0)
    stylizer = build_stylizer(ModelOptions(model="tiny"), STYLE, mask_options,
                              control=[parse_control("canny"), parse_control("tile:0.7")])
    assert type(stylizer.pipe).__name__ == "StableDiffusionControlNetInpaintPipeline"
    mask = np.zeros((48, 64), np.uint8)
    mask[8:32, 16:40] = 255
    out = stylizer.stylize(FRAMES, seed=3, mask=[mask, mask])
    for frame, result in zip(FRAMES, out):
        assert result.shape == frame.shape
        assert np.array_equal(result[mask == 0], frame[mask == 0])
        assert not np.array_equal(result[mask > 0], frame[mask > 0])
    only = build_stylizer(ModelOptions(model="tiny"), STYLE, MaskOptions(mask_rects=["16,8,24,24"], inpaint_area="only-masked"),
                          control=[parse_control("canny")])
    assert only.stylize(FRAMES[:1], seed=3, mask=[mask])[0].shape == FRAMES[0].shape


def test_control_image_dir_frames_are_used_per_index(tmp_path):
    folder = tmp_path / "ctl"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((24, 32, 3), 100 * i, np.uint8)).save(folder / f"c{i}.png")
    units = ControlUnits([ControlOptions("canny", image_dir=str(folder))])
    first, second = units.annotate(FRAMES[0], 0)[0], units.annotate(FRAMES[0], 1)[0]
    assert first.shape == (48, 64, 3) and first.max() == 0 and second.min() == 100  # resized to the frame
    with pytest.raises(OptionError, match="has 2 images; frame 2 has none"):
        units.annotate(FRAMES[0], 2)
