"""Every method and sequential technique restarts at a cut: change the first shot, the second shot's output
frames are byte-identical (real jobs: tiny diffusers model or a classic look, PNG-folder sources and outputs).

Each case also runs the changed clip with ``--shots none`` (the old behaviour: one shot): there the second
shot's frames differ, so each case shows what the shot awareness changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rotoscope.api import stylize
from tests import clips

SHOT = 5  # frames per shot; the cut is at frame SHOT (2 for the cases that need the tiny diffusers model)
SIZE = (64, 40)
SCRIPT = clips.cuts_script()
TINY = dict(model="tiny", prompt="ink drawing", seed=5, steps=2, strength=0.5)  # one denoising step
CLASSIC = dict(model="classic:watercolor", seed=5)

CASES = {
    # a classic look starts from the init the technique makes, as the model does: the model is irrelevant here
    "loopback": dict(CLASSIC, consistency=["loopback"]),
    "flow-warp": dict(CLASSIC, consistency=["flow-warp"]),
    "color-match": dict(CLASSIC, consistency=["color-match"]),
    "cross-frame-attention": dict(TINY, consistency=["cross-frame-attention"]),
    "deflicker": dict(CLASSIC, consistency=["deflicker"]),
    "keyframes": dict(CLASSIC, method="keyframes", keys="every:3", plate="2x2", key_color_match=True),
    "ebsynth": dict(CLASSIC, method="ebsynth", keys="every:3", key_color_match=True),
    "animatediff": dict(TINY, method="animatediff", context_length=4, context_overlap=2, device="cpu"),
}


def clip(folder: Path, first: int, second: int = 1, shot: int = SHOT) -> Path:
    """PNG frames: ``shot`` frames of scene ``first``, then ``shot`` of scene ``second`` (a hard cut at ``shot``)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = [SCRIPT.scene_frame(first, t, SIZE) for t in range(shot)] + [SCRIPT.scene_frame(second, t, SIZE) for t in range(shot)]
    for i, image in enumerate(frames):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return folder


def outputs(tmp_path: Path, name: str, source: Path, **options) -> list[np.ndarray]:
    out = tmp_path / f"{name}-out"
    stylize(source, str(out) + "/", job_dir=tmp_path / f"{name}-job", **options)
    return [np.asarray(Image.open(p)) for p in sorted(out.glob("*.png"))]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("case", list(CASES))
def test_the_second_shot_does_not_depend_on_the_first(tiny_model_dir, tmp_path, case):
    options = CASES[case]
    shot = 2 if options["model"] == "tiny" else SHOT
    a, b = clip(tmp_path / "a", first=0, shot=shot), clip(tmp_path / "b", first=3, shot=shot)
    out_a = outputs(tmp_path, "a", a, **options)
    out_b = outputs(tmp_path, "b", b, **options)
    assert len(out_a) == 2 * shot
    assert not same(out_a[:shot], out_b[:shot])  # the first shots differ...
    assert same(out_a[shot:], out_b[shot:])  # ...and the second shot's frames are byte-identical
    carried = outputs(tmp_path, "b-none", b, shots="none", **options)
    assert not same(out_a[shot:], carried[shot:])  # one shot (--shots none): the first shot reaches the second


def test_interpolation_repeats_instead_of_blending_across_a_cut(tmp_path):
    a, b = clip(tmp_path / "a", first=0, second=1), clip(tmp_path / "b", first=0, second=2)
    options = dict(CLASSIC, interpolate=2)
    out_a, out_b = outputs(tmp_path, "a", a, **options), outputs(tmp_path, "b", b, **options)
    last = 2 * SHOT - 1  # the frame made between the first shot's last frame and the cut
    assert len(out_a) == 4 * SHOT and np.array_equal(out_a[last], out_a[last - 1])  # a copy, not a blend
    assert same(out_a[:2 * SHOT], out_b[:2 * SHOT])  # the first shot's frames do not depend on the second
    blended = outputs(tmp_path, "b-none", b, shots="none", **options)
    assert not np.array_equal(blended[last], blended[last - 1])  # one shot: the frame at the cut is a blend


def test_a_given_shot_list_and_keys_at_every_shot_start(tmp_path):
    a = clip(tmp_path / "a", first=0)
    result = stylize(a, str(tmp_path / "o") + "/", job_dir=tmp_path / "job", method="keyframes", keys="every:4",
                     shots="3", plate="1x1", **CLASSIC)
    assert result.keys_generated == 4  # 0, 3 (the given cut), 4, 8; the detected cut at 5 is not used
