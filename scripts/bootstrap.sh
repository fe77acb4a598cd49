#!/usr/bin/env bash
# Create .venv and install rotoscope into it, once. Safe to run again: it only
# reinstalls when pyproject.toml changed. torch goes in first, pinned, on its
# own: any looser spec lets pip pull another build.
#
#   bash scripts/bootstrap.sh [--cpu] [--dry-run] [EXTRAS]      e.g. bash scripts/bootstrap.sh --cpu test
#
# --dry-run prints the two pip commands it would run, and does nothing else.
#
# torch==2.13.0 from plain pip on Linux is the CUDA build (several GB with its
# nvidia-* wheels). --cpu (or ROTOSCOPE_TORCH=cpu in the environment, which
# scripts/demo.sh and scripts/test.sh pass on) takes torch alone from PyTorch's
# CPU index (https://download.pytorch.org/whl/cpu, about 200 MB). Without it,
# pip's own configuration decides: a machine whose pip finds a CPU wheel
# locally (find-links, a mirror) installs that one, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
torch_cpu="${ROTOSCOPE_TORCH:-}"
extras=""
dry_run=""
for arg in "$@"; do
  case "$arg" in
    --cpu) torch_cpu="cpu" ;;
    --dry-run) dry_run=1 ;;
    -*) echo "error: unknown option $arg; use: bash scripts/bootstrap.sh [--cpu] [--dry-run] [EXTRAS]" >&2; exit 2 ;;
    *) extras="$arg" ;;
  esac
done
torch_index=()
if [ "$torch_cpu" = "cpu" ]; then
  torch_index=(--index-url https://download.pytorch.org/whl/cpu)
elif [ -n "$torch_cpu" ]; then
  echo "error: ROTOSCOPE_TORCH=$torch_cpu is not understood; use ROTOSCOPE_TORCH=cpu or leave it unset" >&2
  exit 2
fi
if [ -n "$dry_run" ]; then
  echo "pip install ${torch_index[*]+${torch_index[*]} }torch==2.13.0"
  echo "pip install -e .${extras:+[$extras]}"
  exit 0
fi
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed${extras:+-$extras}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setting up .venv (first run: about a minute)…" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check ${torch_index[@]+"${torch_index[@]}"} torch==2.13.0
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
  if .venv/bin/python -m pip list 2>/dev/null | grep -iE '^(torch|torchvision) ' | grep -qv '2\.13\.0'; then
    echo "error: a dependency pulled another torch/torchvision; see pip list" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
