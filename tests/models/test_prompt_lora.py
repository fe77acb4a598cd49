"""``<lora:NAME:WEIGHT>`` in the prompt loads NAME from --models-dir, as the web UI does (tiny model, kohya file)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.torch import save_file
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.jobs.infotext import parse_infotext
from rotoscope.models import ModelOptions, load_pipeline
from rotoscope.models.files import lora_short_hash, prompt_loras
from rotoscope.models.zoo import kohya_lora, lora_targets

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cup.mp4"
SMALL = ["--model", "tiny", "--seed", "5", "--steps", "4", "--max-frames", "2", "--width", "64", "--device", "cpu"]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def frames(tmp_path: Path, tag: str, *args) -> tuple[list[np.ndarray], str]:
    result = invoke("run", SAMPLE, *SMALL, *args, "--job", tmp_path / f"job-{tag}", "-o", f"{tmp_path / tag}/", "--json")
    assert result.exit_code == 0, result.output
    images = [np.asarray(Image.open(p)) for p in sorted((tmp_path / tag).glob("*.png"))]
    assert len(images) == 2
    return images, json.loads(result.stdout[result.stdout.index("{"):])["infotext"]


def test_prompt_tags_are_parsed_like_the_web_ui():
    assert prompt_loras("a cup, <lora:ink style:0.8>, <lyco:grain>") == ("a cup", [("ink style", 0.8), ("grain", 1.0)])
    assert prompt_loras("<lora:a:-0.5:0.2>a cup") == ("a cup", [("a", -0.5)])


def test_lora_tag_in_the_prompt_equals_the_lora_flag(tiny_model_dir, tmp_path):
    tiny = load_pipeline(ModelOptions(model="tiny", device="cpu")).pipe
    root = tmp_path / "webui"
    (root / "models" / "Lora").mkdir(parents=True)
    (root / "models" / "Stable-diffusion").mkdir()
    lora = root / "models" / "Lora" / "ink.safetensors"
    save_file(kohya_lora(lora_targets(tiny.unet, tiny.text_encoder)), str(lora))

    tagged, info = frames(tmp_path, "tag", "-p", "a cup <lora:ink:0.8>", "--models-dir", root)
    flagged, _ = frames(tmp_path, "flag", "-p", "a cup", "--lora", f"{lora}:0.8")
    plain, _ = frames(tmp_path, "plain", "-p", "a cup")
    assert all(np.array_equal(a, b) for a, b in zip(tagged, flagged))
    assert not all(np.array_equal(a, b) for a, b in zip(tagged, plain))
    prompt, _, params = parse_infotext(info)
    assert prompt == "a cup <lora:ink:0.8>" and params["Lora hashes"] == f"ink: {lora_short_hash(lora)}"

    result = invoke("run", SAMPLE, *SMALL, "-p", "a cup <lora:missing:1>", "--models-dir", root, "--job", tmp_path / "j",
                    "-o", tmp_path / "x.gif")
    assert result.exit_code == 2
    line = [ln for ln in result.stderr.splitlines() if ln.strip()][-1]
    assert line.startswith("error: prompt names <lora:missing:…> but no LoRA 'missing' was found in --models-dir")
    result = invoke("run", SAMPLE, *SMALL, "-p", "a cup <lora:ink:1>", "--models-dir", tmp_path / "nowhere", "--job",
                    tmp_path / "j2", "-o", tmp_path / "y.gif")
    assert result.exit_code == 2 and f"--models-dir {tmp_path / 'nowhere'} is not a folder" in result.stderr
