#!/usr/bin/env bash
# Installs everything (scripts/setup.sh) and runs the test suite, offline, on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DO_NOT_TRACK=1 DVC_NO_ANALYTICS=1 MLFLOW_DISABLE_TELEMETRY=true PREFECT_SERVER_ANALYTICS_ENABLED=false
# Two pytest workers (pytest-xdist), each file's tests on one worker (session fixtures such
# as the repro'd pipeline are built once per worker), one torch thread each: the slow tests
# mostly wait on subprocesses (dvc, Prefect and MLflow servers), so the 2 cores stay busy.
# IVIF_TEST_WORKERS=1 runs them in one process with 2 threads.
WORKERS=${IVIF_TEST_WORKERS:-2}
if [ "$WORKERS" -gt 1 ]; then
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    PARALLEL=(-n "$WORKERS" --dist loadfile)
else
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
    PARALLEL=()
fi
.venv/bin/lint-imports   # layers import only downward (pyproject [tool.importlinter])
.venv/bin/ruff check .   # lint (pyproject [tool.ruff])
.venv/bin/ruff format --check .   # formatting (pyproject [tool.ruff.format])
.venv/bin/python -m pytest "${PARALLEL[@]}" "$@"
