"""A retrain project in tmp: params.yaml, a fresh MLflow store, a held-out cache, and the
scripted trainer enabled; plus a session-wide Prefect test harness."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ivif_testkit import (
    CONTRAST_METRICS,
    FLOWS_TESTS,
    PROJECT_ROOT,
    SCRIPTED_TRAINER,
    fresh_store,
    mlflow_uris_restored,
    template_store,
    write_eval_cache,
)
from scripted_trainer import SCRIPTED_OVERRIDES

from ivif.orchestration.project import OVERRIDES_ENV, PROJECT_ENV

# The project's flows/ is a namespace package run from the project root (python -m
# flows.retrain); putting the root on sys.path lets tests import it in-process too.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))


@dataclass(frozen=True)
class RetrainProject:
    root: Path
    params: Path
    tracking_uri: str

    def client(self):
        import mlflow

        return mlflow.MlflowClient(self.tracking_uri, registry_uri=self.tracking_uri)


def project_params(root: Path) -> dict:
    return {
        "tracking": {"store": "sqlite:///mlflow.db", "experiment": "retrain-tests"},
        "data": {"cache_root": str(root / "cache")},
        "train": {"model": "cnn", "manifest": "aptp"},
        "evaluate": {"dataset": "sample", "split": "test", "device": "cpu", "grid_images": 1, "grid_height": 32},
        "gate": {"metrics": list(CONTRAST_METRICS), "lower_is_better": [], "tolerance": 0.02},
        "retrain": {"data_stages": [], "manifest_stages": [], "out_dir": "runs", "lock_timeout_s": 120},
        "scripted": {"quality": "strong"},
    }


@pytest.fixture
def retrain_project(tmp_path_factory, sample_dir, monkeypatch) -> RetrainProject:
    # flows resolve the store from params unless MLFLOW_TRACKING_URI is set: unset it
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    root = tmp_path_factory.mktemp("project")
    write_eval_cache(sample_dir, root / "cache" / "sample" / "test")
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(project_params(root)))
    monkeypatch.setenv(PROJECT_ENV, str(params))  # what `serve`/`run --params` bind
    with mlflow_uris_restored():
        uri = fresh_store(template_store(tmp_path_factory), root, experiment="retrain-tests")
        yield RetrainProject(root, params, uri)


@pytest.fixture
def scripted_trainer(monkeypatch):
    """Allow the scripted trainer (the operator's env var, as a served deployment would)."""
    monkeypatch.setenv("IVIF_RETRAIN_TRAINERS", SCRIPTED_TRAINER)
    monkeypatch.setenv(OVERRIDES_ENV, SCRIPTED_OVERRIDES)
    monkeypatch.syspath_prepend(str(FLOWS_TESTS))
