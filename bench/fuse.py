"""Benchmark: seconds per 640 x 480 pair for ``full`` and ``tiled`` fusion, per model,
against the upstream per-tile loop.

- ``full``: :func:`ivif.fusion.fuse_full`, one padded pass.
- ``tiled``: :func:`ivif.fusion.fuse_tiled`, the upstream protocol vectorised (unique
  tiles weighted by multiplicity, batches of 4, scatter-add blending, channels-last).
- ``upstream loop``: the protocol as the upstream test script runs it: every tile visit
  (duplicates included), batches of 4, a Python loop blending each tile with numpy, the
  model in the default memory format and with the attention computed the direct way
  (materialised grouped-conv q/k/v), as upstream's code does.

On CUDA, ivif runs with float16 autocast and the loop in float32 as upstream did, so
``max|d|`` there measures the float16 error. Each figure is the best of ``--repeats`` runs (other jobs on a shared machine distort
both sides less); ``max|d|`` is the largest difference between ``tiled`` and the loop.
Weights are the released checkpoints when ../shared is there, else random (same cost).

Usage: ``.venv/bin/python bench/fuse.py [--models cnn transformer gan] [--repeats 2] [--threads 2] [--device cpu]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ivif.fusion import TileConfig, fuse_full, fuse_tiled
from ivif.fusion.device import inference_mode, prepare_model
from ivif.fusion.io import read_gray
from ivif.fusion.tiled import blend_weights, tile_config_for
from ivif.models import create_model
from ivif.models.upstream import load_upstream_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upstream_style import upstream_model  # noqa: E402

SHARED = Path(os.environ.get("IVIF_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
PAIR = ("msrs13", "00004N.png")  # 640 x 480
SIZE = (480, 640)
UPSTREAM_BATCH = 4
TILE, STRIDE, EXTENT, SIGMA = 128, 64, 3.0, 0.3


def load_inputs() -> np.ndarray:
    folder = SHARED / "data" / PAIR[0]
    if folder.is_dir():
        return np.stack([read_gray(folder / modality / PAIR[1]) for modality in ("ir", "vi")])
    return np.random.default_rng(0).random((2, *SIZE), dtype=np.float32)


def load_model(name: str) -> torch.nn.Module:
    weights = SHARED / "weights" / "upstream" / f"{name}.model"
    return load_upstream_model(name, weights) if weights.is_file() else create_model(name).eval()


def upstream_loop(model: torch.nn.Module, image: np.ndarray, device: torch.device) -> np.ndarray:
    """The upstream tiled protocol: every visit, batches of 4, numpy blending per tile (float32 model)."""
    _, height, width = image.shape
    origins = []
    for y in range(0, height - TILE + 1, STRIDE):
        origins += [(y, x) for x in range(0, width - TILE + 1, STRIDE)] + [(y, width - TILE)]
    origins += [(height - TILE, x) for x in range(0, width - TILE + 1, STRIDE)] + [(height - TILE, width - TILE)]
    weights = blend_weights(TILE, EXTENT).numpy()
    total, weight_sum = np.zeros((height, width)), np.zeros((height, width))
    for start in range(0, len(origins), UPSTREAM_BATCH):
        chunk = origins[start : start + UPSTREAM_BATCH]
        tiles = torch.from_numpy(np.stack([image[:, y : y + TILE, x : x + TILE] for y, x in chunk])).to(device)
        with torch.no_grad():
            fused = model(tiles)[:, 0].cpu().numpy()
        for (y, x), out in zip(chunk, fused):
            total[y : y + TILE, x : x + TILE] += out * weights
            weight_sum[y : y + TILE, x : x + TILE] += weights
    return gaussian_filter((total / weight_sum).astype(np.float32), sigma=SIGMA)


def best_time(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "transformer", "gan"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the project's machines have 2 cores)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="device of every run (the upstream loop stays float32)")
    parser.add_argument("--tile-batch", type=int, help="ivif tiles per forward pass (default: 4 on CPU, 64 on CUDA)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    tile_config = TileConfig(batch_size=args.tile_batch) if args.tile_batch else tile_config_for(device)
    image = load_inputs()
    x = torch.from_numpy(image)[None].to(device)
    amp = " (float16 autocast)" if device.type == "cuda" else ""
    print(f"640x480 pair, {args.threads} CPU threads, ivif on {device.type}{amp}, {tile_config.batch_size} tiles per batch")
    print(f"{'model':<12} {'full s':>8} {'tiled s':>8} {'upstream loop s':>16} {'speed-up':>9} {'max|d| tiled-loop':>18}")
    for name in args.models:
        model = load_model(name)
        baseline_model = upstream_model(model, device)
        fast = prepare_model(model, device)
        with inference_mode(device):
            fast(x[..., :TILE, :TILE])  # warm-up (oneDNN primitive creation, CUDA kernels)
            full_s, _ = best_time(lambda: fuse_full(fast, x), args.repeats)
            tiled_s, tiled = best_time(lambda: fuse_tiled(fast, x, tile_config), args.repeats)
        loop_s, looped = best_time(lambda: upstream_loop(baseline_model, image, device), args.repeats)
        delta = np.abs(tiled[0, 0].numpy() - looped).max()
        print(f"{name:<12} {full_s:>8.2f} {tiled_s:>8.2f} {loop_s:>16.2f} {loop_s / tiled_s:>8.1f}x {delta:>18.1e}")


if __name__ == "__main__":
    main()
