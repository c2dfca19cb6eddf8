"""Retrain flow logic on a temporary Prefect API: gate, failure, retries, no overlap."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import yaml
from scripted_trainer import ScriptedTrainingError

from flows.retrain import retrain_flow
from ivif.registry import CANDIDATE, CHAMPION, version_for_alias


def champion_version(project) -> str | None:
    version = version_for_alias(project.client(), "ivif-cnn", CHAMPION)
    return None if version is None else str(version.version)


def test_first_candidate_becomes_champion_and_a_failing_run_changes_nothing(prefect_harness, scripted_trainer, retrain_project):
    summary = retrain_flow(str(retrain_project.params), ["scripted.quality=weak"], "scripted", refresh=False)
    assert summary["promoted"] and summary["reason"] == "promoted: no champion yet"
    assert champion_version(retrain_project) == summary["candidate_version"] == "1"

    with pytest.raises(ScriptedTrainingError):
        retrain_flow(str(retrain_project.params), ["scripted.quality=fail"], "scripted", refresh=False)
    assert champion_version(retrain_project) == "1"
    assert str(version_for_alias(retrain_project.client(), "ivif-cnn", CANDIDATE).version) == "1"


def test_unknown_trainer_is_refused_before_any_work(prefect_harness, scripted_trainer, retrain_project):
    with pytest.raises(ValueError, match="unknown trainer 'os:system'"):
        retrain_flow(str(retrain_project.params), [], "os:system", refresh=False)
    assert retrain_project.client().search_registered_models() == []


def make_flaky_dvc_project(root) -> None:
    """A DVC stage that fails on its first run and succeeds on the next (a flaky fetch)."""
    script = (
        "import pathlib, sys; p = pathlib.Path('attempts'); "
        "n = int(p.read_text()) if p.exists() else 0; p.write_text(str(n + 1)); sys.exit(1 if n == 0 else 0)"
    )
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"flaky_fetch": {"cmd": f'{sys.executable} -c "{script}"', "always_changed": True}}}))


def test_data_refresh_is_retried(prefect_harness, scripted_trainer, retrain_project):
    make_flaky_dvc_project(retrain_project.root)
    params = yaml.safe_load(retrain_project.params.read_text())
    params["retrain"].update(data_stages=["flaky_fetch"], fetch_retries=1, retry_delay_s=0)
    retrain_project.params.write_text(yaml.safe_dump(params))
    # refresh succeeds on its retry; then training fails on purpose, so nothing is gated
    with pytest.raises(ScriptedTrainingError):
        retrain_flow(str(retrain_project.params), ["scripted.quality=fail"], "scripted", refresh=True)
    assert (retrain_project.root / "attempts").read_text() == "2"



def test_two_retrains_never_overlap(prefect_harness, scripted_trainer, retrain_project):
    record = retrain_project.root / "intervals.jsonl"
    overrides = ["scripted.quality=slow", f"scripted.record={record}"]
    errors = []

    def one_retrain():
        try:
            retrain_flow(str(retrain_project.params), overrides, "scripted", refresh=False)
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
