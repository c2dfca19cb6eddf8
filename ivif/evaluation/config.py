"""The ``evaluate:`` section of ``params.yaml``."""

from __future__ import annotations

from dataclasses import dataclass

from ivif.fusion.device import DEVICE_CHOICES as DEVICES
from ivif.fusion.runner import MODES as FUSION_MODES
from ivif.metrics.names import STANDARD


@dataclass(frozen=True)
class EvaluateConfig:
    """How a model is scored on a held-out split (the same settings for every model, so
    candidate and champion are compared like for like)."""

    dataset: str = "sample"
    """Dataset whose cache split is evaluated (``<data.cache_root>/<dataset>/<split>``)."""
    split: str = "test"
    """Held-out split of that cache."""
    mode: str = "full"
    """Fusion protocol: ``full`` (one padded pass) or ``tiled`` (the paper's tiles)."""
    convention: str = "cddfuse"
    """Metric convention (``ivif.metrics.CONVENTIONS``); cddfuse is the paper's evaluator."""
    metrics: tuple[str, ...] = STANDARD
    """Metrics computed per image (default: the nine standard ones, ``ivif.metrics.STANDARD``)."""
    device: str = "auto"
    """``auto`` (CUDA if available), ``cpu`` or ``cuda``."""
    max_images: int | None = None
    """Evaluate only the first this many images of the split; null = all."""
    grid_images: int = 4
    """Rows (pairs) of the IR | visible | fused comparison grid."""
    grid_height: int = 160
    """Height in pixels of each grid row (images are resized to it, aspect kept)."""
    metrics_file: str = "metrics/evaluate.json"
    """Mean scores (a DVC ``metrics`` file)."""
    per_image_file: str = "plots/evaluate/per_image.csv"
    """One row per image and metric column (a DVC ``plots`` file)."""
    grid_file: str = "plots/evaluate/grid.png"
    """The IR | visible | fused comparison grid (a DVC image plot)."""
    promotion_file: str = "metrics/promotion.json"
    """The champion gate's decision and both models' scores (``ivif registry promote``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.mode not in FUSION_MODES:
            raise ValueError(f"evaluate.mode must be one of {FUSION_MODES}, got {self.mode!r}")
        if self.device not in DEVICES:
            raise ValueError(f"evaluate.device must be one of {DEVICES}, got {self.device!r}")
        if not self.metrics:
            raise ValueError("evaluate.metrics must name at least one metric")
        if self.max_images is not None and self.max_images < 1:
            raise ValueError(f"evaluate.max_images must be >= 1 or null, got {self.max_images}")
        if self.grid_images < 0 or self.grid_height < 8:
            raise ValueError("evaluate.grid_images must be >= 0 and evaluate.grid_height >= 8")
