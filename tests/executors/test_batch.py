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


def test_batch_killed_mid_way_resumes_every_job(tmp_path):
    """The driver (`rotoscope batch` over 3 clips) SIGKILLed once the second job has a frame on disk: the same
    command again finishes every job, and no frame is computed twice (each job's log.jsonl)."""
    import os
    import subprocess
    import sys

    from tests.executors.faults import kill_when

    root = Path(__file__).resolve().parents[2]
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in "abc":
        clips.moving_box_clip(folder / f"{name}.mp4", frames=20, size=(64, 48))
    args = ["batch", str(folder), *SHARED, "--out-dir", str(tmp_path / "out"), "--json"]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}"}
    proc = subprocess.Popen([sys.executable, "-m", "rotoscope.cli", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    alive, stderr = kill_when(proc, lambda: any(tmp_path.glob("jobs/b-*/frames/[0-9]*.png")), "the second job's first frame")
    assert alive, stderr[-1500:]
    on_disk = {name: {int(p.stem) for p in tmp_path.glob(f"jobs/{name}-*/frames/[0-9]*.png")} for name in "abc"}
    before = {name: len(found) for name, found in on_disk.items()}
    assert before["a"] == 20 and 1 <= before["b"] and before["c"] < 20, before  # killed inside the batch

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        again = CliRunner().invoke(app, args)
    finally:
        os.chdir(cwd)
    assert again.exit_code == 0, again.output
    rows = json.loads(again.output[again.output.index("["):])
    assert [(Path(r["source"]).name, r["status"], r["resumed"]) for r in rows] == [
        ("a.mp4", "done", 20), ("b.mp4", "done", before["b"]), ("c.mp4", "done", before["c"])]
    for name, row in zip("abc", rows):
        logged = _logged(tmp_path / row["job"])
        # nothing computed twice; every frame missing at the kill made by the rerun (a frame renamed into place
        # just before the kill, its log line not yet written, is on disk and not logged)
        assert set(logged.values()) == {1} and set(range(20)) - on_disk[name] <= set(logged), (name, logged)
    assert all((tmp_path / "out" / f"{name}.gif").exists() for name in "abc")
