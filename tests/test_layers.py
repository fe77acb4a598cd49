"""The layer rules of DESIGN.md ("Layers"), checked by import-linter's contracts in pyproject.toml.

Runs the real ``lint-imports`` (installed with the ``test`` extra) on this checkout's
``src/``: every contract must be kept. A broken contract prints the offending import
chains (file and line) in the assertion message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


@pytest.fixture(scope="module")
def lint() -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    if not exe.exists():
        pytest.fail(f"{exe} is missing: install the test extra (pip install -e '.[test]')")
    env = dict(os.environ)
    # this checkout's package, even where another copy is installed; wide lines so names are not wrapped
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env["COLUMNS"] = "1000"
    return subprocess.run([str(exe), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_lint_imports_reads_this_checkouts_contracts(lint):
    counts = re.search(r"^Contracts: (\d+) kept, (\d+) broken", lint.stdout, re.MULTILINE)
    assert counts is not None, lint.stdout + lint.stderr
    assert int(counts.group(1)) + int(counts.group(2)) == len(CONTRACTS)


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c["id"] for c in CONTRACTS])
def test_contract_is_kept(lint, contract):
    status = re.search(rf"^{re.escape(contract['name'])} (KEPT|BROKEN)", lint.stdout, re.MULTILINE)
    assert status is not None, f"contract {contract['id']!r} is not in the output:\n{lint.stdout}{lint.stderr}"
    assert status.group(1) == "KEPT", lint.stdout


def test_lint_imports_exits_0(lint):
    assert lint.returncode == 0, lint.stdout + lint.stderr
