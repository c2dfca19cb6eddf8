"""Evaluate the candidate and the current champion on the same held-out split, apply the
gate, record the decision, and move ``champion`` only if the candidate passes.

Moving the alias is the last step and a single registry call, so any failure before it
(loading, evaluation, recording) leaves the champion exactly where it was.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ivif.data.cache import ImageCache
from ivif.evaluation import EvaluateConfig, EvaluationResult, evaluate_model
from ivif.evaluation.grid import write_grid
from ivif.registry.aliases import CANDIDATE, CHAMPION, move_alias, registered_name, version_for_alias
from ivif.registry.gate import GateConfig, GateDecision, decide
from ivif.registry.loading import load_torch_model
from ivif.registry.record import record_decision
from ivif.tracking.store import using_store


@dataclass(frozen=True)
class PromotionOutcome:
    """What the gate did for one registered model."""

    name: str
    candidate_version: str
    champion_before: str | None
    champion_after: str | None
    decision: GateDecision
    candidate_result: EvaluationResult | None
    champion_result: EvaluationResult | None

    @property
    def moved(self) -> bool:
        return self.champion_after != self.champion_before

    def summary(self) -> dict:
        """JSON-ready summary (the DVC ``metrics/promotion.json``)."""

        def scores(result):
            return None if result is None else {k: round(v, 6) for k, v in result.means.items()}

        return {
            "model": self.name,
            "candidate_version": self.candidate_version,
            "champion_before": self.champion_before,
            "champion_after": self.champion_after,
            "promoted": self.decision.promote,
            "reason": self.decision.reason,
            "candidate": scores(self.candidate_result),
            "champion": scores(self.champion_result),
        }


def version_uri(name: str, version: str) -> str:
    return f"models:/{name}/{version}"


def evaluate_and_promote(
    model: str,
    cache: ImageCache,
    eval_config: EvaluateConfig = EvaluateConfig(),
    gate_config: GateConfig = GateConfig(),
    *,
    candidate_version: str | None = None,
    client=None,
    tracking_uri: str | None = None,
) -> PromotionOutcome:
    """Gate ``ivif-<model>``'s candidate (``candidate_version``, default: the version
    aliased ``candidate``) against its champion on ``cache``; move ``champion`` if it passes.
    """
    import mlflow

    store = tracking_uri or mlflow.get_tracking_uri()
    client = client or mlflow.MlflowClient(store, registry_uri=store)
    with using_store(store):  # some MLflow calls only consult the process-wide store
        return _gate(client, store, registered_name(model), cache, eval_config, gate_config, candidate_version)


def _gate(client, store, name, cache, eval_config, gate_config, candidate_version) -> PromotionOutcome:
    candidate = _candidate(client, name, candidate_version)
    champion = version_for_alias(client, name, CHAMPION)
    # MLflow returns versions as int or str depending on the store: compare as str
    candidate_id = str(candidate.version)
    champion_before = str(champion.version) if champion is not None else None
    if champion_before == candidate_id:
        decision = GateDecision(False, f"version {candidate_id} is already the champion")
        return PromotionOutcome(name, candidate_id, champion_before, champion_before, decision, None, None)

    def score(version, samples: int) -> EvaluationResult:
        torch_model = load_torch_model(version_uri(name, version.version), tracking_uri=store)
        return evaluate_model(torch_model, cache, eval_config, keep_samples=samples, description=f"{name} v{version.version}")

    candidate_result = score(candidate, eval_config.grid_images)
    champion_result = score(champion, 0) if champion is not None else None
    decision = decide(candidate_result.means, champion_result.means if champion_result else None, gate_config)
    with tempfile.TemporaryDirectory(prefix="ivif-promote-") as tmp:
        grid = write_grid(Path(tmp) / "grid.png", candidate_result.samples, eval_config.grid_height) if candidate_result.samples else None
        record_decision(client, candidate, champion, decision, candidate_result, champion_result, grid)
    if decision.promote:
        move_alias(client, name, CHAMPION, candidate_id)
    champion_after = candidate_id if decision.promote else champion_before
    return PromotionOutcome(name, candidate_id, champion_before, champion_after, decision, candidate_result, champion_result)


def _candidate(client, name: str, version: str | None):
    if version is not None:
        return client.get_model_version(name, str(version))
    candidate = version_for_alias(client, name, CANDIDATE)
    if candidate is None:
        raise ValueError(
            f"registered model {name} has no version aliased '{CANDIDATE}'; train one first "
            "(`dvc repro train` or `ivif train`), or check MLFLOW_TRACKING_URI"
        )
    return candidate
