"""Retrain flow logic on a temporary Prefect API: gate, failure, retries, no overlap, and
runs that cannot leave their project or run commands it does not define."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import yaml
from scripted_trainer import ScriptedTrainingError

from flows.retrain import retrain_flow
from ivif.orchestration.dvc import StageError
from ivif.orchestration.project import PROJECT_ENV, ProjectError
from ivif.registry import CANDIDATE, CHAMPION, version_for_alias


def champion_version(project) -> str | None:
    version = version_for_alias(project.client(), "ivif-cnn", CHAMPION)
    return None if version is None else str(version.version)


def test_first_candidate_becomes_champion_and_a_failing_run_changes_nothing(prefect_harness, scripted_trainer, retrain_project):
    summary = retrain_flow(["scripted.quality=weak"], "scripted", refresh=False)
    assert summary["promoted"] and summary["reason"] == "promoted: no champion yet"
    assert champion_version(retrain_project) == summary["candidate_version"] == "1"

    with pytest.raises(ScriptedTrainingError):
        retrain_flow(["scripted.quality=fail"], "scripted", refresh=False)
    assert champion_version(retrain_project) == "1"
    assert str(version_for_alias(retrain_project.client(), "ivif-cnn", CANDIDATE).version) == "1"


def test_unknown_trainer_is_refused_before_any_work(prefect_harness, scripted_trainer, retrain_project):
    with pytest.raises(ValueError, match="unknown trainer 'os:system'"):
        retrain_flow([], "os:system", refresh=False)
    assert retrain_project.client().search_registered_models() == []


def make_flaky_dvc_project(root) -> None:
    """A DVC stage that fails on its first run and succeeds on the next (a flaky fetch)."""
    script = (
        "import pathlib, sys; p = pathlib.Path('attempts'); "
        "n = int(p.read_text()) if p.exists() else 0; p.write_text(str(n + 1)); sys.exit(1 if n == 0 else 0)"
    )
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    (root / "dvc.yaml").write_text(
        yaml.safe_dump({"stages": {"flaky_fetch": {"cmd": f'{sys.executable} -c "{script}"', "always_changed": True}}})
    )


def test_data_refresh_is_retried(prefect_harness, scripted_trainer, retrain_project):
    make_flaky_dvc_project(retrain_project.root)
    params = yaml.safe_load(retrain_project.params.read_text())
    params["retrain"].update(data_stages=["flaky_fetch"], fetch_retries=1, retry_delay_s=0)
    retrain_project.params.write_text(yaml.safe_dump(params))
    # refresh succeeds on its retry; then training fails on purpose, so nothing is gated
    with pytest.raises(ScriptedTrainingError):
        retrain_flow(["scripted.quality=fail"], "scripted", refresh=True)
    assert (retrain_project.root / "attempts").read_text() == "2"


def test_two_retrains_never_overlap(prefect_harness, scripted_trainer, retrain_project):
    record = retrain_project.root / "intervals.jsonl"
    overrides = ["scripted.quality=slow", f"scripted.record={record}"]
    errors = []

    def one_retrain():
        try:
            retrain_flow(overrides, "scripted", refresh=False)
        except ScriptedTrainingError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one_retrain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    intervals = sorted(json.loads(line) for line in record.read_text().splitlines())
    assert len(errors) == len(intervals) == 2
    (first_start, first_end), (second_start, _) = intervals
    assert second_start >= first_end, f"retrains overlapped: {intervals}"


def plant_pwn_pipelines(root, marker) -> None:
    """What an attacker plants: a dvc.yaml in a data folder (from a dataset archive) and a
    whole project folder elsewhere, each with a stage that creates ``marker``."""
    touch = f"{sys.executable} -c \"import pathlib; pathlib.Path(r'{marker}').touch()\""
    stages = {"stages": {"pwn": {"cmd": touch, "always_changed": True}, "fetch": {"cmd": touch, "always_changed": True}}}
    for folder in (root / "data" / "raw" / "tno", root / "evil"):
        folder.mkdir(parents=True)
        (folder / "dvc.yaml").write_text(yaml.safe_dump(stages))
    (root / "evil" / "params.yaml").write_text(yaml.safe_dump({"retrain": {"data_stages": ["fetch"], "manifest_stages": []}}))


def test_run_overrides_cannot_change_stage_lists_or_paths(prefect_harness, scripted_trainer, retrain_project):
    marker = retrain_project.root / "PWNED"
    make_flaky_dvc_project(retrain_project.root)  # the project is a real DVC project
    plant_pwn_pipelines(retrain_project.root, marker)
    attacks = [
        ["retrain.data_stages=[data/raw/tno/dvc.yaml:pwn]", "retrain.manifest_stages=[]"],
        ["retrain.manifest_stages=[data/raw/tno/dvc.yaml:pwn]"],
        ["data.cache_root=/tmp"],
        ["tracking.store=sqlite:////tmp/elsewhere.db"],
        ["gate.tolerance=1.0"],
    ]
    for overrides in attacks:
        with pytest.raises(ProjectError, match=f"{overrides[0].partition('=')[0]!r} may not be changed by a run"):
            retrain_flow(overrides, "scripted", refresh=True)
    with pytest.raises(ProjectError, match="a run cannot choose its project"):
        retrain_flow(["scripted.quality=strong"], "scripted", refresh=True, params_path=str(retrain_project.root / "evil" / "params.yaml"))
    assert not marker.exists()
    assert not (retrain_project.root / "attempts").exists(), "nothing may run before the checks"
    assert retrain_project.client().search_registered_models() == []


def test_dvc_targets_must_be_stages_of_the_projects_own_pipeline(prefect_harness, scripted_trainer, retrain_project):
    marker = retrain_project.root / "PWNED"
    make_flaky_dvc_project(retrain_project.root)
    plant_pwn_pipelines(retrain_project.root, marker)
    params = yaml.safe_load(retrain_project.params.read_text())
    for targets in (["data/raw/tno/dvc.yaml:pwn"], ["pwn"], ["flaky_fetch", "--force"]):
        params["retrain"].update(data_stages=targets)
        retrain_project.params.write_text(yaml.safe_dump(params))
        with pytest.raises(StageError, match="is not a stage of .*dvc.yaml; allowed: flaky_fetch"):
            retrain_flow(["scripted.quality=strong"], "scripted", refresh=True)
    assert not marker.exists() and not (retrain_project.root / "attempts").exists()


def test_an_unbound_process_runs_nothing(prefect_harness, scripted_trainer, retrain_project, monkeypatch):
    monkeypatch.delenv(PROJECT_ENV)
    with pytest.raises(ProjectError, match="bound to no project.*--params"):
        retrain_flow(["scripted.quality=strong"], "scripted", refresh=False)
    assert retrain_project.client().search_registered_models() == []


def test_cli_run_refuses_stage_overrides_before_anything_runs(retrain_project, tmp_path):
    """`python -m flows.retrain run 'retrain.data_stages=[data/raw/tno/dvc.yaml:pwn]'`: refused, nothing runs."""
    from ivif_testkit import PROJECT_ROOT, subprocess_env

    marker = retrain_project.root / "PWNED"
    make_flaky_dvc_project(retrain_project.root)  # a DVC project, as the attack needs
    plant_pwn_pipelines(retrain_project.root, marker)
    command = [sys.executable, "-m", "flows.retrain", "run", "--params", str(retrain_project.params), "--trainer", "scripted",
               "retrain.data_stages=[data/raw/tno/dvc.yaml:pwn]", "retrain.manifest_stages=[]"]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=subprocess_env({}), capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "'retrain.data_stages' may not be changed by a run (set it in the project's params.yaml)" in done.stderr
    assert not marker.exists()
