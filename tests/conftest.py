"""Shared test fixtures and the offline, quiet, 2-core test environment."""

from __future__ import annotations

import os
from pathlib import Path

# Set before torch/mlflow/prefect/dvc are imported anywhere in the test session.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")
os.environ["DO_NOT_TRACK"] = "1"
os.environ["DVC_NO_ANALYTICS"] = "1"
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_TELEMETRY_ENABLED"] = "false"  # harmless where unknown
os.environ.setdefault("TQDM_DISABLE", "1")

import pytest  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IVIF_SHARED", PROJECT_ROOT.parent / "shared"))


def _set_torch_threads() -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))  # 1 per worker under scripts/test.sh's 2 workers


_set_torch_threads()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared folder (real data, upstream weights, references)."""
    if not (SHARED / "data").is_dir():
        message = f"shared data not found at {SHARED} (set IVIF_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the tests that compare against it")
        pytest.skip(message)
    return SHARED


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The embedded default dataset shipped in the repo."""
    return PROJECT_ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API (sqlite) for the whole test session; opt in by requesting it.

    Yields the API URL. A single fixture, so the suite pays the server's start-up once."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        from prefect.settings import PREFECT_API_URL

        yield PREFECT_API_URL.value()
