"""Writing the gate's decision and both models' scores into MLflow.

On the candidate's training run: metrics ``gate.candidate.<M>`` and ``gate.champion.<M>``,
tags ``ivif.gate.*`` (decision, reason, champion version), and artifacts under ``gate/``
(the decision as JSON, the per-image score table, the comparison grid). On the model
versions: ``ivif.score.<M>`` tags, so ``ivif registry`` and the MLflow UI show the scores
next to the aliases.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

from ivif.evaluation.evaluate import EvaluationResult
from ivif.registry.gate import GateDecision

SCORE_TAG_PREFIX = "ivif.score."
DECISION_TAG = "ivif.gate.decision"
REASON_TAG = "ivif.gate.reason"
CHAMPION_VERSION_TAG = "ivif.gate.champion_version"
GATE_ARTIFACT_DIR = "gate"
PROMOTED, REJECTED = "promoted", "rejected"
MAX_TAG_LENGTH = 5000  # MLflow's limit on tag values


def decision_label(decision: GateDecision) -> str:
    return PROMOTED if decision.promote else REJECTED


def record_scores_on_version(client, name: str, version: str, result: EvaluationResult) -> None:
    """Tag a model version with its mean scores (``ivif.score.<metric>``)."""
    for metric, value in result.means.items():
        client.set_model_version_tag(name, version, f"{SCORE_TAG_PREFIX}{metric}", f"{value:.6g}")


def record_decision(
    client,
    candidate,
    champion,
    decision: GateDecision,
    candidate_result: EvaluationResult,
    champion_result: EvaluationResult | None,
    grid_png: Path | None = None,
) -> None:
    """Record the gate's outcome on the candidate's run and tag both versions."""
    record_scores_on_version(client, candidate.name, candidate.version, candidate_result)
    client.set_model_version_tag(candidate.name, candidate.version, DECISION_TAG, decision_label(decision))
    if champion is not None and champion_result is not None:
        record_scores_on_version(client, champion.name, champion.version, champion_result)
    if not candidate.run_id:
        return  # registered without a run: the version tags are all there is
    run_id = candidate.run_id
    for role, result in (("candidate", candidate_result), ("champion", champion_result)):
        for metric, value in result.means.items() if result else ():
            client.log_metric(run_id, f"gate.{role}.{metric}", value)
    client.set_tag(run_id, DECISION_TAG, decision_label(decision))
    client.set_tag(run_id, REASON_TAG, decision.reason[:MAX_TAG_LENGTH])
    client.set_tag(run_id, CHAMPION_VERSION_TAG, champion.version if champion is not None else "none")
    _log_gate_artifacts(client, run_id, decision, candidate_result, champion_result, grid_png)


def _log_gate_artifacts(client, run_id, decision, candidate_result, champion_result, grid_png) -> None:
    with tempfile.TemporaryDirectory(prefix="ivif-gate-") as tmp:
        folder = Path(tmp)
        body = {"decision": decision_label(decision), **dataclasses.asdict(decision)}
        (folder / "decision.json").write_text(json.dumps(body, indent=2, default=str))
        if grid_png is not None and grid_png.is_file():
            (folder / "grid.png").write_bytes(grid_png.read_bytes())
        client.log_artifacts(run_id, str(folder), GATE_ARTIFACT_DIR)
    # MLflow tables render as sortable tables in the run's artifact view
    for role, result in (("candidate", candidate_result), ("champion", champion_result)):
        if result is not None:
            table = {"image": [row.name for row in result.per_image]}
            table.update({m: [row.scores[m] for row in result.per_image] for m in result.metrics})
            client.log_table(run_id, table, f"{GATE_ARTIFACT_DIR}/scores_{role}.json")
