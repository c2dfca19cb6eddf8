"""Held-out evaluation during training: fuse whole images, score them with the metric suite.

Images are fused whole (any size, :func:`ivif.fusion.full.fuse_full`), the fused
luminance clipped to [0, 1] and scored on the 0..255 scale with
:func:`ivif.metrics.compute_metrics_batch` (the ``cddfuse`` convention by default, so
numbers compare with the paper's tables). A few images are kept as previews for the
comparison grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ivif.data.cache import ImageCache
from ivif.fusion.color import to_uint8
from ivif.fusion.full import fuse_full
from ivif.io.atomic import atomic_path
from ivif.pairing.patches import to_unit_gray

# Cheap, informative defaults for an in-training check (VIF and Qabf are the slow ones).
DEFAULT_EVAL_METRICS = ("EN", "SD", "SF", "AG", "MI", "SCD", "VIF", "Qabf", "SSIM")
PREVIEW_HEIGHT = 160  # rows of one preview cell in the comparison grid


@dataclass
class EvalResult:
    """Mean metrics over the evaluated images and (IR, VIS, fused) uint8 previews."""

    metrics: dict[str, float]
    previews: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    cache: ImageCache,
    max_images: int,
    device: torch.device,
    metric_names: tuple[str, ...] = DEFAULT_EVAL_METRICS,
    convention: str = "cddfuse",
) -> EvalResult:
    """Fuse the first ``max_images`` images of ``cache`` and average their metrics.

    Args:
        model: fusion model (put in eval mode here and restored to its previous mode).
        cache: held-out split; visible images are fused as their luma.
        max_images: how many images to fuse (from the start of the cache).
        device: where to run the model.
    """
    from ivif.metrics import compute_metrics_batch

    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    previews = []
    count = min(max_images, len(cache))
    try:
        for index in range(count):
            ir, vi = to_unit_gray(cache.ir(index)), to_unit_gray(cache.vi(index))
            if ir.shape != vi.shape:
                raise ValueError(f"{cache.root}: image {cache.names[index]} has IR {ir.shape} but visible {vi.shape}; the held-out split must be registered")
            x = torch.from_numpy(np.stack([ir, vi]))[None].to(device)
            fused = fuse_full(model, x)[0, 0].clamp(0, 1).cpu().numpy()
            scores = compute_metrics_batch(
                *(torch.from_numpy(to_uint8(a).astype(np.float64))[None] for a in (ir, vi, fused)),
                convention=convention,
                names=metric_names,
            )
            for name, value in scores.items():
                totals[name] = totals.get(name, 0.0) + float(value[0])
            previews.append((to_uint8(ir), to_uint8(vi), to_uint8(fused)))
    finally:
        model.train(was_training)
    return EvalResult({name: total / count for name, total in totals.items()} if count else {}, previews)


def preview_grid(previews: list[tuple[np.ndarray, np.ndarray, np.ndarray]], height: int = PREVIEW_HEIGHT) -> np.ndarray:
    """One row per image: IR | visible | fused, each scaled to ``height`` rows; (H, W) uint8."""
    import cv2

    if not previews:
        raise ValueError("no previews to draw: evaluate at least one image")
    rows = []
    for triple in previews:
        scaled = [cv2.resize(img, (max(1, round(img.shape[1] * height / img.shape[0])), height), interpolation=cv2.INTER_AREA) for img in triple]
        rows.append(np.concatenate(scaled, axis=1))
    width = max(row.shape[1] for row in rows)
    return np.concatenate([np.pad(row, ((0, 0), (0, width - row.shape[1]))) for row in rows], axis=0)


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write a uint8 image as PNG, atomically."""
    import cv2

    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"could not encode a {image.shape} image as PNG for {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return Path(path)
