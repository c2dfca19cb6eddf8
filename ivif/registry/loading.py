"""Rebuilding the torch model behind a registry URI (``models:/ivif-cnn-aptp@champion``).

Only the ivif checkpoint artifact is read (``weights_only=True``); nothing is unpickled,
so looking a model up is as safe as loading a local checkpoint. Looking a model up
never creates a store: the store is ``$MLFLOW_TRACKING_URI``, else the params file's
``tracking.store`` (relative to that file), and a sqlite store that does not exist is
an error naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ivif.params import DEFAULT_PARAMS
from ivif.registry.pyfunc import CHECKPOINT_ARTIFACT
from ivif.tracking.store import TRACKING_URI_ENV, TrackingConfig, resolve_tracking_uri, using_store

SQLITE_PREFIX = "sqlite:///"


def lookup_store(params_path: str | Path = DEFAULT_PARAMS, environ: Mapping[str, str] | None = None) -> str:
    """The store to look models up in: ``$MLFLOW_TRACKING_URI``, else ``tracking.store``
    of ``params_path`` (relative to it), else the default store next to ``params_path``."""
    from ivif.params import load_params, section

    env = os.environ if environ is None else environ
    if env.get(TRACKING_URI_ENV):
        return env[TRACKING_URI_ENV]
    path = Path(params_path)
    config = section(load_params(path), "tracking", TrackingConfig) if path.is_file() else TrackingConfig()
    return resolve_tracking_uri(config.store, path.resolve().parent, environ={})


def existing_store(uri: str) -> str:
    """``uri`` if it can be read without creating anything; FileNotFoundError for a
    sqlite store whose file does not exist."""
    if uri.startswith(SQLITE_PREFIX) and not Path(uri[len(SQLITE_PREFIX) :]).is_file():
        raise FileNotFoundError(
            f"MLflow store {uri[len(SQLITE_PREFIX) :]} does not exist (nothing registered there yet); run from the "
            f"project folder (its params.yaml names the store), pass --params, or set {TRACKING_URI_ENV}"
        )
    return uri


def enable_model_uris(tracking_uri: str) -> None:
    """Let :func:`ivif.models.spec.load_model_from_spec` load ``models:/`` and ``runs:/``
    specs from ``tracking_uri`` (checked to exist when a model is loaded)."""
    from ivif.models.spec import MLFLOW_PREFIXES, register_spec_loader

    for prefix in MLFLOW_PREFIXES:
        register_spec_loader(prefix, lambda spec: load_torch_model(spec, tracking_uri=tracking_uri))


PYFUNC_FLAVOR = "python_function"


def load_torch_model(uri: str, tracking_uri: str | None = None, map_location: str = "cpu"):
    """``torch.nn.Module`` (eval mode) of the logged fusion model at ``uri``.

    ``uri`` is any MLflow model URI (``models:/NAME@ALIAS``, ``models:/NAME/VERSION``,
    ``runs:/RUN/model``). The store is ``tracking_uri``, else :func:`lookup_store`; it
    must exist (:func:`existing_store`).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from ivif.models.checkpoint import load_model

    store = existing_store(tracking_uri or lookup_store())
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
        raise ValueError(
            f"{uri or model_dir}: not an ivif fusion model (no '{CHECKPOINT_ARTIFACT}' artifact); log it with ivif.registry.log_and_register"
        )
    return model_dir / artifact["path"]
