"""The Prefect study flow end to end: the smoke preset on a real Dask LocalCluster, and a
study killed partway that reruns only its unfinished cells."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from studykit import study_dict, write_study

from ivif.study.cells import cell_dir, expand
from ivif.study.spec import load_study

pytestmark = pytest.mark.slow


def test_smoke_study_on_local_dask_cluster(tmp_path, project_root, shared, prefect_harness, monkeypatch):
    import mlflow

    from flows.study import run

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    smoke = yaml.safe_load((project_root / "studies" / "smoke.yaml").read_text())
    smoke.update(work_dir=str(tmp_path / "work"), report_dir=str(tmp_path / "report"))
    smoke["data"]["root"] = str(tmp_path / "data")
    path = write_study(tmp_path / "smoke.yaml", smoke)
    summary = run(str(path), jobs=2, cluster="local", root=str(project_root))
    study = load_study(path, project_root)
    cells = expand(study)
    assert summary["cells"] == len(cells) == 5 and summary["failed"] == 0
    report = (tmp_path / "report" / "report.md").read_text()
    for section in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Reference", "Gallery"):
        assert f"## {section}" in report
    assert "Partial report" not in report  # every cell finished
    assert (tmp_path / "report" / "fig_metric_vs_n.png").stat().st_size > 0
    assert (tmp_path / "report" / "gallery" / "sample.png").stat().st_size > 0
    rows = (tmp_path / "report" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 and all(",done," in r for r in rows[1:])

    # one parent run, one child run per cell, nothing registered
    uri = f"sqlite:///{(tmp_path / 'work' / 'mlflow.db').resolve()}"
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    parent = (tmp_path / "work" / "mlflow_parent.txt").read_text().strip()
    experiment = client.get_run(parent).info.experiment_id
    children = client.search_runs([experiment], f"tags.`mlflow.parentRunId` = '{parent}'")
    assert sorted(r.data.tags["ivif.cell"] for r in children) == sorted(c.id for c in cells)
    assert all(r.info.status == "FINISHED" for r in children)
    assert client.search_registered_models() == []


def test_killed_study_reruns_only_unfinished_cells(tmp_path, project_root, sample_dir, prefect_harness):
    blocks = [{"name": "scale", "paradigms": ["sptp", "aptp"], "n": [2], "budget": "equal"},
              {"name": "more", "paradigms": ["aptp"], "n": [4], "budget": "equal"}]  # fmt: skip
    study_file = write_study(tmp_path / "s.yaml", study_dict(tmp_path, sample_dir, budgets={"equal": {"steps": 16}}, blocks=blocks))
    study = load_study(study_file, project_root)
    cells = expand(study)
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "flows.study", str(study_file), "--jobs", "1"], cwd=project_root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    results = [cell_dir(study, c) / "result.json" for c in cells]
    deadline = time.time() + 600
    try:
        while not any(p.is_file() for p in results):
            assert proc.poll() is None, "the study ended before any cell finished"
            assert time.time() < deadline, "no cell finished in time"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = {c.id: (cell_dir(study, c) / "result.json").read_bytes() for c in cells if (cell_dir(study, c) / "result.json").is_file()}
    assert 0 < len(finished) < len(cells)
    checkpoints = {}
    for c in cells:
        last = cell_dir(study, c) / "run" / "checkpoints" / "last.pt"
        if c.id not in finished and last.is_file():
            import torch

            checkpoints[c.id] = torch.load(last, weights_only=True)["step"]

    # the rerun as a user types it, with no Prefect server configured: the flow starts its own and exits cleanly
    own_server = {k: v for k, v in env.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(tmp_path / "prefect")}
    rerun = subprocess.run([sys.executable, "-m", "flows.study", str(study_file), "--jobs", "1"], cwd=project_root,
                           env=own_server, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"({len(cells)} cells, 0 failed)" in rerun.stdout
    for c in cells:
        folder = cell_dir(study, c)
        starts = (folder / "train_starts.log").read_text().count("\n")
        if c.id in finished:  # trained once, before the kill; result untouched
            assert starts == 1 and (folder / "result.json").read_bytes() == finished[c.id]
        else:
            assert (folder / "result.json").is_file()
            record = yaml.safe_load((folder / "result.json").read_text())
            assert record["resumed_from_step"] == checkpoints.get(c.id, 0)
