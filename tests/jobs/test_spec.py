import json

from rotoscope.jobs.infotext import apply_infotext, format_infotext, parse_infotext
from rotoscope.jobs.spec import JobSpec
from rotoscope.media.options import MediaOptions, OutputOptions
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.options import StyleOptions


def make_spec() -> JobSpec:
    return JobSpec(
        source="clip ü.mp4",
        media=MediaOptions(start=1.5, duration=3, fps=10, width=320),
        model=ModelOptions(model="tiny", loras=[("a.safetensors", 0.5)]),
        style=StyleOptions(prompt="ink, cup", negative_prompt="blurry", seed=42, strength=0.35, sampler="DPM++ 2M Karras"),
        output=OutputOptions(outputs=["a.gif", "b.mp4"], max_size=1_500_000),
    )


def test_spec_round_trips_through_json():
    spec = make_spec()
    again = JobSpec.from_json(spec.to_json())
    assert again == spec
    assert isinstance(again.model.loras[0], tuple)
    assert isinstance(again.style.cfg_scale, float)


def test_unknown_and_missing_keys_are_tolerated():
    data = json.loads(make_spec().to_json())
    data["style"]["from_the_future"] = 1
    del data["media"]["every_nth"]
    spec = JobSpec.from_dict(data)
    assert spec.media.every_nth == 1
    assert spec.style.seed == 42


def test_keys_separate_frames_from_look():
    a = make_spec()
    b = JobSpec.from_json(a.to_json())
    b.style.strength = 0.4
    assert a.frames_key() == b.frames_key()
    assert a.look_key() != b.look_key()
    c = JobSpec.from_json(a.to_json())
    c.output.outputs = ["elsewhere.gif"]
    assert c.look_key() == a.look_key()


def test_infotext_is_web_ui_shaped_and_round_trips():
    spec = make_spec()
    text = format_infotext(spec, seed=42, size=(320, 240))
    lines = text.split("\n")
    assert lines[0] == "ink, cup"
    assert lines[1] == "Negative prompt: blurry"
    assert lines[2].startswith("Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 42, Size: 320x240, Model: tiny")
    assert "Denoising strength: 0.35" in lines[2]
    prompt, negative, params = parse_infotext(text)
    assert (prompt, negative) == ("ink, cup", "blurry")
    assert params["Seed"] == "42"
    rebuilt = apply_infotext(JobSpec(source="x.mp4"), text)
    assert rebuilt.style.prompt == "ink, cup"
    assert rebuilt.style.seed == 42
    assert rebuilt.style.strength == 0.35
    assert rebuilt.style.sampler == "DPM++ 2M Karras"
    assert (rebuilt.style.width, rebuilt.style.height) == (320, 240)
    assert rebuilt.model.model == "tiny"
    assert rebuilt.model.loras == [("a.safetensors", 0.5)]


def test_web_ui_infotext_is_read():
    text = (
        "masterpiece, a cat\nNegative prompt: lowres\n"
        'Steps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 1234, Size: 512x512, Model hash: abc, Model: "v1-5, pruned", '
        "Denoising strength: 0.25, Version: v1.9.0"
    )
    spec = apply_infotext(JobSpec(source="x.mp4"), text)
    assert spec.style.steps == 30 and spec.style.cfg_scale == 6.5 and spec.style.seed == 1234
    assert spec.model.model == "v1-5, pruned"
    assert spec.style.strength == 0.25


def test_infotext_records_consistency_and_controlnet_units():
    from rotoscope.consistency.options import ConsistencyOptions
    from rotoscope.stylize.control import ControlOptions

    spec = JobSpec(source="x.mp4", consistency=ConsistencyOptions(techniques=["flow-warp", "color-match"]),
                   control=[ControlOptions("canny", 0.8, 0.0, 0.6)])
    text = format_infotext(spec, seed=1, size=(64, 64))
    assert 'Consistency: "flow-warp, color-match"' in text
    assert 'ControlNet 0: "Module: canny, Model: default canny, Weight: 0.8, Guidance Start: 0, Guidance End: 0.6"' in text
    assert apply_infotext(JobSpec(source="y.mp4"), text).consistency.techniques == ["flow-warp", "color-match"]


def test_infotext_records_the_speed_pieces_that_change_the_look():
    spec = JobSpec(source="x.mp4", model=ModelOptions(model="tiny", lcm_lora="auto", vae="tiny"),
                   style=StyleOptions(sampler="LCM", steps=4, cfg_scale=1, timestep_spacing="trailing", step_cache=2,
                                      reuse_threshold=2.5))
    text = format_infotext(spec, seed=3, size=(64, 64))
    assert "VAE: tiny" in text and "LCM-LoRA: auto" in text and "Schedule type: trailing" in text
    assert "Step cache: 2" in text and "Reuse threshold: 2.5" in text
    back = apply_infotext(JobSpec(source="y.mp4"), text)
    assert (back.model.lcm_lora, back.model.vae, back.style.timestep_spacing) == ("auto", "tiny", "trailing")
    assert (back.style.step_cache, back.style.reuse_threshold, back.style.sampler) == (2, 2.5, "LCM")
