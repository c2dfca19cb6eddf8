"""Tiled fusion: the upstream test protocol, vectorised.

Protocol (see ../shared/README.md): 128 x 128 tiles at stride 64 over the regular grid,
plus the column at x = W - 128 for each grid row, the row at y = H - 128 for each grid
column and the corner (H - 128, W - 128). Each tile's output is weighted by
w(x, y) = exp(-(x^2 + y^2) / 2), x, y on linspace(-3, 3, 128); the weighted sum is
divided by the summed weights and smoothed by ``scipy.ndimage.gaussian_filter`` with
sigma 0.3. Memory is bounded by the tile batch, whatever the image size.

Where (W - 128) or (H - 128) is a multiple of 64, the extra column/row coincides with
the last grid column/row; upstream then runs that tile twice, which doubles its weight in
the blend. Here such a tile runs once and its weight is multiplied by its multiplicity,
so the output is the same (to float rounding) for less work. Tiles go through the model
in large batches and are accumulated with one scatter-add per batch instead of a Python
loop. Images smaller than a tile are reflection-padded to one tile and cropped back
(upstream cannot handle them at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter
from torch import nn

from ivif.fusion.device import as_model_input



@dataclass(frozen=True)
class TileConfig:
    """The tiling protocol; defaults are upstream's."""

    tile: int = 128
    stride: int = 64
    blend_extent: float = 3.0  # the blend weight spans [-extent, extent] standard deviations
    smoothing_sigma: float = 0.3
    batch_size: int = 16  # tiles per forward pass (upstream used 4; the output does not depend on it)

    def __post_init__(self) -> None:
        if self.tile <= 0 or self.stride <= 0 or self.stride > self.tile:
            raise ValueError(f"need 0 < stride <= tile, got tile={self.tile}, stride={self.stride}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


def tile_starts(size: int, tile: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Tile offsets along one axis and how many times upstream visits each.

    Upstream visits the grid ``0, stride, ...`` (up to ``size - tile``) and then
    ``size - tile`` once more; when that already is a grid offset it is visited twice.
    Returns (offsets, counts), both (n,) int64, offsets unique and increasing.
    """
    visits = [*range(0, size - tile + 1, stride), size - tile]
    offsets, counts = np.unique(np.array(visits, dtype=np.int64), return_counts=True)
    return offsets, counts


def tile_origins(height: int, width: int, tile: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (y, x) tile origins of the protocol and their multiplicities, ``height, width >= tile``.

    The grid plus the extra column (per grid row), row (per grid column) and corner is,
    as a multiset, the product of the per-axis visits, so a tile's multiplicity is the
    product of its offsets' counts. Returns origins (T, 2) and multiplicities (T,), int64.
    """
    ys, y_counts = tile_starts(height, tile, stride)
    xs, x_counts = tile_starts(width, tile, stride)
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    origins = np.stack((grid_y.ravel(), grid_x.ravel()), axis=1)
    multiplicity = np.outer(y_counts, x_counts).ravel()
    return origins, multiplicity


def blend_weights(tile: int, extent: float) -> torch.Tensor:
    """(tile, tile) Gaussian weights exp(-(x^2 + y^2) / 2), x, y on linspace(-extent, extent, tile)."""
    axis = torch.linspace(-extent, extent, tile, dtype=torch.float64)
    squared_distance = axis[:, None] ** 2 + axis[None, :] ** 2
    return torch.exp(-squared_distance / 2)


def _tile_pixel_indices(origins: torch.Tensor, tile: int, width: int) -> torch.Tensor:
    """(T, tile, tile) flat indices into a (H * W) image of every pixel of every tile."""
    offsets = torch.arange(tile, device=origins.device)
    rows = origins[:, 0, None, None] + offsets[None, :, None]
    cols = origins[:, 1, None, None] + offsets[None, None, :]
    return rows * width + cols


@torch.no_grad()
def fuse_tiled_single(model: nn.Module, x: torch.Tensor, config: TileConfig = TileConfig()) -> torch.Tensor:
    """Fuse one image with the tiled protocol.

    Args:
        model: a fusion model (eval mode) following :mod:`ivif.models.contract`.
        x: (2, H, W) [IR, VIS luma] in [0, 1], any H and W.
    Returns:
        (1, H, W) float32 on CPU.
    """
    height, width = x.shape[-2:]
    padded = _pad_to_tile(x, config.tile)
    pad_h, pad_w = padded.shape[-2:]
    origins, multiplicity = (torch.from_numpy(a).to(x.device) for a in tile_origins(pad_h, pad_w, config.tile, config.stride))
    weights = blend_weights(config.tile, config.blend_extent).to(x.device)
    weighted_sum = torch.zeros(pad_h * pad_w, dtype=torch.float64, device=x.device)
    weight_sum = torch.zeros_like(weighted_sum)
    offsets = torch.arange(config.tile, device=x.device)
    for batch, counts in zip(origins.split(config.batch_size), multiplicity.split(config.batch_size)):
        rows = batch[:, 0, None] + offsets  # (T, tile)
        cols = batch[:, 1, None] + offsets
        tiles = padded[:, rows[:, :, None], cols[:, None, :]].transpose(0, 1)  # (T, 2, tile, tile)
        fused = model(as_model_input(tiles))[:, 0].double()  # (T, tile, tile)
        tile_weights = weights * counts[:, None, None]  # (T, tile, tile)
        index = _tile_pixel_indices(batch, config.tile, pad_w).flatten()
        weighted_sum.index_add_(0, index, (fused * tile_weights).flatten())
        weight_sum.index_add_(0, index, tile_weights.flatten())
    blended = (weighted_sum / weight_sum).view(pad_h, pad_w)[:height, :width]
    smoothed = gaussian_filter(blended.float().cpu().numpy(), sigma=config.smoothing_sigma)
    return torch.from_numpy(smoothed)[None]


def _pad_to_tile(x: torch.Tensor, tile: int) -> torch.Tensor:
    """(C, H, W) padded bottom/right to at least one tile in each direction."""
    height, width = x.shape[-2:]
    if height >= tile and width >= tile:
        return x
    pad = (0, max(tile - width, 0), 0, max(tile - height, 0))
    mode = "reflect" if pad[1] < width and pad[3] < height else "replicate"
    return F.pad(x[None], pad, mode=mode)[0]


@torch.no_grad()
def fuse_tiled(model: nn.Module, x: torch.Tensor, config: TileConfig = TileConfig()) -> torch.Tensor:
    """Batch form of :func:`fuse_tiled_single`: (B, 2, H, W) -> (B, 1, H, W) float32 on CPU."""
    return torch.stack([fuse_tiled_single(model, image, config) for image in x])


__all__ = ["TileConfig", "blend_weights", "fuse_tiled", "fuse_tiled_single", "tile_origins", "tile_starts"]
