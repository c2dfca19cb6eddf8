"""Benchmark: pairs/s served by the pair loader vs reading the batch's PNG files per step.

Both sides serve the same thing — (2, 128, 128) float32 [IR, visible-Y] patches with a
random crop and flips, for the pairs of one APTP manifest — through a torch DataLoader:

- ``cache``: :class:`ivif.pairing.loader.PairDataset` over the decoded cache (memmap);
- ``png``: every sample decodes its IR and visible PNG files from disk with PIL, the
  way the upstream trainers load each batch.

Throughput is measured after a warm-up of a few batches (worker start-up excluded), for
batch 8 and 32 and 0 and 2 workers; each figure is the best of ``--repeats`` runs, so
that other jobs on a shared machine distort both sides less.

Usage: ``.venv/bin/python bench/loader.py [--images DIR] [--batches 20] [--repeats 3]``; DIR holds
``ir/`` and ``vi/`` PNG pairs (default: ../shared/data/msrs13, 640×480).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from ivif.color import rgb_to_y
from ivif.data.cache import ImageCache, write_cache
from ivif.pairing import plan_manifest
from ivif.pairing.loader import PairDataset
from ivif.pairing.patches import crop, flip

PATCH = 128
BATCH_SIZES = (8, 32)
WORKER_COUNTS = (0, 2)
WARMUP_BATCHES = 3
DEFAULT_IMAGES = Path(os.environ.get("IVIF_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data" / "msrs13"


class PngPairs(Dataset):
    """The baseline: decode both PNG files of each pair on every access."""

    def __init__(self, ir_files: list[Path], vi_files: list[Path], pairs: np.ndarray, patch: int, seed: int = 0):
        self.ir_files, self.vi_files, self.pairs, self.patch, self.seed = ir_files, vi_files, pairs, patch, seed

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, index])
        ir_id, vi_id = self.pairs[index]
        ir = np.asarray(Image.open(self.ir_files[ir_id]).convert("L"))
        vi = np.asarray(Image.open(self.vi_files[vi_id]).convert("RGB"))
        patches = []
        for img in (ir, vi):
            top = rng.integers(0, max(img.shape[0] - self.patch, 0) + 1)
            left = rng.integers(0, max(img.shape[1] - self.patch, 0) + 1)
            window = crop(img, top, left, self.patch)
            gray = rgb_to_y(window) if window.ndim == 3 else window.astype(np.float32)
            patches.append(gray / np.float32(255))
        sample = flip(np.stack(patches), bool(rng.integers(2)), bool(rng.integers(2)))
        return torch.from_numpy(np.ascontiguousarray(sample))


def pairs_per_second(dataset: Dataset, batch_size: int, workers: int, batches: int) -> float:
    indices = [i % len(dataset) for i in range((batches + WARMUP_BATCHES) * batch_size)]
    loader = DataLoader(dataset, batch_size=batch_size, sampler=indices, num_workers=workers)
    served, start = 0, None
    for step, batch in enumerate(loader):
        if step == WARMUP_BATCHES:
            start, served = time.perf_counter(), 0
        served += len(batch)
    return served / (time.perf_counter() - start)


def build_cache(images: Path, dest: Path) -> tuple[ImageCache, list[Path], list[Path]]:
    ir_files = sorted((images / "ir").glob("*.png"))
    vi_files = [images / "vi" / f.name for f in ir_files]
    if not ir_files:
        raise SystemExit(f"{images}/ir: no PNG files; pass --images DIR with ir/ and vi/ PNG pairs")
    records = (
        (f.stem, np.asarray(Image.open(f).convert("L")), np.asarray(Image.open(v).convert("RGB"))) for f, v in zip(ir_files, vi_files)
    )
    write_cache(dest, records, {"dataset": images.name})
    return ImageCache(dest), ir_files, vi_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES, help="folder with ir/ and vi/ PNG pairs")
    parser.add_argument("--batches", type=int, default=20, help="timed batches per run (cache side x10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the best is reported")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        cache, ir_files, vi_files = build_cache(args.images, Path(tmp) / "cache")
        manifest = plan_manifest(
            "bench", cache, cache, "arbitrary", ir_dataset=args.images.name, vis_dataset=args.images.name, split="train"
        )
        cached = PairDataset(manifest, cache, cache, patch_size=PATCH)
        png = PngPairs(ir_files, vi_files, manifest.at(0, np.arange(len(manifest))), PATCH)
        print(f"{args.images}: {len(cache)} pairs, APTP manifest of {len(manifest)}, patches {PATCH}x{PATCH}, {os.cpu_count()} CPUs")
        print(f"{'batch':>5s} {'workers':>7s} {'cache pairs/s':>14s} {'png pairs/s':>12s} {'speed-up':>9s}")
        for batch_size in BATCH_SIZES:
            for workers in WORKER_COUNTS:
                fast = max(pairs_per_second(cached, batch_size, workers, args.batches * 10) for _ in range(args.repeats))
                slow = max(pairs_per_second(png, batch_size, workers, args.batches) for _ in range(args.repeats))
                print(f"{batch_size:5d} {workers:7d} {fast:14,.0f} {slow:12,.0f} {fast / slow:8.1f}x", flush=True)


if __name__ == "__main__":
    main()
