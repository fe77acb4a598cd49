"""The Python API takes every option the CLI has, under the same names: here the methods' own (keys, ControlNet)."""

import pytest

from rotoscope import api
from rotoscope.errors import OptionError
from rotoscope.stylize.control import ControlOptions


def test_keyframe_options_and_control_units_by_keyword():
    spec = api.build_spec("a.mp4", "o.gif", method="keyframes", model="tiny", keys="auto", plate="1x1",
                          key_threshold=6.0, control="canny, tile:0.5:0-0.6", control_model="canny=tiny")
    assert (spec.keys.keys, spec.keys.plate, spec.keys.key_threshold) == ("auto", "1x1", 6.0)
    assert [(u.type, u.weight, u.end, u.model) for u in spec.control] == [("canny", 1.0, 1.0, "tiny"), ("tile", 0.5, 0.6, None)]


def test_control_as_a_list_or_as_units_equals_the_cli_text():
    text = api.build_spec("a.mp4", control="canny:0.8").control
    assert api.build_spec("a.mp4", control=["canny:0.8"]).control == text
    assert api.build_spec("a.mp4", control=[ControlOptions("canny", weight=0.8)]).control == text


def test_ebsynth_gets_canny_guidance_unless_told_otherwise():
    assert [u.type for u in api.build_spec("a.mp4", method="ebsynth", model="tiny").control] == ["canny"]
    assert [u.type for u in api.build_spec("a.mp4", method="ebsynth", model="tiny", control="tile").control] == ["tile"]
    assert api.build_spec("a.mp4", method="ebsynth", model="classic:cartoon").control == []


@pytest.mark.parametrize("kwargs, needle", [
    (dict(keys="auto"), "belongs to --method keyframes or ebsynth"),
    (dict(control_model="canny=tiny"), "need a --control unit"),
    (dict(control="sobel"), "is not known; use one of canny"),
    (dict(control="canny:heavy"), "must be numbers"),
    (dict(control="canny:1:0.5"), "not understood"),
    (dict(control="canny", control_model="tile=tiny"), "there is no --control tile"),
])
def test_bad_method_options_name_the_fix(kwargs, needle):
    with pytest.raises(OptionError, match=needle):
        api.build_spec("a.mp4", **kwargs)
