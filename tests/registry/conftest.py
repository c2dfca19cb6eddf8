"""A real sqlite MLflow store holding one small registered fusion model (``ivif-cnn``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

# Narrow widths keep logging and inference fast; the architecture is the real CNN.
SMALL_CNN = {"stem_width": 4, "growth": (2, 2, 4, 4), "head_width": 4}


@dataclass(frozen=True)
class RegisteredModel:
    tracking_uri: str
    model: object
    model_kwargs: dict
    version: object


@pytest.fixture(scope="module")
def registered_cnn(tmp_path_factory) -> RegisteredModel:
    import mlflow
    import torch

    from ivif.models import create_model
    from ivif.registry import TrackingConfig, configure_tracking, log_and_register

    store = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    uri = configure_tracking(TrackingConfig(store="sqlite:///mlflow.db", experiment="registry-tests"), base_dir=store)
    torch.manual_seed(0)
    model = create_model("cnn", **SMALL_CNN).eval()
    with mlflow.start_run(run_name="registry-test"):
        version = log_and_register(model, "cnn", model_kwargs=SMALL_CNN, tags={"paradigm": "aptp"})
    yield RegisteredModel(uri, model, SMALL_CNN, version)
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])
