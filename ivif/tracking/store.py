"""Where MLflow runs and registered models live.

One rule everywhere (CLI, DVC stages, Prefect flows, tests): ``MLFLOW_TRACKING_URI``
wins; otherwise the store named in ``params.yaml`` (``tracking.store``), by default a
sqlite database in the project. A relative sqlite path is resolved against the project
root rather than the current directory, so ``dvc repro`` and ``ivif registry`` run from
anywhere see the same registry.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ivif.tracking.resilient import preflight

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
REGISTRY_URI_ENV = "MLFLOW_REGISTRY_URI"
DEFAULT_STORE = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "ivif"
# Artifacts of a local store sit next to the database (MLflow's own default is ./mlruns
# relative to whatever the current directory happens to be).
LOCAL_ARTIFACT_DIR = "mlartifacts"
_SQLITE_PREFIX = "sqlite:///"


@dataclass(frozen=True)
class TrackingConfig:
    """The ``tracking:`` section of ``params.yaml``."""

    store: str = DEFAULT_STORE
    """Tracking/registry URI used when ``MLFLOW_TRACKING_URI`` is unset. A relative
    ``sqlite:///`` path is relative to the project root."""
    experiment: str = DEFAULT_EXPERIMENT
    """MLflow experiment that training and evaluation runs go to."""

    def __post_init__(self) -> None:
        if not self.store:
            raise ValueError("tracking.store must be a URI such as sqlite:///mlflow.db")
        if not self.experiment:
            raise ValueError("tracking.experiment must be a non-empty name")


def resolve_tracking_uri(
    store: str = DEFAULT_STORE,
    base_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The tracking URI to use: ``$MLFLOW_TRACKING_URI`` if set, else ``store``.

    A relative sqlite path in ``store`` is made absolute against ``base_dir`` (default:
    the current directory).
    """
    env = os.environ if environ is None else environ
    if env.get(TRACKING_URI_ENV):
        return env[TRACKING_URI_ENV]
    return absolute_store_uri(store, base_dir)


def absolute_store_uri(store: str, base_dir: str | Path | None = None) -> str:
    """``sqlite:///rel.db`` -> ``sqlite:////abs/base/rel.db``; other URIs unchanged."""
    if not store.startswith(_SQLITE_PREFIX):
        return store
    db_path = Path(store[len(_SQLITE_PREFIX) :])
    if not db_path.is_absolute():
        db_path = Path(base_dir or Path.cwd()).resolve() / db_path
    return f"{_SQLITE_PREFIX}{db_path}"


def local_artifact_root(tracking_uri: str) -> str | None:
    """Artifact folder for a local sqlite store (next to the database), else None.

    Remote stores (an MLflow server) choose their own artifact location.
    """
    if not tracking_uri.startswith(_SQLITE_PREFIX):
        return None
    db_path = Path(tracking_uri[len(_SQLITE_PREFIX) :])
    return (db_path.parent / LOCAL_ARTIFACT_DIR).as_uri()


def configure_tracking(
    config: TrackingConfig | None = None,
    base_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Point MLflow (tracking and registry) at the resolved store; return its URI.

    An HTTP store that does not answer raises
    :class:`ivif.tracking.resilient.TrackingUnavailable` within seconds. Also selects
    ``config.experiment``, creating it with a project-local artifact root
    when the store is a local sqlite file. ``environ`` replaces ``os.environ`` for the
    ``MLFLOW_TRACKING_URI`` lookup (``{}`` ignores it).
    """
    config = config or TrackingConfig()
    uri = resolve_tracking_uri(config.store, base_dir, environ)
    preflight(uri)  # an unreachable server fails in seconds, naming the URI
    if uri.startswith(_SQLITE_PREFIX):
        Path(uri[len(_SQLITE_PREFIX) :]).parent.mkdir(parents=True, exist_ok=True)
    use_store(uri)
    ensure_experiment(config.experiment, uri)
    return uri


def use_store(uri: str) -> None:
    """Make ``uri`` MLflow's tracking and registry URI in this process only.

    ``mlflow.set_tracking_uri`` also exports ``MLFLOW_TRACKING_URI``; left in place, that
    export would later pass for the user's own setting and override every params store
    this process resolves afterwards. So the environment is put back as it was.
    """
    _set_without_export(uri, uri)


@contextlib.contextmanager
def using_store(uri: str) -> Iterator[str]:
    """Temporarily make ``uri`` MLflow's store (some MLflow calls, e.g. resolving a
    ``models:/NAME@ALIAS`` URI, only consult the process-wide registry URI)."""
    import mlflow

    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    use_store(uri)
    try:
        yield uri
    finally:
        _set_without_export(*previous)


def _set_without_export(tracking_uri: str, registry_uri: str) -> None:
    import mlflow

    saved = {key: os.environ.get(key) for key in (TRACKING_URI_ENV, REGISTRY_URI_ENV)}
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def ensure_experiment(name: str, tracking_uri: str) -> str:
    """Select experiment ``name`` (created if missing); return its id."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        experiment_id = experiment.experiment_id
    else:
        try:
            experiment_id = client.create_experiment(name, artifact_location=local_artifact_root(tracking_uri))
        except MlflowException:
            # another process (a parallel DVC stage or flow) created it first
            experiment_id = client.get_experiment_by_name(name).experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
