"""Held-out evaluation: fuse a cached split with a model, score it with the metric suite,
and report (metrics JSON for ``dvc metrics``, per-image CSV for ``dvc plots``, a
comparison grid for people)."""

from ivif.evaluation.config import EvaluateConfig
from ivif.evaluation.evaluate import EvaluationResult, ImageScores, evaluate_model

__all__ = ["EvaluateConfig", "EvaluationResult", "ImageScores", "evaluate_model"]
