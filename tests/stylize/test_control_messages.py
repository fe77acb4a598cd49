"""ControlNet annotator errors suggest only what the code accepts."""

from __future__ import annotations

import pytest

from rotoscope.errors import ModelError
from rotoscope.jobs.spec import JobSpec
from rotoscope.models.options import ModelOptions
from rotoscope.stylize.control import ControlOptions, ControlUnits, load_annotator, parse_control


@pytest.mark.parametrize("kind, weight_file", [("lineart", "sk_model.pth"), ("openpose", "body_pose_model.pth")])
def test_types_without_an_annotator_ask_only_for_precomputed_frames(tmp_path, monkeypatch, kind, weight_file):
    monkeypatch.setenv("ROTOSCOPE_ANNOTATORS", str(tmp_path))
    for present in (False, True):  # the weight file the old message asked for changes nothing
        if present:
            (tmp_path / weight_file).write_bytes(b"\0")
        for attempt in (lambda: load_annotator(kind), lambda: ControlUnits([ControlOptions(kind)]),
                        lambda: JobSpec(source="clip.mp4", model=ModelOptions(model="tiny"), control=[parse_control(kind)]).validate()):
            with pytest.raises(ModelError) as info:
                attempt()
            text = str(info.value)
            assert "\n" not in text
            assert f"--control {kind} needs precomputed control frames" in text
            assert f"--control-image-dir {kind}=DIR" in text
            assert ".pth" not in text and "ROTOSCOPE_ANNOTATORS" not in text and "put " not in text


def test_annotators_with_weights_still_say_which_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ROTOSCOPE_ANNOTATORS", str(tmp_path))
    with pytest.raises(ModelError, match=r"--control softedge needs its annotator model.*put ControlNetHED\.pth"):
        load_annotator("softedge")
