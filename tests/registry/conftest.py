"""Real sqlite MLflow stores and a tiny held-out cache for the registry tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from ivif_testkit import SMALL_CNN, fresh_store, mlflow_uris_restored, template_store, write_eval_cache


@dataclass(frozen=True)
class RegisteredModel:
    tracking_uri: str
    model: object
    model_kwargs: dict
    version: object


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    return template_store(tmp_path_factory)


@pytest.fixture
def tracking(empty_store, tmp_path):
    """A fresh store for one test; MLflow's global URIs restored afterwards."""
    with mlflow_uris_restored():
        yield fresh_store(empty_store, tmp_path)


@pytest.fixture(scope="session")
def registered_cnn(empty_store, tmp_path_factory) -> RegisteredModel:
    """One small CNN logged and registered as ivif-cnn@candidate (read-only for tests)."""
    import mlflow
    import torch

    from ivif.models import create_model
    from ivif.registry import log_and_register

    with mlflow_uris_restored():
        uri = fresh_store(empty_store, tmp_path_factory.mktemp("mlflow"), experiment="registry-tests")
        torch.manual_seed(0)
        model = create_model("cnn", **SMALL_CNN).eval()
        with mlflow.start_run(run_name="registry-test"):
            version = log_and_register(model, "cnn", model_kwargs=SMALL_CNN, tags={"paradigm": "aptp"})
    yield RegisteredModel(uri, model, SMALL_CNN, version)


@pytest.fixture(scope="session")
def eval_cache(sample_dir, tmp_path_factory):
    return write_eval_cache(sample_dir, tmp_path_factory.mktemp("cache") / "test")
