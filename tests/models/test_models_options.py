import importlib.util

import pytest

from rotoscope.errors import OptionError
from rotoscope.models import ModelOptions, parse_lora
from rotoscope.models.samplers import SAMPLERS, make_scheduler, sampler_name_of
from rotoscope.models.tiny import tiny_scheduler_config


@pytest.mark.parametrize(
    "text, expected",
    [
        ("style.safetensors", ("style.safetensors", 1.0)),
        ("style.safetensors:0.5", ("style.safetensors", 0.5)),
        ("dir:with:colons/x.safetensors:-0.25", ("dir:with:colons/x.safetensors", -0.25)),
        ("dir:with/x.safetensors", ("dir:with/x.safetensors", 1.0)),
    ],
)
def test_parse_lora(text, expected):
    assert parse_lora(text) == expected


def test_parse_lora_empty():
    with pytest.raises(OptionError, match="FILE"):
        parse_lora("  ")


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1", "mps"])
def test_valid_devices(device):
    ModelOptions(device=device).validate()


@pytest.mark.parametrize("field, value", [("device", "gpu"), ("device", "cuda:x"), ("dtype", "float16"), ("dtype", "int8")])
def test_bad_device_dtype(field, value):
    with pytest.raises(OptionError, match=value):
        ModelOptions(**{field: value}).validate()


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_each_sampler_builds(name):
    if name == "LMS" and importlib.util.find_spec("scipy") is None:
        with pytest.raises(OptionError, match="pip install scipy"):
            make_scheduler(name, tiny_scheduler_config())
        return
    sched = make_scheduler(name, tiny_scheduler_config())
    sched.set_timesteps(10)
    assert len(sched.timesteps) >= 10
    assert sampler_name_of(sched) == name


def test_sampler_names_case_insensitive_and_class_names():
    assert type(make_scheduler("euler A", tiny_scheduler_config())).__name__ == "EulerAncestralDiscreteScheduler"
    karras = make_scheduler("dpm++ 2m karras", tiny_scheduler_config())
    assert karras.config.use_karras_sigmas is True
    # Karras must not leak into the next choice built from that config
    plain = make_scheduler("DPM++ 2M", karras.config)
    assert plain.config.use_karras_sigmas is False
    assert type(make_scheduler("UniPCMultistepScheduler", tiny_scheduler_config())).__name__ == "UniPCMultistepScheduler"


def test_unknown_sampler_lists_names():
    with pytest.raises(OptionError) as info:
        make_scheduler("Euler b", tiny_scheduler_config())
    msg = str(info.value)
    assert "Euler b" in msg and "'DPM++ 2M Karras'" in msg and "'UniPC'" in msg and "\n" not in msg
