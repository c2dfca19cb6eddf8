"""Evaluation outputs: the metrics JSON (DVC ``metrics``), the per-image CSV and its PNG chart.

The PNG (:func:`write_per_image_png`, next to the CSV) is a static plot: ``dvc plots
show`` renders image plots without network, unlike its vega charts (README "Plots").
All are written atomically, so a failed evaluation leaves the previous files intact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ivif.evaluation.evaluate import EvaluationResult
from ivif.io.atomic import atomic_path, atomic_write_text

INDEX_COLUMN = "index"  # numeric x axis for DVC's plot templates
NAME_COLUMN = "name"
PLOT_SUFFIX = ".png"  # the per-image chart sits next to the CSV: per_image.csv -> per_image.png
PANEL_SIZE = (3.2, 2.4)  # inches of one metric's panel
PANEL_COLUMNS = 3
PLOT_DPI = 100


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


def per_image_png_path(per_image_file: str | Path) -> Path:
    """Where the per-image chart of the CSV ``per_image_file`` goes (same folder and stem)."""
    return Path(per_image_file).with_suffix(PLOT_SUFFIX)


def write_per_image_png(path: str | Path, result: EvaluationResult, title: str = "") -> Path:
    """One panel per metric: each image's score (x: image index, as in the CSV) and the mean."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = -(-len(result.metrics) // PANEL_COLUMNS)
    columns = min(PANEL_COLUMNS, len(result.metrics))
    figure, axes = plt.subplots(rows, columns, figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=PLOT_DPI, squeeze=False)
    index = list(range(len(result.per_image)))
    means = result.means
    for axis, metric in zip(axes.flat, result.metrics):
        axis.plot(index, [row.scores[metric] for row in result.per_image], marker="o", markersize=3, linewidth=1)
        axis.axhline(means[metric], color="gray", linestyle="--", linewidth=1)
        axis.set_title(f"{metric} (mean {means[metric]:.4g})", fontsize=9)
        axis.set_xlabel(INDEX_COLUMN, fontsize=8)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.tick_params(labelsize=7)
    for axis in list(axes.flat)[len(result.metrics) :]:
        axis.set_visible(False)
    figure.suptitle(title or f"per-image scores ({result.convention}, {result.mode})", fontsize=10)
    figure.tight_layout()
    with atomic_path(path, suffix=PLOT_SUFFIX) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return Path(path)


def _json_number(value: float) -> float | None:
    # JSON has no NaN; null makes `dvc metrics show` print "-" instead of failing to parse
    return value if value == value and abs(value) != float("inf") else None
