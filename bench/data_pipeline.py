"""Benchmark: throughput of the data stages (validate+shard, cache build, cache reads).

For each folder of ``ir/`` + ``vi/`` pairs, prints pairs/s for

- ``shard``: decode + validate every pair and write PNG WebDataset tars;
- ``cache``: decode the tars back and write the uint8 memmap cache;
- ``read``: random-access reads of IR + visible images from the cache (what pairing does),

plus the size of the tars and of the cache relative to the source files.

Usage: ``.venv/bin/python bench/data_pipeline.py [DIR ...]`` (default: the embedded
sample and ../shared/data/{msrs13,roadscene221}).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ivif.data.cache import ImageCache
from ivif.data.cache_build import build_caches
from ivif.data.layout import plan_splits
from ivif.data.registry import get_dataset
from ivif.data.shard import write_shards
from ivif.data.split import SplitRule

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_DIRS = [ROOT / "data" / "sample", SHARED_DATA / "msrs13", SHARED_DATA / "roadscene221"]
RANDOM_READS = 2000
SAMPLES_PER_TAR = 1000


def _size(folder: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


def bench(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plan = plan_splits(get_dataset("sample"), folder, SplitRule())
        n = sum(len(p) for p in plan.pairs.values())
        t0 = time.perf_counter()
        write_shards("bench", plan, work / "shards", samples_per_tar=SAMPLES_PER_TAR, progress=False)
        t1 = time.perf_counter()
        caches = build_caches(work / "shards", work / "cache", progress=False)
        t2 = time.perf_counter()
        readers = [ImageCache(root) for root in caches.values()]
        rng = np.random.default_rng(0)
        t3 = time.perf_counter()
        checksum = 0
        for _ in range(RANDOM_READS):
            cache = readers[rng.integers(len(readers))]
            i, j = rng.integers(len(cache), size=2)
            checksum += int(cache.ir(i)[0, 0]) + int(cache.vi(j)[0, 0, 0])  # touch pixels
        t4 = time.perf_counter()
        source = _size(folder / "ir") + _size(folder / "vi")
        print(
            f"{folder.name:14s} {n:4d} pairs | shard {n / (t1 - t0):7.1f} pairs/s | cache {n / (t2 - t1):7.1f} pairs/s | "
            f"read {RANDOM_READS / (t4 - t3):9.0f} IR+VIS pairs/s | tars {_size(work / 'shards', '*.tar') / source:4.2f}x, "
            f"cache {_size(work / 'cache', '*.u8') / source:4.2f}x source size"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[d for d in DEFAULT_DIRS if d.is_dir()])
    for folder in parser.parse_args().dirs:
        bench(folder)


if __name__ == "__main__":
    main()
