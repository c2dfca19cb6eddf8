"""The champion gate end to end on a real sqlite registry: first model, better, worse."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from ivif_testkit import CONTRAST_METRICS, SMALL_CNN, STRONG, WEAK, contrast_fusion

from ivif.evaluation import EvaluateConfig
from ivif.registry import CANDIDATE, CHAMPION, log_and_register, version_for_alias
from ivif.registry.gate import GateConfig
from ivif.registry.promote import evaluate_and_promote
from ivif.registry.record import DECISION_TAG, SCORE_TAG_PREFIX

GATE = GateConfig(metrics=CONTRAST_METRICS, lower_is_better=(), tolerance=0.02)
EVAL = EvaluateConfig(device="cpu", grid_images=2, grid_height=32)


def register(behaviour: dict, run_name: str):
    with mlflow.start_run(run_name=run_name):
        return log_and_register(contrast_fusion(**behaviour), "cnn", model_kwargs=SMALL_CNN)


def alias_version(client, alias: str) -> str:
    return str(version_for_alias(client, "ivif-cnn", alias).version)


def test_gate_sequence_first_better_worse(tracking, eval_cache):
    client = mlflow.MlflowClient(tracking, registry_uri=tracking)

    first = register(WEAK, "weak-1")
    outcome = evaluate_and_promote("cnn", eval_cache, EVAL, GATE, client=client, tracking_uri=tracking)
    assert outcome.decision.first_champion and outcome.moved
    assert alias_version(client, CHAMPION) == str(first.version)

    better = register(STRONG, "strong")
    outcome = evaluate_and_promote("cnn", eval_cache, EVAL, GATE, client=client, tracking_uri=tracking)
    assert outcome.decision.promote, outcome.decision.reason
    assert (outcome.champion_before, outcome.champion_after) == (str(first.version), str(better.version))
    assert alias_version(client, CHAMPION) == str(better.version)
    # both scores and the decision are on the candidate's run
    run = client.get_run(better.run_id)
    assert run.data.tags[DECISION_TAG] == "promoted"
    for metric in CONTRAST_METRICS:
        assert run.data.metrics[f"gate.candidate.{metric}"] > run.data.metrics[f"gate.champion.{metric}"]
    artifacts = {a.path for a in client.list_artifacts(better.run_id, "gate")}
    assert {"gate/decision.json", "gate/grid.png", "gate/scores_candidate.json", "gate/scores_champion.json"} <= artifacts
    tags = client.get_model_version("ivif-cnn", better.version).tags
    assert float(tags[f"{SCORE_TAG_PREFIX}SD"]) == pytest.approx(outcome.candidate_result.means["SD"], rel=1e-5)

    worse = register(WEAK | {"seed": 1}, "weak-2")
    outcome = evaluate_and_promote("cnn", eval_cache, EVAL, GATE, client=client, tracking_uri=tracking)
    assert not outcome.decision.promote and not outcome.moved
    assert "rejected" in outcome.decision.reason
    assert alias_version(client, CHAMPION) == str(better.version)
    assert alias_version(client, CANDIDATE) == str(worse.version)
    assert client.get_run(worse.run_id).data.tags[DECISION_TAG] == "rejected"

    # gating the champion against itself changes nothing
    again = evaluate_and_promote("cnn", eval_cache, EVAL, GATE, candidate_version=better.version, client=client, tracking_uri=tracking)
    assert not again.moved and "already the champion" in again.decision.reason


def test_missing_candidate_is_a_clear_error(tracking, eval_cache):
    client = mlflow.MlflowClient(tracking, registry_uri=tracking)
    with pytest.raises(ValueError, match="no version aliased 'candidate'"):
        evaluate_and_promote("transformer", eval_cache, EVAL, GATE, client=client, tracking_uri=tracking)


def test_registry_listing_shows_aliases_and_scores(tracking, eval_cache):
    from ivif.registry.listing import format_table, list_versions

    client = mlflow.MlflowClient(tracking, registry_uri=tracking)
    register(WEAK, "listed")
    evaluate_and_promote("cnn", eval_cache, EVAL, GATE, client=client, tracking_uri=tracking)
    (row,) = list_versions(client)
    assert row.aliases == ("candidate", "champion") and row.decision == "promoted"
    assert set(row.scores) == set(EVAL.metrics)
    table = format_table([row])
    assert table.splitlines()[0].split()[:5] == ["model", "version", "aliases", "gate", "run"]
    assert "candidate,champion" in table.splitlines()[1]


def test_registry_cli_lists_and_moves_aliases(tracking, tmp_path, monkeypatch, capsys):
    from ivif.cli import main

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "params.yaml").write_text("tracking: {store: 'sqlite:///mlflow.db'}\n")  # the fixture's store
    params = str(tmp_path / "params.yaml")
    first, second = register(WEAK, "one"), register(STRONG, "two")
    assert main(["registry", "--params", params, "alias", "cnn", str(first.version), "champion"]) == 0
    assert capsys.readouterr().out == f"ivif-cnn@champion -> version {first.version}\n"
    assert main(["registry", "--params", params]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"registry: {tracking}"
    rows = {line.split()[1]: line.split()[2] for line in lines[2:]}
    assert rows == {str(first.version): "champion", str(second.version): "candidate"}
    assert main(["registry", "--params", params, "alias", "cnn", "99", "champion"]) == 1
    assert "ivif-cnn version 99 not found" in capsys.readouterr().err


def test_a_model_file_is_registered_once_and_checked_by_hash(tracking, tmp_path):
    from ivif.data.digest import sha256_file
    from ivif.models.checkpoint import save_checkpoint
    from ivif.registry.register import (
        SHA256_TAG,
        read_registration,
        register_model_file,
        verified_version,
        write_registration,
    )

    client = mlflow.MlflowClient(tracking, registry_uri=tracking)

    def checkpoint(path, behaviour):
        model = contrast_fusion(**behaviour)
        return save_checkpoint(path, model_name="cnn", model_kwargs=SMALL_CNN, state_dict=model.state_dict(), manifest="uptp_25", step=3)

    weak = checkpoint(tmp_path / "weak.pt", WEAK)
    first = register_model_file(weak, tracking_uri=tracking)
    assert first.name == "ivif-cnn-uptp_25" and first.tags[SHA256_TAG] == sha256_file(weak)
    again = register_model_file(weak, tracking_uri=tracking)
    assert str(again.version) == str(first.version)
    assert len(client.search_model_versions("name='ivif-cnn-uptp_25'")) == 1
    # the logged artifact is that file, byte for byte
    local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/ivif-cnn-uptp_25/{first.version}", tracking_uri=tracking)
    from ivif.registry.loading import checkpoint_in

    assert checkpoint_in(Path(local)).read_bytes() == weak.read_bytes()

    record_file = write_registration(tmp_path / "registered.json", first, tracking)
    record = read_registration(record_file)
    assert str(verified_version(client, record, weak).version) == str(first.version)
    strong = checkpoint(tmp_path / "strong.pt", STRONG)
    with pytest.raises(ValueError, match="register the model again"):
        verified_version(client, record, strong)  # the file changed since it was registered
    with pytest.raises(ValueError, match="is not in this registry"):
        verified_version(client, {**record, "version": "99"}, weak)
