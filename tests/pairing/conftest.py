"""Small real decoded caches for the pairing tests (built once per session from ../shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ivif.data.cache import ImageCache, write_cache


def build_cache(shared: Path, dataset: str, count: int, dest: Path) -> ImageCache:
    """Decode the first ``count`` pairs of shared/data/<dataset> into a cache at ``dest``."""
    root = shared / "data" / dataset
    records = []
    for ir_path in sorted((root / "ir").iterdir())[:count]:
        ir = np.asarray(Image.open(ir_path).convert("L"))
        vi = np.asarray(Image.open(root / "vi" / ir_path.name).convert("RGB"))
        records.append((ir_path.stem, ir, vi))
    write_cache(dest, records, {"dataset": dataset})
    return ImageCache(dest)


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory) -> Path:
    """A cache root laid out like the pipeline's: <cache_root>/<dataset>/train/."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def msrs_cache(shared, cache_root) -> ImageCache:
    """8 MSRS pairs, 640x480, IR L + visible RGB."""
    return build_cache(shared, "msrs13", 8, cache_root / "msrs13" / "train")


@pytest.fixture(scope="session")
def tno_cache(shared, cache_root) -> ImageCache:
    """12 TNO pairs of mixed sizes (768x576, 280x280, ...)."""
    return build_cache(shared, "tno42", 12, cache_root / "tno42" / "train")


@pytest.fixture(scope="session")
def m3fd_cache(shared, cache_root) -> ImageCache:
    """The 6 M3FD-like pairs, 1024x768, for cross-dataset pairing."""
    return build_cache(shared, "m3fd6", 6, cache_root / "m3fd6" / "train")
