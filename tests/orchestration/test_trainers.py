"""The built-in retrain trainer is a library function over ivif's engine (no flows/ import); it trains, the flow registers."""

from __future__ import annotations

import shutil
from pathlib import Path

from ivif_testkit import MLFLOW_URI_VARIABLES, mlflow_uris_restored, template_store
from training.conftest import build_tiny_project

from ivif.orchestration.trainers import engine_trainer, resolve_trainer
from ivif.params import load_params
from ivif.registry.register import register_model_file


def test_engine_trainer_trains_registers_and_names_the_version(tmp_path, tmp_path_factory, monkeypatch):
    for variable in MLFLOW_URI_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    params_path = build_tiny_project(tmp_path / "project")
    shutil.copy(template_store(tmp_path_factory), params_path.parent / "mlflow.db")
    assert resolve_trainer("engine", environ={}) is engine_trainer
    with mlflow_uris_restored():
        summary = engine_trainer(load_params(params_path), params_path.parent, params_path.parent / "models" / "retrain" / "run")
    # The engine trains only: registering that exact file is the flow's register task.
    assert "version" not in summary and summary["step"] == 8
    assert Path(summary["checkpoint"]).is_file() and summary["run_id"]
    with mlflow_uris_restored():
        version = register_model_file(
            summary["checkpoint"], run_id=summary["run_id"], tracking_uri=f"sqlite:///{params_path.parent / 'mlflow.db'}"
        )
    assert (version.name, str(version.version)) == ("ivif-cnn-aptp", "1")
