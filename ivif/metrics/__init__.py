"""Image fusion metrics under named conventions that reproduce reference evaluators.

One file per metric (pure functions on (B, H, W) tensors), ``conventions`` (each
evaluator's choices as data), ``suite`` (``compute_metrics`` for one image,
``compute_metrics_batch`` for tensors on any device), ``reading`` (files -> gray arrays
as a convention reads them) and ``folders`` (evaluate matched folders).
"""

from ivif.metrics.conventions import CONVENTIONS, DEFAULT_CONVENTION, Convention, get_convention
from ivif.metrics.suite import METRIC_NAMES, METRICS, compute_metrics, compute_metrics_batch

__all__ = [
    "CONVENTIONS",
    "DEFAULT_CONVENTION",
    "METRICS",
    "METRIC_NAMES",
    "Convention",
    "compute_metrics",
    "compute_metrics_batch",
    "get_convention",
]
