#!/usr/bin/env bash
# Creates .venv (if needed) and installs ivif with its test extras into it.
# Idempotent: a second run only re-checks the installed packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
# Telemetry off for this checkout's DVC (tests also set DVC_NO_ANALYTICS).
.venv/bin/dvc config --local core.analytics false >/dev/null 2>&1 || true
