#!/usr/bin/env bash
# The browser the web-UI tests drive: Debian's chromium (+ chromium-driver), driven by
# Playwright for Python with executable_path=/usr/bin/chromium. No `playwright install`
# (it downloads its own browser builds). Also iproute2's `ss`, with which the Ray tests check
# that a local cluster listens on loopback only. Idempotent: does nothing when both are there.
set -euo pipefail
packages=()
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then packages+=(chromium chromium-driver); fi
if ! command -v ss >/dev/null 2>&1; then packages+=(iproute2); fi
if [ "${#packages[@]}" -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: ${packages[*]} missing and apt-get is not available; install them from your distribution" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: installing ${packages[*]} needs root (apt-get install ${packages[*]})" >&2
    exit 1
  fi
fi
echo "installing ${packages[*]} for the tests (about 20 s)…" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q "${packages[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q "${packages[@]}" >/dev/null
fi
/usr/bin/chromium --headless --no-sandbox --disable-gpu --version >&2 || true
