#!/usr/bin/env bash
# The README's main command: stylise the bundled sample clip into out/demo.gif.
# Runs offline in seconds with the weight-free classic:cartoon stylizer; pass
# other `rotoscope run` options to change it (e.g. --model tiny, or a real model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/rotoscope run samples/cup.mp4 -p "cartoon, flat colours, ink outlines" \
  --model classic:cartoon --seed 7 --duration 3 --fps 10 --width 320 \
  -o out/demo.gif -o out/demo.mp4 "$@"
