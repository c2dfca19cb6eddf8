"""Rebuilding the torch model behind a registry URI (``models:/ivif-cnn@champion``).

Only the ivif checkpoint artifact is read (``weights_only=True``); nothing is unpickled,
so looking a model up is as safe as loading a local checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from ivif.registry.pyfunc import CHECKPOINT_ARTIFACT
from ivif.registry.tracking import resolve_tracking_uri, using_store

PYFUNC_FLAVOR = "python_function"


def load_torch_model(uri: str, tracking_uri: str | None = None, map_location: str = "cpu"):
    """``torch.nn.Module`` (eval mode) of the logged fusion model at ``uri``.

    ``uri`` is any MLflow model URI (``models:/NAME@ALIAS``, ``models:/NAME/VERSION``,
    ``runs:/RUN/model``). The store is ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``,
    else ``sqlite:///mlflow.db`` in the current directory.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from ivif.models.checkpoint import load_model

    store = tracking_uri or resolve_tracking_uri()
    try:
        with using_store(store):
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=store, registry_uri=store)
    except MlflowException as exc:
        raise FileNotFoundError(
            f"{uri}: not found in the MLflow store {store} ({exc.message}); check `ivif registry` "
            "for names and aliases, or set MLFLOW_TRACKING_URI to the right server"
        ) from exc
    return load_model(checkpoint_in(Path(local), uri), map_location=map_location)


def checkpoint_in(model_dir: Path, uri: str = "") -> Path:
    """Path of the ivif checkpoint inside a downloaded pyfunc model directory."""
    from mlflow.models import Model

    flavor = Model.load(str(model_dir)).flavors.get(PYFUNC_FLAVOR, {})
    artifact = (flavor.get("artifacts") or {}).get(CHECKPOINT_ARTIFACT)
    if not artifact:
        raise ValueError(f"{uri or model_dir}: not an ivif fusion model (no '{CHECKPOINT_ARTIFACT}' artifact); log it with ivif.registry.log_and_register")
    return model_dir / artifact["path"]
