"""The MLflow record of a training run, on a real sqlite store in tmp_path, trained
through the Prefect flow ``flows/train.py`` (temporary Prefect API)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from ivif_testkit import MLFLOW_URI_VARIABLES, PROJECT_ROOT, mlflow_uris_restored, template_store

from ivif.params import load_params
from ivif.registry.register import file_sha256
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
def test_run_params_metrics_artifacts_and_registered_candidate(tiny_project, default_store):
    import mlflow
    from prefect.testing.utilities import prefect_test_harness

    from flows.train import training_flow

    root = tiny_project.parent
    overrides = ["train.eval_images=1"]
    with prefect_test_harness(server_startup_timeout=120):
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
    assert version.tags["ivif.sha256"] == file_sha256(root / "models" / "cnn-aptp" / "model.pt")

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
    resumed = train_from_params(params, root=root, progress=False, resume=True, register=True)
    assert resumed.run_id == run.info.run_id
    assert str(resumed.model_version.version) == "1"
    assert len(client.search_model_versions("name='ivif-cnn-aptp'")) == 1
