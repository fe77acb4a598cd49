#!/usr/bin/env bash
# Create .venv and install rotoscope into it, once. Safe to run again: it only
# reinstalls when pyproject.toml changed. torch goes in first, pinned, on its
# own: any looser spec lets pip pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed${extras:+-$extras}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setting up .venv (first run: about a minute)…" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
  if .venv/bin/python -m pip list 2>/dev/null | grep -iE '^(torch|torchvision) ' | grep -qv '2\.13\.0'; then
    echo "error: a dependency pulled another torch/torchvision; see pip list" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
