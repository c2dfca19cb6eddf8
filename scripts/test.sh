#!/usr/bin/env bash
# Installs everything (scripts/setup.sh) and runs the test suite, offline, on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DO_NOT_TRACK=1 DVC_NO_ANALYTICS=1 MLFLOW_DISABLE_TELEMETRY=true PREFECT_SERVER_ANALYTICS_ENABLED=false
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
.venv/bin/lint-imports   # layers import only downward (pyproject [tool.importlinter])
.venv/bin/ruff check .   # lint (pyproject [tool.ruff])
.venv/bin/ruff format --check .   # formatting (pyproject [tool.ruff.format])
.venv/bin/python -m pytest "$@"
