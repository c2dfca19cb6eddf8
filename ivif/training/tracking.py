"""MLflow tracking of a training run, as an engine callback.

What a run records:

- **params**: the whole ``params.yaml``, flattened (``train.lr``, ``pairs.manifests.aptp.policy``...);
- **tags**: git commit, the manifest's table hash and its caches' content hashes,
  paradigm, N (base images per side), model, pairs per epoch;
- **metrics**: the loss terms and learning rate every ``train.log_every`` steps,
  ``eval/<metric>`` at every evaluation and at the end;
- **artifacts**: ``train/loss.csv`` + ``train/loss.png`` (the loss curve),
  ``train/previews.png`` (IR | visible | fused on held-out images),
  ``train/manifest.json`` (the manifest summary), ``train/metrics.json``;
- the model is not registered here: registering ``model.pt`` into this run is a step
  of its own (:func:`ivif.registry.register.register_model_file`, DVC stage ``register``).

The store comes from :func:`ivif.registry.configure_tracking`: ``$MLFLOW_TRACKING_URI``,
else ``tracking.store`` of ``params.yaml`` (sqlite in the project by default). A resumed
run continues the same MLflow run (its id is kept in ``<out_dir>/mlflow_run.json``); the
run starts when the engine knows whether it resumes (:meth:`MlflowTracker.on_start`).
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ivif.io.atomic import atomic_write_text
from ivif.params import flatten
from ivif.tracking.resilient import MetricBuffer, owner_tags, sweep_quietly, with_retries
from ivif.training.config import TrainConfig
from ivif.training.evaluation import EvalResult

logger = logging.getLogger(__name__)

RUN_ID_FILE = "mlflow_run.json"
ARTIFACT_DIR = "train"
# MLflow refuses param values longer than this; longer ones (id lists) are truncated.
MAX_PARAM_LENGTH = 6000


def git_commit(root: str | Path) -> str:
    """The checkout's HEAD commit (``+dirty`` if it has changes), or ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def run_tags(config: TrainConfig, manifest_dir: str | Path, root: str | Path) -> dict[str, str]:
    """Provenance tags: code version, data and manifest hashes, manifest, paradigm, N."""
    from ivif.pairing.manifest import read_summary
    from ivif.pairing.policies import paradigm_name

    summary = read_summary(manifest_dir)
    sources = summary["sources"]
    return {
        "git_commit": git_commit(root),
        "model": config.model,
        "manifest_name": config.manifest,
        "paradigm": paradigm_name(summary["policy"]).lower(),
        "policy": summary["policy"],
        "N": str(summary["counts"]["ir"]),
        "N_vis": str(summary["counts"]["vis"]),
        "pairs_per_epoch": str(summary["counts"]["pairs_per_epoch"]),
        "manifest": str(manifest_dir),
        "manifest_sha256": summary["table"]["sha256"],
        "data_ir_hash": sources["ir"]["content_hash"],
        "data_vis_hash": sources["vis"]["content_hash"],
        "data_ir": f"{sources['ir']['dataset']}/{sources['ir']['split']}",
        "data_vis": f"{sources['vis']['dataset']}/{sources['vis']['split']}",
    }


def mlflow_params(params: Mapping[str, Any]) -> dict[str, str]:
    """``params.yaml`` flattened to MLflow params (values as strings, length-capped)."""
    return {key: str(value)[:MAX_PARAM_LENGTH] for key, value in flatten(params).items()}


class MlflowTracker:
    """Engine callback that records a run in MLflow; use as a context manager.

    Args:
        params: the whole params mapping (logged flattened).
        config: the ``train:`` section.
        tracking: ``ivif.registry.TrackingConfig`` (store and experiment).
        root: project root (relative sqlite stores, git commit).
        out_dir: run folder (keeps the MLflow run id for ``--resume``).
        manifest_dir: the pairing manifest (tags, summary artifact).
        resume: continue the MLflow run recorded in ``out_dir`` if there is one and the
            engine resumes its checkpoint.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        config: TrainConfig,
        tracking,
        root: str | Path,
        out_dir: str | Path,
        manifest_dir: str | Path,
        resume: bool = False,
    ):
        self.params, self.config, self.tracking = params, config, tracking
        self.root, self.out_dir, self.manifest_dir = Path(root), Path(out_dir), Path(manifest_dir)
        self.resume = resume
        self.run_id: str | None = None
        self.tracking_uri: str | None = None
        self.tags: dict[str, str] = {}
        self.end_status = "FINISHED"  # KILLED when a signal stopped the run (resume continues the same run)
        self.metrics_buffer: MetricBuffer | None = None

    # ----------------------------------------------------------- run lifetime
    def __enter__(self) -> MlflowTracker:
        import mlflow

        from ivif.tracking.store import configure_tracking

        self.tracking_uri = configure_tracking(self.tracking, base_dir=self.root)  # fails fast if unreachable
        sweep_quietly(mlflow.MlflowClient(self.tracking_uri))  # runs left RUNNING by killed processes -> KILLED
        return self

    def on_start(self, step: int, resumed: bool) -> None:
        """Start the MLflow run: the recorded one when the engine resumed its checkpoint."""
        import mlflow

        client = mlflow.MlflowClient(self.tracking_uri)
        previous = self._previous_run_id() if (self.resume and resumed) else None
        name = None if previous else self.config.run_name
        run = with_retries(lambda: mlflow.start_run(run_id=previous, run_name=name), "starting the run")
        self.run_id = run.info.run_id
        self.metrics_buffer = MetricBuffer(client, self.run_id, self.tracking_uri)
        atomic_write_text(self.out_dir / RUN_ID_FILE, json.dumps({"run_id": self.run_id, "tracking_uri": self.tracking_uri}) + "\n")
        if previous is None:
            with_retries(lambda: mlflow.log_params(mlflow_params(self.params)), "logging params")
        self.tags = run_tags(self.config, self.manifest_dir, self.root)
        with_retries(lambda: mlflow.set_tags({**self.tags, **owner_tags()}), "tagging the run")

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        if self.run_id is None:
            return
        if self.metrics_buffer is not None:
            self.metrics_buffer.flush()
        status = "FAILED" if exc_type is not None else self.end_status
        try:
            with_retries(lambda: mlflow.end_run(status=status), "ending the run")
        except Exception as error:  # noqa: BLE001 - the model is saved; the next run's sweep marks it
            logger.warning("tracking: run %s could not be ended as %s in %s (%s)", self.run_id, status, self.tracking_uri, error)

    def _previous_run_id(self) -> str | None:
        path = self.out_dir / RUN_ID_FILE
        if not path.is_file():
            return None
        recorded = json.loads(path.read_text())
        # A run recorded in another store cannot be continued here.
        return recorded["run_id"] if recorded.get("tracking_uri") == self.tracking_uri else None

    # -------------------------------------------------------------- callbacks
    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        self.metrics_buffer.log(dict(metrics), step)  # a failing store delays, never raises

    def on_eval(self, step: int, result: EvalResult) -> None:
        self.metrics_buffer.log({f"eval/{name}": value for name, value in result.metrics.items()}, step)

    def on_end(self, result) -> None:
        import mlflow

        from ivif.pairing.manifest import SUMMARY_FILE

        if result.eval_metrics:
            self.metrics_buffer.log({f"eval/{name}": value for name, value in result.eval_metrics.items()}, result.step)
        paths = result.paths
        for artifact in (paths.plots, paths.loss_png, paths.previews_png, paths.metrics, self.manifest_dir / SUMMARY_FILE):
            if Path(artifact).is_file():
                mlflow.log_artifact(str(artifact), artifact_path=ARTIFACT_DIR)
