"""`rotoscope batch`: a folder of clips and a JSON spec, one summary table, resumable as a whole (local
executor here: the Ray side of sharing actors between jobs is the same executor as tests/executors/test_ray.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from rotoscope.cli import app
from tests import clips

SHARED = ["--model", "classic:cartoon", "--seed", "2", "--width", "64"]


def _logged(job: Path) -> Counter:
    return Counter(json.loads(line)["frame"] for line in (job / "log.jsonl").read_text().splitlines())


def test_batch_runs_every_clip_then_resumes_all(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "clips"
    folder.mkdir()
    for name, frames in (("a", 6), ("b", 7)):
        clips.moving_box_clip(folder / f"{name}.mp4", frames=frames, size=(64, 48))
    third = clips.moving_box_clip(tmp_path / "c.mp4", frames=8, size=(64, 48))
    spec = tmp_path / "c.json"
    spec.write_text(json.dumps({"source": str(third), "seed": 9, "output": [str(tmp_path / "c-own.gif")]}))
    args = ["batch", str(folder), str(spec), *SHARED, "--out-dir", str(tmp_path / "out"), "--json"]

    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    rows = json.loads(first.output[first.output.index("["):])
    assert [(Path(r["source"]).name, r["status"], r["computed"], r["resumed"]) for r in rows] == [
        ("a.mp4", "done", 6, 0), ("b.mp4", "done", 7, 0), ("c.mp4", "done", 8, 0)]
    assert (tmp_path / "out" / "a.gif").exists() and (tmp_path / "out" / "b.gif").exists()
    assert (tmp_path / "c-own.gif").exists() and not (tmp_path / "out" / "c.gif").exists()  # the spec's own -o
    assert json.loads((Path(rows[2]["job"]) / "job.json").read_text())["spec"]["style"]["seed"] == 9  # spec wins

    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    rows_again = json.loads(again.output[again.output.index("["):])
    assert [(r["computed"], r["resumed"]) for r in rows_again] == [(0, 6), (0, 7), (0, 8)]
    for row, frames in zip(rows_again, (6, 7, 8)):
        assert _logged(Path(row["job"])) == Counter(range(frames))  # nothing computed twice


def test_batch_refuses_a_spec_without_source_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps({"seed": 1}))
    result = CliRunner().invoke(app, ["batch", str(spec), *SHARED])
    assert result.exit_code == 2
    assert "a job spec is a JSON object of options with a \"source\"" in result.output
