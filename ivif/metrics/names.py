"""The metric names: the one place they are spelled.

Everything else (the suite's registry, ``evaluate.metrics`` and ``gate.metrics``
defaults, CLI help, reports) asks this module. Light: no torch.
"""

from __future__ import annotations

STANDARD: tuple[str, ...] = ("EN", "SD", "SF", "AG", "MI", "SCD", "VIF", "Qabf", "SSIM")
"""The nine standard IVIF metrics, the set the paper reports (all higher-is-better)."""
EXTRA: tuple[str, ...] = ("CC", "PSNR", "MSE")
"""Further reference-based metrics the suite computes."""
ALL_METRICS: tuple[str, ...] = STANDARD + EXTRA
"""Every metric name, in report column order (the nine standard ones first)."""
LOWER_IS_BETTER: tuple[str, ...] = ("MSE",)
"""Metrics where a smaller value is better; every other metric is higher-is-better."""


def higher_is_better(name: str) -> bool:
    """Whether a larger value of metric ``name`` is better (unknown names fail)."""
    if name not in ALL_METRICS:
        raise ValueError(f"unknown metric {name!r}; choose from {', '.join(ALL_METRICS)}")
    return name not in LOWER_IS_BETTER
