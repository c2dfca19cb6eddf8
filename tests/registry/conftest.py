"""Real sqlite MLflow stores and a tiny held-out cache for the registry tests.

Creating an MLflow sqlite store runs its schema migrations (~10 s on 2 cores), so one
empty store is made per session and copied for every test that needs a fresh one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from scripted_models import SMALL_CNN  # tests/registry is on sys.path (rootdir-less test dir)

EVAL_IMAGES = 3
EVAL_CROP = (52, 70)  # H, W: small and not a multiple of 4


@dataclass(frozen=True)
class RegisteredModel:
    tracking_uri: str
    model: object
    model_kwargs: dict
    version: object


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An initialised, empty MLflow sqlite database (copy it, don't write to it)."""
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow-template")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.MlflowClient(uri, registry_uri=uri).search_experiments()  # creates the schema
    return folder / "mlflow.db"


def fresh_store(empty_store: Path, folder: Path, experiment: str = "registry-tests") -> str:
    """Copy the empty store into ``folder``, point MLflow at it; return its URI."""
    from ivif.registry import TrackingConfig, configure_tracking

    shutil.copy(empty_store, folder / "mlflow.db")
    return configure_tracking(TrackingConfig(store="sqlite:///mlflow.db", experiment=experiment), base_dir=folder)


@pytest.fixture
def tracking(empty_store, tmp_path):
    """A fresh store for one test; MLflow's global URIs restored afterwards."""
    import mlflow

    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    yield fresh_store(empty_store, tmp_path)
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


@pytest.fixture(scope="module")
def registered_cnn(empty_store, tmp_path_factory) -> RegisteredModel:
    """One small CNN logged and registered as ivif-cnn@candidate (shared by a module)."""
    import mlflow
    import torch

    from ivif.models import create_model
    from ivif.registry import log_and_register

    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    uri = fresh_store(empty_store, tmp_path_factory.mktemp("mlflow"))
    torch.manual_seed(0)
    model = create_model("cnn", **SMALL_CNN).eval()
    with mlflow.start_run(run_name="registry-test"):
        version = log_and_register(model, "cnn", model_kwargs=SMALL_CNN, tags={"paradigm": "aptp"})
    yield RegisteredModel(uri, model, SMALL_CNN, version)
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


@pytest.fixture(scope="session")
def eval_cache(sample_dir, tmp_path_factory):
    """A held-out cache of a few cropped sample pairs."""
    from PIL import Image

    from ivif.data.cache import ImageCache, write_cache

    names = sorted(p.stem for p in (sample_dir / "ir").glob("*.png"))[:EVAL_IMAGES]
    height, width = EVAL_CROP

    def records():
        for name in names:
            ir = np.asarray(Image.open(sample_dir / "ir" / f"{name}.png").convert("L"))[:height, :width]
            vi = np.asarray(Image.open(sample_dir / "vi" / f"{name}.png").convert("L"))[:height, :width]
            yield name, ir, vi

    return ImageCache(write_cache(tmp_path_factory.mktemp("cache") / "test", records(), {"dataset": "sample", "split": "test"}))
