"""MLflow for a study: one parent run per study, one child run per cell, nothing registered.

Runs are created with an explicit :class:`mlflow.MlflowClient` and the parent's id (tag
``mlflow.parentRunId``), so cells on other worker processes or machines attach to the
same parent; a resumed cell reopens its own child run (its id is kept in the cell
folder). The store is the study's ``tracking.store``, else ``$MLFLOW_TRACKING_URI``,
else ``sqlite:///<work_dir>/mlflow.db``.
"""

from __future__ import annotations

import logging
import os

from ivif.io.atomic import atomic_write_text
from ivif.params import flatten
from ivif.study.cells import Cell, cell_dir
from ivif.study.spec import Study

log = logging.getLogger(__name__)

PARENT_FILE = "mlflow_parent.txt"
CHILD_FILE = "mlflow_run.txt"
PARENT_TAG = "mlflow.parentRunId"


def tracking_uri(study: Study) -> str:
    if study.tracking.store:
        return study.tracking.store
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{(study.work_dir / 'mlflow.db').resolve()}"


def _client(study: Study):
    import mlflow

    uri = tracking_uri(study)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _experiment_id(client, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment else client.create_experiment(name)


def open_parent_run(study: Study) -> str | None:
    """The study's parent run id (created once, reused on reruns); None when tracking is off."""
    if not study.tracking.enabled:
        return None
    path = study.work_dir / PARENT_FILE
    client = _client(study)
    if path.is_file():
        run_id = path.read_text().strip()
        try:
            client.get_run(run_id)
            return run_id
        except Exception as exc:  # noqa: BLE001 - a store that lost the run: start a new parent
            log.warning("MLflow parent run %s not found in %s (%s); starting a new one", run_id, tracking_uri(study), exc)
    study.work_dir.mkdir(parents=True, exist_ok=True)
    run = client.create_run(_experiment_id(client, study.tracking.experiment), run_name=f"study-{study.name}",
                            tags={"ivif.study": study.name, "ivif.study_file": str(study.path)})  # fmt: skip
    atomic_write_text(path, run.info.run_id + "\n")
    return run.info.run_id


def close_parent_run(study: Study, run_id: str | None, failed_cells: int) -> None:
    if run_id:
        client = _client(study)
        client.set_tag(run_id, "ivif.failed_cells", str(failed_cells))
        client.set_terminated(run_id, status="FINISHED")


def open_child_run(study: Study, cell: Cell, parent_run_id: str):
    """(client, run id) of the cell's child run, reopened if it already exists."""
    client = _client(study)
    path = cell_dir(study, cell) / CHILD_FILE
    if path.is_file():
        run_id = path.read_text().strip()
        try:
            client.update_run(run_id, status="RUNNING")
            return client, run_id
        except Exception as exc:  # noqa: BLE001 - unknown to this store: make a new one
            log.warning("MLflow child run %s not found (%s); starting a new one", run_id, exc)
    parent = client.get_run(parent_run_id)
    tags = {PARENT_TAG: parent_run_id, "ivif.study": study.name, "ivif.cell": cell.id, "ivif.cell_short": cell.short_id,
            **{f"ivif.axis.{k}": v for k, v in cell.axes().items()}}  # fmt: skip
    run = client.create_run(parent.info.experiment_id, run_name=cell.label, tags=tags)
    params = {k: str(v)[:500] for k, v in flatten(dict(cell.config)).items()}
    from mlflow.entities import Param

    items = [Param(k, v) for k, v in sorted(params.items())]
    for start in range(0, len(items), 100):
        client.log_batch(run.info.run_id, params=items[start : start + 100])
    atomic_write_text(path, run.info.run_id + "\n")
    return client, run.info.run_id
