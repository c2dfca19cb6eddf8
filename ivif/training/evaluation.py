"""Held-out evaluation during training: the evaluate stage's own evaluation, on a copy.

Training does not score images its own way: :func:`evaluate` calls
:func:`ivif.evaluation.evaluate_model` (same fusion mode, 8-bit fused images, metric
convention and gray conversion as ``ivif evaluate`` and the promotion gate) on a copy
of the model, so the training model keeps its mode and memory format, and the numbers
in ``metrics/train.json`` equal those ``ivif evaluate`` gives the saved checkpoint on
the same images. The previews grid is the evaluate stage's comparison grid
(:func:`ivif.evaluation.grid.comparison_grid`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ivif.data.cache import ImageCache
from ivif.evaluation import EvaluateConfig, evaluate_model
from ivif.evaluation.evaluate import FusedSample
from ivif.evaluation.grid import comparison_grid
from ivif.io.atomic import atomic_path

PREVIEW_HEIGHT = EvaluateConfig.grid_height  # rows of one preview cell: the evaluate stage's grid rows


@dataclass
class EvalResult:
    """Mean metrics over the evaluated images and the first pairs with their fusion (uint8)."""

    metrics: dict[str, float]
    previews: Sequence[FusedSample] = field(default_factory=tuple)


def evaluate(
    model: nn.Module,
    cache: ImageCache,
    max_images: int,
    device: torch.device,
    config: EvaluateConfig = EvaluateConfig(),
) -> EvalResult:
    """Score the first ``max_images`` images of ``cache`` as the evaluate stage would.

    Args:
        model: the model being trained (not modified: a copy is evaluated).
        cache: held-out split.
        max_images: how many images to fuse (from the start of the cache).
        device: where to run the copy (the training device).
        config: the ``evaluate:`` section: fusion mode, convention, metric names and
            grid rows (its ``max_images`` and ``device`` are replaced by the arguments).
    """
    config = dataclasses.replace(config, max_images=max_images)
    # evaluate_model puts its model in eval mode and channels-last format, in place
    result = evaluate_model(
        copy.deepcopy(model), cache, config, keep_samples=config.grid_images, description="held-out eval", device=device, progress=False
    )
    return EvalResult(result.means, result.samples)


def preview_grid(previews: Sequence[FusedSample], height: int = PREVIEW_HEIGHT) -> np.ndarray:
    """(H, W, 3) uint8: one row per pair, IR | visible | fused (the evaluate stage's grid)."""
    if not previews:
        raise ValueError("no previews to draw: evaluate at least one image (train.eval_images >= 1, evaluate.grid_images >= 1)")
    return comparison_grid(previews, height)


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write a uint8 (H, W) or (H, W, 3) RGB image as PNG, atomically."""
    from PIL import Image

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(image).save(tmp, format="PNG")
    return Path(path)
