"""ConsistencyOptions: parsing --consistency, validation messages, JobSpec round trip, the CLI's checks."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from rotoscope.api import build_spec
from rotoscope.cli import app
from rotoscope.consistency import TECHNIQUES, Technique, build_techniques
from rotoscope.consistency.options import ConsistencyOptions, parse_consistency
from rotoscope.errors import OptionError
from rotoscope.jobs.spec import JobSpec
from rotoscope.stylize.options import StyleOptions


def test_registry_one_signature_every_name():
    assert list(TECHNIQUES) == ["shared-noise", "per-frame", "color-match", "loopback", "flow-warp",
                                "cross-frame-attention", "deflicker"]
    for name, cls in TECHNIQUES.items():
        assert issubclass(cls, Technique) and cls.name == name
        assert cls.cost and cls.__doc__  # documented: what it is, what it costs
        technique = cls(ConsistencyOptions())
        assert callable(technique.prepare) and callable(technique.finish)
    assert {n for n, c in TECHNIQUES.items() if c.stage == "encode"} == {"deflicker"}


def test_parse_splits_noise_mode_from_techniques():
    assert parse_consistency("per-frame, flow-warp,color-match") == ("per-frame", ["flow-warp", "color-match"])
    assert parse_consistency("shared-noise") == ("shared", [])
    assert parse_consistency("none") == (None, [])
    with pytest.raises(OptionError, match="both shared-noise and per-frame"):
        parse_consistency("shared-noise,per-frame")


@pytest.mark.parametrize("kwargs, message", [
    (dict(techniques=["flow-wrap"]), "--consistency 'flow-wrap' is not known; use one of color-match, loopback"),
    (dict(techniques=["loopback", "loopback"]), "names 'loopback' twice"),
    (dict(techniques=["per-frame"]), "is a noise mode"),
    (dict(flow="raft"), "--flow 'raft' is not known; use one of dis, farneback"),
    (dict(loopback_alpha=1.5), "--loopback-alpha 1.5 must be between 0 and 1"),
    (dict(loopback_decay=0), "--loopback-decay 0 must be in (0, 1]"),
    (dict(color_match_interval=0), "--color-match-interval 0 must be 1 or more"),
    (dict(cross_frame_refs="all"), "--cross-frame-refs 'all' is not known"),
])
def test_validation_names_the_value_and_the_range(kwargs, message):
    with pytest.raises(OptionError) as info:
        ConsistencyOptions(**kwargs).validate()
    assert message in str(info.value)


def test_noise_mode_has_one_source_of_truth():
    """The noise technique built for a job is the one StyleOptions.noise names."""
    options = ConsistencyOptions(techniques=["flow-warp"])
    assert [t.name for t in build_techniques(options, "per-frame")] == ["per-frame", "flow-warp"]
    assert [t.name for t in build_techniques(options, "shared")] == ["shared-noise", "flow-warp"]
    assert not any(f.name == "noise" for f in dataclasses.fields(ConsistencyOptions))
    spec = build_spec("a.mp4", consistency="per-frame,color-match")
    assert spec.style.noise == "per-frame" and spec.consistency.techniques == ["color-match"]
    with pytest.raises(OptionError, match="disagree"):
        build_spec("a.mp4", consistency="per-frame", noise="shared")
    with pytest.raises(OptionError, match="--loopback-alpha belongs to the loopback technique, which is not in --consistency"):
        build_spec("a.mp4", consistency="flow-warp", loopback_alpha=0.5)
    with pytest.raises(OptionError, match="--flow belongs to the flow-warp or deflicker technique"):
        build_spec("a.mp4", flow="farneback")


def test_spec_round_trips_and_old_jobs_keep_their_key():
    spec = JobSpec(source="a.mp4", style=StyleOptions(seed=3),
                   consistency=ConsistencyOptions(techniques=["flow-warp", "deflicker"], flow_warp_fuse=0.25))
    again = JobSpec.from_json(spec.to_json())
    assert again == spec and again.consistency.techniques == ["flow-warp", "deflicker"]
    plain = JobSpec(source="a.mp4", style=StyleOptions(seed=3))
    data = plain.to_dict()
    del data["consistency"]  # a job.json written before consistency existed
    assert JobSpec.from_dict(data).look_key() == plain.look_key()
    assert spec.look_key() != plain.look_key()
    knobs_only = JobSpec(source="a.mp4", style=StyleOptions(seed=3), consistency=ConsistencyOptions(loopback_alpha=0.9))
    assert knobs_only.look_key() == plain.look_key()  # knobs of techniques not chosen change nothing


def test_run_refuses_bad_consistency_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["run", "x.mp4", "--model", "classic:cartoon", "--consistency", "flow-wrap",
                                      "--job", str(tmp_path / "j")])
    assert result.exit_code == 2
    assert "--consistency 'flow-wrap' is not known" in result.output
    result = CliRunner().invoke(app, ["run", "x.mp4", "--model", "classic:cartoon", "--consistency",
                                      "cross-frame-attention", "--job", str(tmp_path / "j")])
    assert result.exit_code == 2 and "needs a diffusers model" in result.output


def test_python_api_takes_the_same_names():
    spec = build_spec("a.mp4", "out.gif", consistency="per-frame,flow-warp", flow_warp_fuse=0.2)
    assert spec.style.noise == "per-frame"
    assert spec.consistency.techniques == ["flow-warp"] and spec.consistency.flow_warp_fuse == 0.2
    assert build_spec("a.mp4", consistency=["deflicker"]).consistency.techniques == ["deflicker"]
    with pytest.raises(OptionError, match="techniques .--techniques. is now consistency"):
        build_spec("a.mp4", techniques=["deflicker"])
