#!/usr/bin/env bash
# The browser the web-UI tests drive: Debian's chromium (+ chromium-driver), driven by
# Playwright for Python with executable_path=/usr/bin/chromium. No `playwright install`
# (it downloads its own browser builds). Idempotent: does nothing when chromium is there.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: /usr/bin/chromium is missing and apt-get is not available; install chromium from your distribution" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: installing chromium needs root (apt-get install chromium chromium-driver)" >&2
    exit 1
  fi
fi
echo "installing chromium for the browser tests (about 20 s)…" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q chromium chromium-driver >/dev/null
fi
/usr/bin/chromium --headless --no-sandbox --disable-gpu --version >&2 || true
