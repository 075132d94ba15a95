#!/usr/bin/env bash
# Install what the real-browser tests (tests/browser/, pytest marker `browser`) need, on a
# fresh Debian or Ubuntu machine:
#   1. Debian's `chromium` package (/usr/bin/chromium) and two font packages, via apt-get;
#   2. Playwright's Python package, pinned in .ci/browser-requirements.txt, into the course's
#      Python environment. Playwright is only the driver: no browser is downloaded by it
#      (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1; the tests launch /usr/bin/chromium themselves).
#
# Usage (from anywhere):
#   bash tools/install_browser.sh [PYTHON]
# PYTHON is the interpreter whose environment runs pytest; default: the course's .venv
# (created by `python3 tools/course.py setup`), else python3 on PATH.
# Needs root or sudo for apt-get. Safe to run again: it skips what is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

PYTHON="${1:-}"
if [ -z "$PYTHON" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="python3"; fi
fi
say() { echo "[install_browser] $*"; }

# --- 1. Debian's chromium ---------------------------------------------------------------
if [ -x /usr/bin/chromium ]; then
  say "chromium already installed"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "[install_browser] apt-get not found: install Chromium with your system's package manager" \
         "so that /usr/bin/chromium exists, then run this script again." >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  say "apt-get update ..."
  $SUDO apt-get update -q
  say "apt-get install chromium ..."
  $SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation fonts-dejavu-core
fi
/usr/bin/chromium --version

# --- 2. Playwright (the driver only) -----------------------------------------------------
say "installing Playwright into $("$PYTHON" -c 'import sys; print(sys.prefix)') ..."
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$PYTHON" -m pip install --disable-pip-version-check -q \
  -r .ci/browser-requirements.txt
"$PYTHON" - <<'PY'
from importlib.metadata import version
from playwright.sync_api import sync_playwright  # noqa: F401  (fails loudly if the install is broken)
print(f"[install_browser] playwright {version('playwright')} ready; it will drive /usr/bin/chromium")
PY
