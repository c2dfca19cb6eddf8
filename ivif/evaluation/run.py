"""Evaluate a model SPEC on a cache split and write every output: the one function behind
``ivif evaluate``, the DVC ``evaluate`` stage and ``flows/evaluate.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivif.data.cache import ImageCache
from ivif.evaluation.config import EvaluateConfig
from ivif.evaluation.evaluate import EvaluationResult, evaluate_model
from ivif.evaluation.grid import write_grid
from ivif.evaluation.report import metrics_summary, per_image_png_path, write_metrics_json, write_per_image_csv, write_per_image_png
from ivif.models.spec import load_model_from_spec


@dataclass(frozen=True)
class EvaluationOutputs:
    result: EvaluationResult
    summary: dict
    written: tuple[Path, ...]


def evaluate_to_files(
    spec: str,
    data: str | Path,
    config: EvaluateConfig,
    metrics_file: str | Path | None = None,
    per_image_file: str | Path | None = None,
    grid_file: str | Path | None = None,
) -> EvaluationOutputs:
    """Score ``spec`` on the cache at ``data``; write the metrics JSON, per-image CSV, its
    PNG chart (next to the CSV) and the grid (paths default to those of ``config``)."""
    model = load_model_from_spec(spec)
    result = evaluate_model(model, ImageCache(data), config, keep_samples=config.grid_images)
    summary = metrics_summary(result, model=spec, data=str(data))
    per_image_file = per_image_file or config.per_image_file
    written = [
        write_metrics_json(metrics_file or config.metrics_file, summary),
        write_per_image_csv(per_image_file, result),
        write_per_image_png(per_image_png_path(per_image_file), result),  # static plot: renders offline
    ]
    if result.samples:
        written.append(write_grid(grid_file or config.grid_file, result.samples, config.grid_height))
    return EvaluationOutputs(result, summary, tuple(written))
