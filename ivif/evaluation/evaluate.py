"""Score a fusion model on a cached held-out split with the metric suite.

:func:`evaluate_model` is the one held-out evaluation: the evaluate stage, the promotion
gate and training's periodic and final evaluation (:mod:`ivif.training.evaluation`) all
call it, so the same model on the same images gives the same numbers everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from ivif.data.cache import ImageCache
from ivif.evaluation.config import EvaluateConfig
from ivif.evaluation.gray import to_metric_gray
from ivif.io.progress import progress_bar


@dataclass(frozen=True)
class ImageScores:
    """The metric values of one fused pair."""

    name: str
    scores: Mapping[str, float]


@dataclass(frozen=True)
class FusedSample:
    """A pair and its fusion, kept for the comparison grid (uint8; vi/fused gray or RGB)."""

    name: str
    ir: np.ndarray
    vi: np.ndarray
    fused: np.ndarray


@dataclass(frozen=True)
class EvaluationResult:
    """Per-image and mean scores of one model on one split."""

    metrics: tuple[str, ...]
    per_image: tuple[ImageScores, ...]
    convention: str
    mode: str
    samples: tuple[FusedSample, ...] = field(default=(), repr=False)

    @property
    def means(self) -> dict[str, float]:
        """Mean of each metric over the images (NaN if any image's value is NaN)."""
        return {m: float(np.mean([row.scores[m] for row in self.per_image])) for m in self.metrics}


def evaluate_model(
    model,
    cache: ImageCache,
    config: EvaluateConfig = EvaluateConfig(),
    *,
    keep_samples: int = 0,
    description: str = "evaluate",
    device: torch.device | None = None,
    progress: bool = True,
) -> EvaluationResult:
    """Fuse every pair of ``cache`` (or the first ``config.max_images``) and score it.

    Fused images are 8-bit, as written to disk, and all three images are converted to
    gray the way ``config.convention`` reads files, so the numbers equal those of the
    reference evaluator run on the saved images. The first ``keep_samples`` pairs are
    returned with their fusion for the comparison grid.

    ``model`` is moved to the device in channels-last format and put in eval mode, in
    place. ``device`` overrides ``config.device`` (training passes the one it runs on);
    ``progress`` shows a bar on a terminal, else a log line now and then
    (:func:`ivif.io.progress.progress_bar`).
    """
    from ivif.evaluation.images import fuse_uint8_pair
    from ivif.fusion.device import prepare_model, resolve_device
    from ivif.metrics import compute_metrics, get_convention

    if len(cache) == 0:
        raise ValueError(f"{cache.root}: the split has no images to evaluate")
    convention = get_convention(config.convention)
    device = device if device is not None else resolve_device(config.device, setting="evaluate.device")
    model = prepare_model(model, device)
    count = len(cache) if config.max_images is None else min(config.max_images, len(cache))
    rows, samples = [], []
    for index in progress_bar(range(count), total=count, desc=description, unit="pair", enabled=progress):
        name = cache.names[index]
        ir, vi = cache.ir(index), _squeeze_gray(cache.vi(index))
        fused = fuse_uint8_pair(model, ir, vi, config.mode, device)
        gray = [to_metric_gray(img, convention.reader) for img in (ir, vi, fused)]
        rows.append(ImageScores(name, compute_metrics(*gray, convention=convention, names=config.metrics)))
        if index < keep_samples:
            samples.append(FusedSample(name, ir, vi, fused))
    return EvaluationResult(config.metrics, tuple(rows), convention.name, config.mode, tuple(samples))


def _squeeze_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 1) -> (H, W); colour stays (H, W, 3)."""
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
