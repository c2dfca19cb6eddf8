"""The comparison grid people look at: one row per pair, columns IR | visible | fused."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ivif.evaluation.evaluate import FusedSample
from ivif.io.atomic import atomic_path

GAP = 4  # pixels of white between tiles
BACKGROUND = 255


def _as_rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image


def _resize_to_height(image: np.ndarray, height: int) -> np.ndarray:
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def comparison_grid(samples: Sequence[FusedSample], row_height: int) -> np.ndarray:
    """(H, W, 3) uint8: each sample's IR, visible and fused images side by side."""
    if not samples:
        raise ValueError("comparison_grid needs at least one fused sample")
    rows = []
    for sample in samples:
        tiles = [_resize_to_height(_as_rgb(img), row_height) for img in (sample.ir, sample.vi, sample.fused)]
        gap = np.full((row_height, GAP, 3), BACKGROUND, np.uint8)
        rows.append(np.concatenate([part for tile in tiles for part in (tile, gap)][:-1], axis=1))
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=BACKGROUND) for r in rows]
    return np.concatenate(padded, axis=0)[:-GAP]


def write_grid(path: str | Path, samples: Sequence[FusedSample], row_height: int) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(comparison_grid(samples, row_height)).save(tmp, format="PNG")
    return Path(path)
