"""Benchmark: what checking a cache's recorded hashes costs when it is opened.

Writes a synthetic cache of ``--pairs`` 640x480 pairs (IR gray, visible RGB: the MSRS
shape) and prints the time to open it with the full check (``ImageCache(root)``:
meta, index and pixel files hashed) and with the pixel files skipped
(``verify=False``), and the hashing rate. Reference: the MSRS train cache is 1,083
such pairs (about 1.3 GB).

Usage: ``.venv/bin/python bench/cache_verify.py [--pairs N]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ivif.data.cache import ImageCache, write_cache

HEIGHT, WIDTH = 480, 640
MSRS_TRAIN_PAIRS = 1083
REPEATS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ir = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    vi = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cache"
        write_cache(root, ((f"p{i}", ir, vi) for i in range(args.pairs)))
        size = sum(p.stat().st_size for p in root.iterdir())
        ImageCache(root)  # warm the page cache: measure hashing, not the disk
        timings = {}
        for verify in (True, False):
            start = time.perf_counter()
            for _ in range(REPEATS):
                ImageCache(root, verify=verify)
            timings[verify] = (time.perf_counter() - start) / REPEATS
    rate = size / max(timings[True] - timings[False], 1e-9)
    print(f"cache of {args.pairs} pairs {WIDTH}x{HEIGHT}: {size / 1e6:.0f} MB")
    print(f"open, full check:        {timings[True] * 1e3:8.1f} ms  ({rate / 1e9:.2f} GB/s hashed)")
    print(f"open, verify=False:      {timings[False] * 1e3:8.1f} ms")
    msrs = MSRS_TRAIN_PAIRS * HEIGHT * WIDTH * 4
    print(f"estimated for the MSRS train cache ({msrs / 1e9:.1f} GB): {msrs / rate:.2f} s per open")


if __name__ == "__main__":
    main()
