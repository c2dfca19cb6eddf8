"""Image fusion metrics under named conventions that reproduce reference evaluators.

One file per metric (pure functions on (B, H, W) tensors), ``conventions`` (each
evaluator's choices as data), ``suite`` (``compute_metrics`` for one image,
``compute_metrics_batch`` for tensors on any device), ``reading`` (files -> gray arrays
as a convention reads them) and ``folders`` (evaluate matched folders, write reports).

The metric names live in ``names`` (``STANDARD``, ``ALL_METRICS``, ``LOWER_IS_BETTER``):
every other place asks for them there. Torch-heavy names are imported lazily so that
light users (the CLI's ``--help``, which lists the conventions) do not pay for torch.
"""

from __future__ import annotations

import importlib

from ivif.metrics.names import ALL_METRICS, EXTRA, LOWER_IS_BETTER, STANDARD, higher_is_better

_EXPORTS = {
    "CONVENTIONS": "ivif.metrics.conventions",
    "DEFAULT_CONVENTION": "ivif.metrics.conventions",
    "Convention": "ivif.metrics.conventions",
    "get_convention": "ivif.metrics.conventions",
    "METRICS": "ivif.metrics.suite",
    "METRIC_NAMES": "ivif.metrics.suite",
    "compute_metrics": "ivif.metrics.suite",
    "compute_metrics_batch": "ivif.metrics.suite",
}

__all__ = sorted([*_EXPORTS, "ALL_METRICS", "EXTRA", "LOWER_IS_BETTER", "STANDARD", "higher_is_better"])


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ivif.metrics' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
