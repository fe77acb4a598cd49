"""One line, naming the thing: a damaged LoRA, a very long prompt, an unknown sampler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rotoscope.errors import ModelError
from rotoscope.models.loader import load_pipeline
from rotoscope.models.options import ModelOptions

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "cup.mp4"


def _rotoscope(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-m", "rotoscope", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("damage", ["truncated", "not-a-checkpoint"])
def test_a_damaged_lora_is_called_a_damaged_lora(tiny_model_dir, tmp_path, damage):
    import torch
    from safetensors.torch import save_file

    lora = tmp_path / "style.safetensors"
    if damage == "truncated":
        save_file({"lora_unet_down.lora_up.weight": torch.zeros(64, 64)}, str(lora))
        lora.write_bytes(lora.read_bytes()[: lora.stat().st_size // 2])
    else:
        lora.write_text("<html>404 not found</html>")
    with pytest.raises(ModelError) as caught:
        load_pipeline(ModelOptions(model="tiny", device="cpu", loras=[(str(lora), 0.8)]))
    message = str(caught.value)
    assert message.startswith(f"LoRA file {lora} is damaged or not a LoRA: "), message
    assert "model file" not in message and "\n" not in message


def test_a_long_prompt_is_one_line_not_kilobytes(tmp_path):
    prompt = ("ink drawing of a cup on a table " * 320)[:10_000]
    done = _rotoscope(tmp_path, "run", str(SAMPLE), "-o", "out.gif", "--model", "tiny", "--duration", "0.2", "--fps", "5",
                      "--width", "64", "--steps", "1", "--seed", "3", "-p", prompt)
    assert done.returncode == 0, done.stderr[-2000:]
    notes = [line for line in done.stderr.splitlines() if "the model reads the first" in line]
    assert len(notes) == 1 and notes[0].startswith("note: prompt is "), done.stderr[-2000:]
    assert "truncated because CLIP" not in done.stderr and "Token indices sequence length" not in done.stderr
    assert len(done.stderr.encode()) < 3000, f"{len(done.stderr)} bytes on stderr"


def test_an_unknown_sampler_is_refused_with_the_nearest_names(tmp_path):
    done = _rotoscope(tmp_path, "run", str(SAMPLE), "-o", "out.gif", "--model", "classic:oil", "--duration", "0.2",
                      "--fps", "5", "--width", "64", "--sampler", "eular")
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: --sampler 'eular' is not known; did you mean 'Euler'"), lines
    assert not (tmp_path / "out.gif").exists()
