"""Evaluation outputs: the metrics JSON (DVC ``metrics``) and the per-image CSV (DVC ``plots``).

Both are written atomically, so a failed evaluation leaves the previous files intact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ivif.evaluation.evaluate import EvaluationResult
from ivif.io.atomic import atomic_write_text

INDEX_COLUMN = "index"  # numeric x axis for DVC's plot templates
NAME_COLUMN = "name"


def metrics_summary(result: EvaluationResult, **provenance: Any) -> dict[str, Any]:
    """The JSON body: provenance (model, dataset, split, ...), image count and mean scores."""
    return {
        **provenance,
        "convention": result.convention,
        "mode": result.mode,
        "images": len(result.per_image),
        "mean": {name: _json_number(value) for name, value in result.means.items()},
    }


def write_metrics_json(path: str | Path, summary: Mapping[str, Any]) -> Path:
    atomic_write_text(path, json.dumps(summary, indent=2, sort_keys=False) + "\n")
    return Path(path)


def per_image_csv(result: EvaluationResult) -> str:
    """CSV text: index, name, then one column per metric."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([INDEX_COLUMN, NAME_COLUMN, *result.metrics])
    for index, row in enumerate(result.per_image):
        writer.writerow([index, row.name, *(f"{row.scores[m]:.6g}" for m in result.metrics)])
    return buffer.getvalue()


def write_per_image_csv(path: str | Path, result: EvaluationResult) -> Path:
    atomic_write_text(path, per_image_csv(result))
    return Path(path)


def _json_number(value: float) -> float | None:
    # JSON has no NaN; null makes `dvc metrics show` print "-" instead of failing to parse
    return value if value == value and abs(value) != float("inf") else None
