#!/usr/bin/env bash
# The README's test command: set up .venv with the test extras, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
bash scripts/install_browser.sh  # chromium for the web-UI browser tests (tests/e2e/test_ui_*.py)
# Two test processes (pytest-xdist), each taking whole files (module fixtures — a Ray cluster, a server — stay
# in one process): a third of the suite's time is waiting on servers, browsers and child processes, which
# the other process fills. ROTOSCOPE_TEST_WORKERS=0 runs it in one process; later -n/--dist arguments win.
set +e
.venv/bin/python -m pytest -n "${ROTOSCOPE_TEST_WORKERS:-2}" --dist loadfile "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$code"
