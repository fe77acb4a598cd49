#!/usr/bin/env bash
# The README's test command: set up .venv with the test extras, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
bash scripts/install_browser.sh  # chromium for the web-UI browser tests (tests/e2e/test_ui_*.py)
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$code"
