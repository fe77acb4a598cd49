"""The Python API keeps the CLI's promises on a full disk, and the job's log survives a line cut short."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.faults.conftest import ENV, _limit_file_size, temps

SCRIPT = """
import sys
from rotoscope import api
from rotoscope.errors import OutputError
try:
    api.stylize(sys.argv[1], "out/x.gif", job_dir="jobs/j", model="classic:cartoon", prompt="x", width=64)
except OutputError as exc:
    print("OutputError:", exc)
"""


def test_a_full_disk_is_an_output_error_from_the_python_api_too(small_clip, tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(small_clip)], cwd=tmp_path, env=ENV, text=True,
                          capture_output=True, timeout=300, preexec_fn=_limit_file_size(3000))
    assert done.returncode == 0, done.stderr  # not a raw OSError traceback
    assert done.stdout.startswith("OutputError: disk full writing "), done.stdout
    assert temps(tmp_path) == []
    again = subprocess.run([sys.executable, "-c", SCRIPT, str(small_clip)], cwd=tmp_path, env=ENV, text=True,
                           capture_output=True, timeout=300)
    assert again.returncode == 0 and again.stdout == "", again.stdout + again.stderr
    assert (tmp_path / "out" / "x.gif").stat().st_size > 0


def test_a_log_line_cut_short_is_not_counted_and_the_next_line_starts_clean(tmp_path):
    from rotoscope.jobs.store import JobDir
    import numpy as np

    job = JobDir(tmp_path / "job")
    job.save_output(0, np.zeros((8, 8, 3), np.uint8), None, 0.1)
    with open(job.log_path, "a") as log:
        log.write('{"frame": 1, "sec')  # a kill or a full disk in the middle of a line
    job.save_output(2, np.zeros((8, 8, 3), np.uint8), None, 0.1)
    lines = job.log_path.read_text().splitlines()
    assert [json.loads(lines[0])["frame"], json.loads(lines[-1])["frame"]] == [0, 2]
    assert job.computed_count() == 2
