"""UNet engines (models/engines.py) on the tiny pipeline: OpenVINO's frames match PyTorch's and its converted
model is read back from the disk cache; ``--engine auto`` keeps the tiny UNet in PyTorch and says when a
full-size one runs in OpenVINO at f32 (no bf16 matrix units); ``--compile`` on CPU compiles through Inductor's C++ backend (a small conv net: compiling even
the tiny UNet takes minutes on 2 cores) with its caches in the rotoscope cache folder."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rotoscope.errors import OptionError

from rotoscope.metrics import ssim
from rotoscope.models.engines import OpenVINOUNet, compile_unet, has_bf16_matrix_units, resolve_engine
from rotoscope.models.loader import load_pipeline
from rotoscope.models.options import ModelOptions
from rotoscope.models.speed import StepCachedUNet
from rotoscope.stylize.img2img import DiffusersImg2Img
from rotoscope.stylize.options import StyleOptions


def _frame() -> np.ndarray:
    y, x = np.mgrid[0:64, 0:96]
    return np.stack([x * 2, y * 3, (x + y) % 256], -1).astype(np.uint8)


def test_openvino_engine_matches_torch_and_reuses_its_cache(tiny_model_dir):
    style = StyleOptions(prompt="ink", seed=3, strength=0.6, steps=4, width=96, height=64)
    eager = DiffusersImg2Img(load_pipeline(ModelOptions(model="tiny", device="cpu")), style)
    loaded = load_pipeline(ModelOptions(model="tiny", device="cpu", engine="openvino"))
    assert isinstance(loaded.pipe.unet, OpenVINOUNet)
    ov = DiffusersImg2Img(loaded, style)
    a = eager.stylize([_frame()], seed=3)[0]
    b = ov.stylize([_frame()], seed=3)[0]
    assert ssim(a, b) > 0.99, ssim(a, b)
    assert loaded.pipe.unet.compiled, "the OpenVINO model did not run"
    shapes = next(iter(loaded.pipe.unet.compiled))
    assert (loaded.pipe.unet.cache_folder(shapes) / "unet.xml").is_file()
    # the next process: same weights, same shape → the IR comes from the cache, nothing is converted
    again = OpenVINOUNet(loaded.pipe.unet.unet, loaded.name)
    again(torch.zeros(shapes[0]), 10, torch.zeros(shapes[1]))
    assert again.converted_now == 0
    with pytest.raises(OptionError, match="--step-cache needs the PyTorch UNet"):  # its blocks never run in torch
        StepCachedUNet(loaded.pipe.unet, 2)


def test_engine_auto_picks_openvino_for_a_full_size_unet_and_says_so_without_matrix_units(caplog):
    from diffusers import UNet2DConditionModel

    from rotoscope.models.fullsize import sd15_unet_config

    with torch.device("meta"):  # SD 1.5's UNet shape without its memory: auto looks at the size only
        big = UNet2DConditionModel(**sd15_unet_config())
    tiny = load_pipeline(ModelOptions(model="tiny", device="cpu")).pipe.unet
    with caplog.at_level(logging.WARNING, logger="rotoscope"):
        assert resolve_engine("auto", torch.device("cpu"), tiny) == "torch"  # converting would cost more than it saves
        assert not caplog.records
        assert resolve_engine("auto", torch.device("cpu"), big) == "openvino"
    notes = [r.getMessage() for r in caplog.records]
    if has_bf16_matrix_units():
        assert not notes
    else:
        assert len(notes) == 1 and "no bf16 matrix units" in notes[0] and "f32" in notes[0], notes


def test_compile_on_cpu_uses_inductor_and_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.SiLU(), torch.nn.Conv2d(8, 4, 3, padding=1)).eval()
    pipe = SimpleNamespace(unet=net)
    x = torch.randn(1, 4, 16, 24)
    with torch.no_grad():
        ref = net(x)
        assert compile_unet(pipe, torch.device("cpu"))
        out = pipe.unet(x)
    assert pipe.unet is not net and torch.allclose(out, ref, atol=1e-4), (out - ref).abs().max()
    assert any((tmp_path / "inductor").rglob("*.so")), "Inductor wrote no compiled kernels to the cache folder"
