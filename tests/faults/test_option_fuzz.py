"""Fuzz the option model through the real CLI: any mix of options with any values ends in exit 0 or a
one-line error (exit 2) — never a traceback — and writes nothing but the outputs and the job it was given.

The commands run in this process (typer's runner), so a hundred of them cost seconds; the run is the
real one (decode, the weight-free look, the job store, the encoders). Options that name models or
files to load are left out: their errors are tested where they are made, and here a random name
would only ask the (offline) hub.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rotoscope.cli import app
from rotoscope.jobs.table import job_options

#: options that load something by name (models, files) or choose where the run writes
_LOADS = {"model", "vae", "lora", "embedding", "lcm_lora", "model_config", "motion_adapter", "video_model",
          "control_model", "control_image_dir", "from_", "output", "preset", "device", "mask", "threads"}
OPTIONS = [o for o in job_options() if o.key not in _LOADS]
BASE = ["--model", "classic:cartoon", "--max-frames", "2", "--width", "32", "--job", "jobs/j", "-o", "out/o.gif"]


def _valid(info) -> st.SearchStrategy[str]:
    """A value the option takes: one of its choices, or a number in its range, or free text."""
    if info.choices:
        return st.sampled_from([str(c) for c in info.choice_list()])
    low = info.low if info.low is not None else 0
    high = info.high if info.high is not None else low + 50
    if info.base_type is int:
        return st.integers(int(low), int(min(high, low + 500))).map(str)
    if info.base_type is float:
        return st.floats(low, min(high, low + 500), exclude_min=info.low_open).map(lambda v: f"{v:.4g}")
    return st.text(max_size=12)


def _values(info) -> st.SearchStrategy[str]:
    """A value as a user could type it: mostly a valid one, sometimes a number far out of range or junk."""
    junk = st.sampled_from(["", "-1", "0", "1e309", "nan", "-inf", "abc", "1,2,3", "../x", "/", "0:0:0", "999999999999"])
    numbers = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str))
    valid = _valid(info)
    return st.one_of(valid, valid, valid, junk, numbers)


def _owner(info) -> list[str]:
    """What makes ``info`` meaningful: its method, its technique, or a mask."""
    if info.owner is None:
        return []
    if info.owner.kind == "method":
        return ["--method", info.owner.names[0]]
    if info.owner.kind == "technique":
        return ["--consistency", info.owner.names[0]]
    return ["--mask-rect", "2,2,20,20"]


@st.composite
def command(draw) -> list[str]:
    picked = draw(st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=4, unique_by=lambda o: o.key))
    args: list[str] = []
    for info in picked:
        if draw(st.integers(0, 3)):  # mostly with its owner, so the run goes past validation
            args += _owner(info)
        if info.base_type is bool:
            args.append(info.cli_flag)  # a switch takes no value
        else:
            args += [info.cli_flag, draw(_values(info))]
    return args


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    from tests import clips

    return clips.moving_box_clip(tmp_path_factory.mktemp("fuzz") / "src.mp4", frames=4, size=(48, 32))


def test_any_options_end_in_success_or_one_line_never_a_traceback(clip, tmp_path_factory):
    runner = CliRunner()
    before = _files(clip.parent)

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(command())
    def check(args: list[str]) -> None:
        work = tmp_path_factory.mktemp("run")
        cwd = os.getcwd()
        os.chdir(work)
        try:
            result = runner.invoke(app, ["run", str(clip), "-p", "x", *BASE, *args])
        finally:
            os.chdir(cwd)
        assert result.exit_code in (0, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
        assert "Traceback" not in result.output, (args, result.output)
        if result.exit_code == 2:
            errors = [line for line in result.output.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, (args, result.output)
        stray = {f for f in _files(work) if not f.startswith(("out/", "jobs/j/"))}
        assert not stray, (args, stray)
        assert _files(clip.parent) == before  # the source's folder is untouched

    check()
