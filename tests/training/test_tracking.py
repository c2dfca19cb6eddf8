"""The MLflow record of a training run, on a real sqlite store in tmp_path, trained
through the Prefect flow ``flows/train.py`` (temporary Prefect API)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ivif_testkit import MLFLOW_URI_VARIABLES, PROJECT_ROOT, mlflow_uris_restored, template_store

from ivif.data.digest import sha256_file
from ivif.params import load_params
from ivif.registry.register import train_and_register
from ivif.training.run import apply_overrides, train_from_params

if str(PROJECT_ROOT) not in sys.path:  # flows/ is imported from the project root
    sys.path.insert(0, str(PROJECT_ROOT))


@pytest.fixture
def default_store(monkeypatch, tiny_project, tmp_path_factory):
    """No MLFLOW_* URIs: the params' sqlite store (``mlflow.db`` next to params.yaml) is used.

    The store starts as a copy of an initialised empty one (creating the schema costs
    ~10 s); MLflow's process-wide URIs are put back afterwards.
    """
    for variable in MLFLOW_URI_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    shutil.copy(template_store(tmp_path_factory), tiny_project.parent / "mlflow.db")
    with mlflow_uris_restored():
        yield


@pytest.mark.slow
def test_run_params_metrics_artifacts_and_registered_candidate(tiny_project, default_store, prefect_harness):
    import mlflow

    from flows.train import training_flow

    root = tiny_project.parent
    overrides = ["train.eval_images=1"]
    summary = training_flow(str(tiny_project), overrides, str(root / "models" / "cnn-aptp"))
    assert summary["model"] == "cnn" and summary["step"] == 8 and summary["registered_model"] == "ivif-cnn-aptp"

    store = f"sqlite:///{root / 'mlflow.db'}"
    client = mlflow.MlflowClient(store)
    run = client.get_run(summary["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["train.model"] == "cnn" and run.data.params["train.lr"] == "0.003"
    assert run.data.params["pairs.out_dir"] == "data/pairs"
    tags = run.data.tags
    assert tags["paradigm"] == "aptp" and tags["manifest_name"] == "aptp" and tags["N"] == "4" and tags["pairs_per_epoch"] == "16"
    assert len(tags["manifest_sha256"]) == 64 and len(tags["data_ir_hash"]) == 64 and tags["git_commit"]
    history = client.get_metric_history(run.info.run_id, "loss/total")
    assert [m.step for m in history] == [4, 8]
    assert {"eval/EN", "eval/MI", "eval/VIF", "eval/Qabf", "lr"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "train")}
    assert {"train/loss.csv", "train/loss.png", "train/previews.png", "train/manifest.json", "train/metrics.json"} <= artifacts

    version = client.get_model_version_by_alias("ivif-cnn-aptp", "candidate")
    assert str(version.version) == summary["version"] == "1" and version.run_id == run.info.run_id
    assert version.tags["ivif.sha256"] == sha256_file(root / "models" / "cnn-aptp" / "model.pt")

    # A fresh process loads the registered model by its URI and fuses an odd-sized pair.
    script = (
        "import sys, torch; from ivif.registry import load_torch_model; from ivif.fusion.full import fuse_full;"
        "m = load_torch_model('models:/ivif-cnn-aptp@candidate', tracking_uri=sys.argv[1]);"
        "print(tuple(fuse_full(m, torch.rand(1, 2, 13, 17)).shape))"
    )
    env = {**{k: v for k, v in os.environ.items() if k not in MLFLOW_URI_VARIABLES}, "OMP_NUM_THREADS": "1"}
    fused = subprocess.run([sys.executable, "-c", script, store], capture_output=True, text=True, env=env, timeout=180)
    assert fused.returncode == 0, fused.stderr[-2000:]
    assert fused.stdout.strip().splitlines()[-1] == "(1, 1, 13, 17)"

    # --resume (here through the library entry) continues the same MLflow run; the
    # finished run rewrites the same model.pt, so registering it reuses version 1.
    recorded = json.loads((root / "models" / "cnn-aptp" / "mlflow_run.json").read_text())
    assert recorded["run_id"] == run.info.run_id
    params = apply_overrides(load_params(tiny_project), overrides)
    resumed = train_and_register(params, root=root, progress=False, resume=True)
    assert resumed.run_id == run.info.run_id
    assert str(resumed.model_version.version) == "1"
    assert len(client.search_model_versions("name='ivif-cnn-aptp'")) == 1


# ------------------------------------------------ tracking never stops training (issue 13)
LOCK_S = 26  # longer than MLflow's sqlite busy timeout (20 s): a metric write fails outright
LOCKER = "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('COMMIT')"
FAIL_FAST_S = 15


class LockStoreAt:
    """Engine callback placed before the tracker: at ``step`` another process locks the store."""

    def __init__(self, db, step: int, seconds: float):
        self.db, self.step, self.seconds, self.proc = db, step, seconds, None

    def on_log(self, step, metrics):
        if step == self.step and self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(self.db), str(self.seconds)], stdout=subprocess.PIPE, text=True)
            assert self.proc.stdout.readline().strip() == "locked"


def tracked_trainer(params_path, callbacks_before):
    """train_from_params's wiring, with extra callbacks ahead of the MLflow tracker."""
    from ivif.data.config import DataConfig
    from ivif.pairing.config import PairsConfig
    from ivif.params import section
    from ivif.tracking.store import TrackingConfig
    from ivif.training.config import TrainConfig
    from ivif.training.engine import Trainer
    from ivif.training.paths import RunPaths
    from ivif.training.tracking import MlflowTracker

    params, root = load_params(params_path), params_path.parent
    config = section(params, "train", TrainConfig)
    paths = RunPaths.for_run(
        section(params, "data", DataConfig).cache_root,
        section(params, "pairs", PairsConfig).out_dir,
        config,
        root / "models" / "run",
        root=root,
    )
    tracker = MlflowTracker(params, config, section(params, "tracking", TrackingConfig), root, paths.out_dir, paths.manifest)
    return tracker, Trainer(config, paths, callbacks=[*callbacks_before, tracker], progress=False)


@pytest.mark.slow  # the store stays locked for LOCK_S
def test_a_locked_store_delays_metrics_but_never_stops_training(tiny_project, default_store, caplog):
    import mlflow

    db = tiny_project.parent / "mlflow.db"
    locker = LockStoreAt(db, step=4, seconds=LOCK_S)
    tracker, trainer = tracked_trainer(tiny_project, [locker])
    with caplog.at_level(logging.WARNING, logger="ivif.tracking.resilient"), tracker:
        result = trainer.fit()
    locker.proc.wait(timeout=60)
    assert result.step == 8 and result.paths.model_file.is_file()
    warnings = [r.getMessage() for r in caplog.records if r.name == "ivif.tracking.resilient"]
    assert len(warnings) == 2 and "writing metrics to" in warnings[0] and "database is locked" in warnings[0]
    assert "answers again" in warnings[1]
    client = mlflow.MlflowClient(f"sqlite:///{db}")
    run = client.get_run(tracker.run_id)
    assert run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(tracker.run_id, "loss/total")] == [4, 8]
    assert [m.step for m in client.get_metric_history(tracker.run_id, "lr")] == [4, 8]


def test_an_unreachable_store_fails_fast_naming_it(tiny_project, default_store, monkeypatch):
    from ivif.tracking.resilient import TrackingUnavailable

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    began = time.monotonic()
    with pytest.raises(TrackingUnavailable, match=f"MLflow tracking store {re.escape(uri)} is unreachable.*MLFLOW_TRACKING_URI"):
        train_from_params(
            load_params(tiny_project), root=tiny_project.parent, out_dir=tiny_project.parent / "models" / "run", progress=False
        )
    assert time.monotonic() - began <= FAIL_FAST_S
    assert not (tiny_project.parent / "models" / "run" / "checkpoints").exists(), "training must not have started"


@pytest.mark.slow  # a training process is started and killed
def test_a_killed_training_run_is_marked_killed_by_the_next(tiny_project, default_store):
    import mlflow

    from ivif.registry.listing import list_versions
    from ivif.tracking.resilient import OWNER_TAG, process_identity

    root = tiny_project.parent
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    env = {**{k: v for k, v in os.environ.items() if k not in MLFLOW_URI_VARIABLES}, "OMP_NUM_THREADS": "1"}
    ivif = str(Path(sys.executable).with_name("ivif"))
    command = [
        ivif,
        "train",
        "--params",
        str(tiny_project),
        "--out",
        str(root / "models" / "killed"),
        "--no-progress",
        "train.max_steps=100000",
    ]
    proc = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not (
            runs := client.search_runs([e.experiment_id for e in client.search_experiments()], f"tags.`{OWNER_TAG}` LIKE '%:{proc.pid}:%'")
        ):
            assert proc.poll() is None and time.monotonic() < deadline, "training never started its run"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    killed = runs[0].info.run_id
    assert client.get_run(killed).info.status == "RUNNING"  # what a SIGKILL leaves

    train_from_params(load_params(tiny_project), root=root, out_dir=root / "models" / "next", progress=False)
    assert client.get_run(killed).info.status == "KILLED"

    # `ivif registry` (its listing) notices too (the killed pid is dead, reaped); a live owner's run is left alone
    experiment = client.get_run(killed).info.experiment_id
    orphan = client.create_run(experiment, tags={OWNER_TAG: process_identity(proc.pid)}).info.run_id
    mine = client.create_run(experiment, tags={OWNER_TAG: process_identity()}).info.run_id
    list_versions(client)
    assert client.get_run(orphan).info.status == "KILLED" and client.get_run(mine).info.status == "RUNNING"
