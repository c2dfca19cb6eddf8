"""The vectorised tiled protocol against a plain per-tile loop, and full-mode padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from ivif.fusion import TileConfig, fuse_full, fuse_tiled
from ivif.fusion.tiled import blend_weights, tile_origins, tile_starts
from ivif.models import create_model

SMALL = {"stem_width": 4, "growth": (2, 2, 4, 4), "head_width": 4}


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    model = create_model("cnn", **SMALL).eval()
    with torch.no_grad():  # random BN statistics so every layer matters
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    return model


def upstream_style_loop(model, image: np.ndarray, tile=128, stride=64, batch=4) -> np.ndarray:
    """The upstream protocol written naively: every visit, batches of 4, numpy blending."""
    _, height, width = image.shape
    origins = [(y, x) for y in range(0, height - tile + 1, stride) for x in [*range(0, width - tile + 1, stride), width - tile]]
    origins += [(height - tile, x) for x in range(0, width - tile + 1, stride)] + [(height - tile, width - tile)]
    weights = blend_weights(tile, 3.0).numpy()
    total, weight_sum = np.zeros((height, width)), np.zeros((height, width))
    for start in range(0, len(origins), batch):
        chunk = origins[start : start + batch]
        tiles = torch.from_numpy(np.stack([image[:, y : y + tile, x : x + tile] for y, x in chunk]))
        with torch.no_grad():
            fused = model(tiles)[:, 0].numpy()
        for (y, x), out in zip(chunk, fused):
            total[y : y + tile, x : x + tile] += out * weights
            weight_sum[y : y + tile, x : x + tile] += weights
    return gaussian_filter((total / weight_sum).astype(np.float32), sigma=0.3)


def test_tile_starts_count_upstream_visits():
    offsets, counts = tile_starts(320, 128, 64)  # 320 - 128 = 192 is on the grid: visited twice
    assert offsets.tolist() == [0, 64, 128, 192] and counts.tolist() == [1, 1, 1, 2]
    offsets, counts = tile_starts(329, 128, 64)
    assert offsets.tolist() == [0, 64, 128, 192, 201] and counts.tolist() == [1, 1, 1, 1, 1]


def test_tile_origins_multiplicities_sum_to_upstream_tile_count():
    origins, multiplicity = tile_origins(480, 640, 128, 64)
    grid_rows, grid_cols = len(range(0, 480 - 127, 64)), len(range(0, 640 - 127, 64))
    assert multiplicity.sum() == grid_rows * grid_cols + grid_rows + grid_cols + 1
    assert len(origins) == len(set(map(tuple, origins))) < multiplicity.sum()


def test_blend_weights_are_a_centred_gaussian():
    weights = blend_weights(128, 3.0)
    assert weights.shape == (128, 128)
    assert torch.allclose(weights, weights.T) and torch.allclose(weights, weights.flip(0))
    assert weights[63, 63] == weights.max() and weights[0, 0] == pytest.approx(np.exp(-9.0))


@pytest.mark.parametrize("height,width", [(192, 256), (150, 203)])  # aligned (duplicate visits) and not
def test_vectorised_tiling_equals_the_per_tile_loop(small_model, height, width):
    rng = np.random.default_rng(0)
    image = rng.random((2, height, width), dtype=np.float32)
    expected = upstream_style_loop(small_model, image)
    fused = fuse_tiled(small_model, torch.from_numpy(image)[None], TileConfig(batch_size=5))
    assert fused.shape == (1, 1, height, width)
    assert np.abs(fused[0, 0].numpy() - expected).max() < 1e-6


def test_images_smaller_than_a_tile_still_fuse(small_model):
    fused = fuse_tiled(small_model, torch.rand(1, 2, 50, 140))
    assert fused.shape == (1, 1, 50, 140) and torch.isfinite(fused).all()


@pytest.mark.parametrize("height,width", [(33, 47), (3, 5), (16, 20)])
def test_full_mode_pads_and_crops_back(small_model, height, width):
    x = torch.rand(2, 2, height, width)
    fused = fuse_full(small_model, x)
    assert fused.shape == (2, 1, height, width)
    if height % 4 == 0 and width % 4 == 0:  # no padding: one plain forward pass
        with torch.no_grad():
            assert torch.allclose(fused, small_model(x), atol=1e-6)
