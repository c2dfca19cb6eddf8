"""Logging a trained model to its MLflow run and registering it as the new candidate."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from ivif.registry.aliases import CANDIDATE, move_alias, registered_name
from ivif.registry.pyfunc import log_fusion_model

ARCHITECTURE_TAG = "ivif.architecture"
RUN_ID_TAG = "ivif.run_id"
REGISTERED_MODEL_DESCRIPTION = (
    "ivif infrared-visible fusion model ({architecture}). Input: base64 images in columns "
    "'ir' and 'vi'; output: base64 PNG in column 'fused'. Aliases: 'candidate' = latest "
    "trained, 'champion' = passed the gate."
)


def log_and_register(
    model,
    model_name: str,
    run=None,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    alias: str = CANDIDATE,
    checkpoint_extra: Mapping[str, Any] | None = None,
    client=None,
):
    """Log ``model`` to ``run`` as a fusion pyfunc, register it as ``ivif-<model_name>``
    and point ``alias`` (default ``candidate``) at the new version.

    ``run`` is an ``ActiveRun``/``Run``, a run id, or None for the active run.
    ``model_kwargs`` are the ``create_model`` keyword arguments that rebuild ``model``.
    ``tags`` (e.g. paradigm, data hash) are copied onto the model version. Returns the
    registered ``ModelVersion`` (with its aliases filled in).
    """
    import mlflow

    client = client or mlflow.MlflowClient()
    name = registered_name(model_name)
    with _in_run(run) as run_id:
        info = log_fusion_model(model, model_name, model_kwargs, checkpoint_extra=checkpoint_extra)
    version_tags = {ARCHITECTURE_TAG: model_name, RUN_ID_TAG: run_id, **{k: str(v) for k, v in dict(tags or {}).items()}}
    _ensure_registered_model(client, name, model_name)
    version = client.create_model_version(name, info.model_uri, run_id=run_id, tags=version_tags)
    _wait_until_ready(client, name, version.version)
    move_alias(client, name, alias, version.version)
    return client.get_model_version(name, version.version)


@contextlib.contextmanager
def _in_run(run) -> Iterator[str]:
    """Make ``run`` the active run for the block (resuming it if needed); yield its id."""
    import mlflow

    run_id = _run_id(run)
    active = mlflow.active_run()
    if active is not None and (run_id is None or active.info.run_id == run_id):
        yield active.info.run_id
        return
    if run_id is None:
        raise ValueError("log_and_register needs a run: pass run=<run or run id> or call it inside mlflow.start_run()")
    with mlflow.start_run(run_id=run_id, nested=active is not None):
        yield run_id


def _run_id(run) -> str | None:
    if run is None or isinstance(run, str):
        return run
    return run.info.run_id


def _ensure_registered_model(client, name: str, architecture: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(
                name,
                tags={ARCHITECTURE_TAG: architecture},
                description=REGISTERED_MODEL_DESCRIPTION.format(architecture=architecture),
            )
        except MlflowException:
            pass  # registered concurrently by another process


def _wait_until_ready(client, name: str, version: str, timeout_s: float = 300.0, poll_s: float = 0.5) -> None:
    """Remote registries create versions asynchronously; local ones are READY at once."""
    import time

    from mlflow.entities.model_registry.model_version_status import ModelVersionStatus

    deadline = time.monotonic() + timeout_s
    while True:
        status = client.get_model_version(name, version).status
        if status == ModelVersionStatus.to_string(ModelVersionStatus.READY):
            return
        if status == ModelVersionStatus.to_string(ModelVersionStatus.FAILED_REGISTRATION) or time.monotonic() > deadline:
            raise RuntimeError(f"model version {name} v{version} did not become READY (status {status})")
        time.sleep(poll_s)
