"""Registering fusion models: a built model file (:func:`register_model_file`, what the
DVC stage ``register`` and the retrain flow call) or an in-memory model
(:func:`log_and_register`).

A registered file carries its sha256 as the version tag ``ivif.sha256``; registering
the same bytes again returns that version instead of creating another, so the registry
holds exactly the files the pipeline built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ivif.data.digest import sha256_file
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
    name: str | None = None,
):
    """Log ``model`` to ``run`` as a fusion pyfunc, register it as ``name`` (default ``ivif-<model_name>``)
    and point ``alias`` (default ``candidate``) at the new version.

    ``run`` is an ``ActiveRun``/``Run``, a run id, or None for the active run.
    ``model_kwargs`` are the ``create_model`` keyword arguments that rebuild ``model``.
    ``tags`` (e.g. paradigm, data hash) are copied onto the model version. Returns the
    registered ``ModelVersion`` (with its aliases filled in).
    """
    import mlflow

    client = client or mlflow.MlflowClient()
    name = registered_name(name or model_name)
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


# ------------------------------------------------------------------ a built model file
SHA256_TAG = "ivif.sha256"
MANIFEST_TAG = "ivif.manifest"
STEP_TAG = "ivif.step"


def registered_name_of_checkpoint(checkpoint: Mapping[str, Any], source: str | Path = "") -> str:
    """``ivif-<model>-<manifest>`` for a checkpoint written by training (``ivif-cnn-aptp``)."""
    from ivif.training.config import run_name

    manifest = checkpoint.get("manifest")
    if not manifest:
        raise ValueError(f"{source}: this checkpoint records no training manifest; name the registered model yourself (--name ivif-<name>)")
    return registered_name(run_name(checkpoint["model_name"], manifest))


def find_version_by_sha256(client, name: str, sha256: str):
    """The version of ``name`` tagged with this file hash, or None (the oldest if several)."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException:
        return None
    matches = [v for v in versions if (v.tags or {}).get(SHA256_TAG) == sha256]
    return min(matches, key=lambda v: int(v.version)) if matches else None


def register_model_file(
    model_file: str | Path,
    *,
    run_id: str | None = None,
    tracking_uri: str | None = None,
    name: str | None = None,
    experiment: str | None = None,
    alias: str | None = CANDIDATE,
):
    """Register exactly the ivif checkpoint ``model_file``; return its ``ModelVersion``.

    The file is logged byte for byte into MLflow run ``run_id`` (the training's run; a
    new run in ``experiment``, else in the active experiment, when None or absent from
    this store) and registered as
    ``name`` (default: ``ivif-<model>-<manifest>`` from the checkpoint), its sha256 in
    the version tag ``ivif.sha256``. A file registered before under ``name`` is not
    logged again: its existing version is returned. ``alias`` (default ``candidate``,
    None for none) is pointed at a newly created version only.
    """
    import mlflow

    from ivif.models.checkpoint import load_checkpoint
    from ivif.registry.pyfunc import log_fusion_checkpoint
    from ivif.tracking.store import ensure_experiment, using_store

    model_file = Path(model_file)
    checkpoint = load_checkpoint(model_file)
    name = registered_name(name) if name else registered_name_of_checkpoint(checkpoint, model_file)
    sha256 = sha256_file(model_file)
    store = tracking_uri or mlflow.get_tracking_uri()
    client = mlflow.MlflowClient(store, registry_uri=store)
    with using_store(store):
        existing = find_version_by_sha256(client, name, sha256)
        if existing is not None:
            return client.get_model_version(name, existing.version)
        run = _existing_run(client, run_id)
        if run is not None:  # fluent MLflow resumes a run only inside its own experiment
            mlflow.set_experiment(experiment_id=run.info.experiment_id)
        elif experiment:
            ensure_experiment(experiment, store)
        with mlflow.start_run(run_id=run.info.run_id if run else None, run_name=None if run else f"register-{name}") as active:
            run_id = active.info.run_id
            info = log_fusion_checkpoint(model_file)
        tags = {
            ARCHITECTURE_TAG: checkpoint["model_name"],
            RUN_ID_TAG: run_id,
            SHA256_TAG: sha256,
            MANIFEST_TAG: str(checkpoint.get("manifest", "")),
            STEP_TAG: str(checkpoint.get("step", "")),
        }
        _ensure_registered_model(client, name, checkpoint["model_name"])
        version = client.create_model_version(name, info.model_uri, run_id=run_id, tags=tags)
        _wait_until_ready(client, name, version.version)
        if alias:
            move_alias(client, name, alias, version.version)
        return client.get_model_version(name, version.version)


def _existing_run(client, run_id: str | None):
    """The run ``run_id`` in this store, or None (no id, or a store that lacks it)."""
    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    try:
        return client.get_run(run_id)
    except MlflowException:
        return None


# ------------------------------------------------- the record the next stage reads
def registration_record(version, store: str) -> dict[str, str]:
    """What ``registered.json`` holds: name, version, file hash, run and store."""
    tags = version.tags or {}
    return {
        "name": version.name,
        "version": str(version.version),
        "sha256": tags.get(SHA256_TAG, ""),
        "run_id": version.run_id or "",
        "created_ms": str(version.creation_timestamp or ""),
        "tracking_uri": store,
    }


def write_registration(path: str | Path, version, store: str) -> Path:
    """Write the registration record of ``version`` to ``path`` (atomically)."""
    import json

    from ivif.io.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(registration_record(version, store), indent=2) + "\n")
    return Path(path)


def read_registration(path: str | Path) -> dict[str, str]:
    """The record :func:`write_registration` wrote; errors name the file and the fix."""
    import json

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no registration record; register the model first (`dvc repro register` or `ivif registry register`)"
        )
    record = json.loads(path.read_text())
    missing = [key for key in ("name", "version", "sha256") if not record.get(key)]
    if missing:
        raise ValueError(f"{path}: registration record lacks {missing}; register the model again (`dvc repro register`)")
    return record


def verified_version(client, record: Mapping[str, str], model_file: str | Path, source: str | Path = "registered.json"):
    """The registered version ``record`` names, checked against this store and ``model_file``.

    Raises ValueError when the version is not in the store (a reset or other store) or
    its ``ivif.sha256`` tag is not the hash of ``model_file`` (the record is stale).
    """
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version(record["name"], record["version"])
    except MlflowException as exc:
        raise ValueError(
            f"{source}: {record['name']} version {record['version']} is not in this registry ({exc.message}); "
            "register the model again (`dvc repro register`)"
        ) from exc
    sha256 = sha256_file(model_file)
    tagged = (version.tags or {}).get(SHA256_TAG)
    if tagged != record["sha256"] or tagged != sha256:
        raise ValueError(
            f"{source}: {record['name']} version {record['version']} holds a file with sha256 {tagged}, but {model_file} "
            f"has {sha256}; register the model again (`dvc repro register`)"
        )
    return version


def train_and_register(params, **train_kwargs):
    """:func:`ivif.training.run.train_from_params`, then register exactly the ``model.pt``
    it wrote (:func:`register_model_file`) when the run completed and was tracked.

    Returns the :class:`~ivif.training.run.TrainOutcome` with ``model_version`` filled in
    (None for an interrupted or untracked run).
    """
    from ivif.training.run import train_from_params

    outcome = train_from_params(params, **train_kwargs)
    if outcome.result.completed and outcome.run_id is not None:
        outcome.model_version = register_model_file(
            outcome.result.paths.model_file, run_id=outcome.run_id, tracking_uri=outcome.tracking_uri
        )
    return outcome
