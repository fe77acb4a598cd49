"""The option model: every option is declared once and reachable from every face; the defects that came
from rules living in several places stay fixed."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rotoscope import api
from rotoscope.cli import app
from rotoscope.errors import OptionError
from rotoscope.jobs.infotext import apply_infotext, format_infotext
from rotoscope.jobs.spec import JobSpec
from rotoscope.jobs.table import EXTRAS, job_options
from rotoscope.options import Option

#: options whose values name files that must exist, or that only make sense with outside inputs
_VALUES: dict[str, Any] = {
    "output": ["out/x.gif"], "lora": ["style.safetensors:0.8"], "embedding": ["emb.pt"], "mask": None,
    "mask_rect": ["10,10,20,20"], "mask_ellipse": ["0:5,5,10,10/9:15,15,10,10"], "mask_key": "#00ff00:30",
    "control": ["canny:0.8:0-0.9", "tile:0.5"], "keys": "0,12,30", "shots": "0,12", "plate": "3x2", "device": "cpu",
    "model": "tiny", "vae": "some/vae", "model_config": "configs/sd15", "lcm_lora": "lcm.safetensors",
    "background": "#ffffff", "motion_adapter": "guoyww/ad", "video_model": "svd/xt", "max_size": 2_000_000,
    "sampler": "DPM++ 2M Karras", "prompt": "ink drawing, bold lines", "negative_prompt": "blurry",
    "consistency": ["color-match", "loopback", "flow-warp", "cross-frame-attention", "deflicker"],
    "context_overlap": 2, "key_max_gap": 50, "key_min_gap": 5,
}
#: no value of its own in a spec (resolved when building it)
_NOT_FIELDS = {o.key for o in EXTRAS}


def non_default(info: Option) -> Any:
    """A valid value other than the declared default."""
    if info.key in _VALUES:
        return _VALUES[info.key]
    kind = info.base_type
    if kind is bool:
        return not info.default
    choices = [c for c in info.choice_list() if c != info.default]
    if choices:
        return choices[-1]
    if kind in (int, float):
        low = info.low if info.low is not None else 0
        high = info.high if info.high is not None else low + 10
        value = low + (high - low) / 4 if kind is float else int(low + max(1, (high - low) // 4))
        if value == info.default or (info.low_open and value == low):
            value = low + 1 if kind is int else (low + high) / 3
        return value
    return "x"


def with_owner(info: Option) -> dict[str, Any]:
    """The values that make ``info`` meaningful: its method, its technique, a mask."""
    needs: dict[str, Any] = {"model": "tiny"}
    if info.owner is None:
        return needs
    if info.owner.kind == "method":
        needs["method"] = info.owner.names[0]
    elif info.owner.kind == "technique":
        needs["consistency"] = [info.owner.names[0]]
    else:
        needs["mask_rect"] = ["10,10,20,20"]
    return needs


def _get(spec: JobSpec, info: Option) -> Any:
    return getattr(getattr(spec, info.group), info.field) if info.group else getattr(spec, info.field)


FIELD_OPTIONS = [o for o in job_options() if o.key not in _NOT_FIELDS]


def test_names_and_flags_are_unique_and_every_option_is_documented():
    options = job_options()
    assert len({o.key for o in options}) == len(options)
    assert len({o.cli_flag for o in options}) == len(options)
    for info in options:
        assert info.help.strip() and info.panel, info.key
        if info.owner is not None and info.owner.kind == "method":
            assert set(info.owner.names) <= set(api.choices()["method"]), info.key


@pytest.mark.parametrize("info", FIELD_OPTIONS, ids=lambda o: o.key)
def test_every_option_reaches_the_spec_from_the_api_and_the_cli(info, tmp_path):
    value = non_default(info)
    values = {**with_owner(info), info.key: value}
    if info.key == "mask":
        mask = tmp_path / "m.png"
        from PIL import Image

        Image.new("L", (8, 8), 255).save(mask)
        values["mask"] = str(mask)
    spec = api.build_spec("clip.mp4", **values)
    got = _get(spec, info)
    assert got != info.default, info.key
    # the CLI: the same flag, the same spec
    command = typer.main.get_command(app).commands["run"]
    flags = {flag for param in command.params for flag in param.opts}
    assert info.cli_flag in flags, info.key


@pytest.mark.parametrize("info", [o for o in FIELD_OPTIONS if o.infotext], ids=lambda o: o.key)
def test_every_recorded_option_round_trips_through_infotext(info):
    values = {**with_owner(info), info.key: non_default(info)}
    if info.key == "mask":
        values.pop("mask")
        values["mask_rect"] = ["1,1,4,4"]
    spec = api.build_spec("clip.mp4", **values)
    seed = spec.style.seed if spec.style.seed >= 0 else 7
    back = apply_infotext(JobSpec(source="clip.mp4"), format_infotext(spec, seed=seed))
    assert _get(back, info) == _get(spec, info), format_infotext(spec, seed=seed)


# -- property: random valid spec → infotext → spec, equal ----------------------------------------------

_texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)


@st.composite
def specs(draw) -> JobSpec:
    method = draw(st.sampled_from(["gif2gif", "keyframes", "ebsynth", "animatediff", "img2vid"]))
    per_frame = method == "gif2gif"
    values: dict[str, Any] = {
        "method": method, "model": draw(st.sampled_from(["tiny", "org/model", "/models/a b.safetensors"])),
        "prompt": draw(_texts).strip(), "negative_prompt": draw(_texts).strip(),
        "seed": draw(st.integers(0, 2**32 - 1)), "steps": draw(st.integers(1, 150)),
        "cfg_scale": draw(st.sampled_from([0.0, 1.0, 4.5, 7.0, 12.25])),
        "strength": draw(st.sampled_from([0.05, 0.3, 0.55, 1.0])),
        "sampler": draw(st.sampled_from(api.choices()["sampler"])),
        "clip_skip": draw(st.integers(1, 12)), "noise": draw(st.sampled_from(["shared", "per-frame"])),
        "interpolate": draw(st.integers(1, 8)),
    }
    if draw(st.booleans()):
        values["process_width"], values["process_height"] = draw(st.integers(8, 4096)), draw(st.integers(8, 4096))
    if draw(st.booleans()):
        values["lora"] = [f"l{i}.safetensors:{draw(st.sampled_from([0.5, 1.0, -0.25]))}" for i in range(draw(st.integers(1, 2)))]
    if per_frame:
        techniques = draw(st.lists(st.sampled_from(["color-match", "loopback", "flow-warp", "deflicker"]), unique=True))
        values["consistency"] = techniques
        if "loopback" in techniques:
            values["loopback_alpha"] = draw(st.sampled_from([0.0, 0.45, 1.0]))
        if "flow-warp" in techniques:
            values["flow"] = draw(st.sampled_from(["dis", "farneback"]))
        if draw(st.booleans()):
            values["mask_rect"] = ["1,2,30,40"]
            values["mask_blur"] = draw(st.integers(0, 64))
            values["inpaint_area"] = draw(st.sampled_from(["whole", "only-masked"]))
            values["masked_content"] = draw(st.sampled_from(["fill", "original", "latent-noise", "latent-nothing"]))
            values["invert_mask"] = draw(st.booleans())
    if method in ("gif2gif", "keyframes", "ebsynth") and draw(st.booleans()):
        values["control"] = draw(st.lists(st.sampled_from(["canny", "tile:0.5", "canny:0.75:0.1-0.9"]), min_size=1, max_size=2))
    if method in ("keyframes", "ebsynth"):
        values["keys"] = draw(st.sampled_from(["every:5", "auto", "0,12,30"]))
        values["key_threshold"] = draw(st.sampled_from([1.0, 8.5, 40.0]))
    if method == "animatediff":
        values["context_length"] = draw(st.integers(2, 32))
        values["context_overlap"] = draw(st.integers(0, values["context_length"] - 1))
    if method == "img2vid":
        values["video_frames"], values["segments"] = draw(st.integers(2, 64)), draw(st.integers(1, 5))
        values["noise_aug"] = draw(st.sampled_from([0.0, 0.02, 0.5]))
    return api.build_spec("clip.mp4", **values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_random_valid_spec_round_trips_through_infotext(spec):
    text = format_infotext(spec, seed=spec.style.seed)
    back = apply_infotext(JobSpec(source="clip.mp4"), text)
    recorded = {o.key for o in job_options() if o.infotext}
    for info in job_options():
        if info.key in recorded:
            assert _get(back, info) == _get(spec, info), (info.key, text)
    assert (back.style.width, back.style.height) == (spec.style.width, spec.style.height)


# -- the defects of the faces that kept rules of their own ----------------------------------------------

def test_consistency_noise_names_set_the_noise_mode_and_disagreement_is_refused():
    spec = api.build_spec("clip.mp4", consistency="per-frame,color-match")
    assert spec.style.noise == "per-frame" and spec.consistency.techniques == ["color-match"]
    with pytest.raises(OptionError, match="disagree"):  # the page used to send noise="shared" beside it
        api.build_spec("clip.mp4", consistency="per-frame,color-match", noise="shared")


@pytest.mark.parametrize("values, message", [
    (dict(loopback_alpha=0.5), "--loopback-alpha belongs to the loopback technique"),
    (dict(context_length=8), "--context-length belongs to --method animatediff, not gif2gif"),
    (dict(mask_blur=8), "--mask-blur needs a mask"),
    (dict(plate="3x3", method="ebsynth"), "--plate belongs to --method keyframes, not ebsynth"),
])
def test_the_python_api_refuses_what_the_cli_refuses(values, message, tmp_path):
    with pytest.raises(OptionError, match=message):
        api.build_spec("clip.mp4", **values)
    flags = [a for k, v in values.items() for a in (api.option(k).cli_flag, str(v))]
    result = CliRunner().invoke(app, ["run", "clip.mp4", *flags, "--job", str(tmp_path / "j")])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "j").exists()


def test_a_bad_encoder_option_fails_before_any_work(tmp_path):
    with pytest.raises(OptionError, match="--dither 'fancy' is not known; use one of none, floyd-steinberg, bayer"):
        api.stylize("samples/cup.mp4", tmp_path / "x.gif", model="classic:cartoon", dither="fancy",
                    job_dir=tmp_path / "job")
    assert not (tmp_path / "job").exists() and not (tmp_path / "x.gif").exists()


def test_from_reads_back_units_masks_keys_and_video_settings():
    for values in (dict(method="ebsynth", control=["canny:0.7:0-0.8"], control_model=["canny=cn/canny"], keys="0,5,9",
                        key_threshold=3.0, refine=False),
                   dict(mask_rect=["1,2,3,4"], mask_ellipse=["5,5,10,10"], mask_key="#00ff00:20", mask_blur=9,
                        inpaint_area="only-masked", padding=40, masked_content="latent-noise", invert_mask=True),
                   dict(method="animatediff", motion_adapter="my/adapter", context_length=8, context_overlap=2,
                        decode_chunk=4),
                   dict(method="img2vid", video_frames=25, video_fps=10, motion_bucket=200, noise_aug=0.1,
                        video_cfg=2.5, segments=3)):
        spec = api.build_spec("clip.mp4", model="tiny", seed=5, **values)
        back = apply_infotext(JobSpec(source="clip.mp4"), format_infotext(spec, seed=5))
        for group in ("control", "mask", "keys", "video", "method"):
            assert getattr(back, group) == getattr(spec, group), (group, values)


def test_width_means_the_output_size_in_every_command(tmp_path):
    from PIL import Image

    runner = CliRunner()
    for command in (["convert", "samples/cup.mp4"],
                    ["run", "samples/cup.mp4", "--model", "classic:cartoon", "--seed", "1", "--job", str(tmp_path / "j")]):
        out = tmp_path / f"{command[0]}.gif"
        result = runner.invoke(app, [*command, "--duration", "0.3", "--fps", "10", "--width", "96", "-o", str(out)])
        assert result.exit_code == 0, result.output
        with Image.open(out) as gif:
            assert gif.size[0] == 96, command
    result = runner.invoke(app, ["run", "samples/cup.mp4", "--scale-width", "96"])
    assert result.exit_code == 2 and "--scale-width) is now width (--width)" in result.output
    with pytest.raises(OptionError, match="scale_width .--scale-width. is now width"):
        api.build_spec("clip.mp4", scale_width=96)


def test_help_shows_defaults_and_no_python_types():
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "<list" not in result.output
    for flag, default in (("--model", "stable-diffusion-v1-5/stable-diffusion-v1-5"), ("--steps", "20"),
                          ("--cfg", "7"), ("--strength", "0.3"), ("--sampler", "Euler a")):
        row = result.output.split(f"│ {flag} ", 1)[1].split("│ --", 1)[0]  # the option's row, up to the next option
        assert f"[default: {default}]" in row, row
    version = CliRunner().invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("rotoscope ")


def test_no_face_keeps_a_second_list_of_options():
    """The run command's options are exactly the table's: nothing hand-written beside it."""
    command = typer.main.get_command(app).commands["run"]
    names = {p.name for p in command.params} - {"source", "job", "frames", "as_json", "scale_width", "scale_height"}
    assert names == {o.key for o in job_options()}
    assert dataclasses.is_dataclass(JobSpec)


def test_a_new_option_is_one_declaration(tmp_path):
    """--x264-preset was added as one declaration in media/options.py (plus its use in the MP4 writer):
    the CLI, the API, the page and the docs have it without another edit."""
    from rotoscope.jobs.table import by_name

    info = by_name()["x264_preset"]
    assert info.cli_flag == "--x264-preset" and "ultrafast" in info.choice_list()
    sizes = {}
    for preset in ("ultrafast", "veryslow"):
        out = tmp_path / f"{preset}.mp4"
        result = CliRunner().invoke(app, ["convert", "samples/cup.mp4", "--duration", "1", "--width", "160",
                                          "--x264-preset", preset, "-o", str(out)])
        assert result.exit_code == 0, result.output
        sizes[preset] = out.stat().st_size
    assert sizes["ultrafast"] > sizes["veryslow"]  # the option reaches the encoder
    with pytest.raises(OptionError, match="--x264-preset 'warp' is not known"):
        api.build_spec("clip.mp4", x264_preset="warp")


def test_long_pasted_infotext_is_read_as_text_not_a_file_name():
    spec = api.build_spec("clip.mp4", from_="ink, " + "x" * 300 + "\nSteps: 9, Sampler: Euler, CFG scale: 5, Seed: 4")
    assert (spec.style.steps, spec.style.seed) == (9, 4)
