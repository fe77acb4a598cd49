"""Set-up honesty (issue: nothing lost, item 21): the bootstrap script says what it installs and offers
PyTorch's CPU build, and the README says what the two commands need."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bootstrap(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/bootstrap.sh", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **(env or {})}, timeout=60)


def test_cpu_takes_torch_alone_from_the_cpu_index():
    cpu = bootstrap("--cpu", "--dry-run", "test")
    assert cpu.returncode == 0, cpu.stderr
    assert cpu.stdout.splitlines() == ["pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0",
                                       "pip install -e .[test]"]
    from_env = bootstrap("--dry-run", env={"ROTOSCOPE_TORCH": "cpu"})
    assert from_env.stdout.splitlines()[0].startswith("pip install --index-url https://download.pytorch.org/whl/cpu ")
    plain = bootstrap("--dry-run")
    assert plain.stdout.splitlines() == ["pip install torch==2.13.0", "pip install -e ."]


def test_unknown_set_up_choices_are_one_line_errors():
    for args, env in ((["--gpu"], None), (["--dry-run"], {"ROTOSCOPE_TORCH": "cuda"})):
        done = bootstrap(*args, env=env)
        assert done.returncode == 2 and done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1


def test_readme_says_what_the_commands_need():
    readme = (ROOT / "README.md").read_text()
    assert "--cpu" in readme and "CUDA" in readme
    assert "chromium" in readme.lower() and "apt-get" in readme
