"""Reading back the shards written by :mod:`ivif.data.shard`, through WebDataset."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import webdataset as wds

from ivif.data.images import decode_png
from ivif.data.shard import MODALITIES, load_summary


@dataclass(frozen=True)
class ShardSample:
    """One decoded sample: ``pixels`` (H, W) or (H, W, 3) uint8 and its JSON metadata."""

    key: str
    pixels: np.ndarray
    meta: dict[str, Any]


def split_tars(shard_dir: str | Path, split: str) -> dict[str, list[Path]]:
    """modality -> the split's tar paths, in order, as listed in ``shards.json``."""
    shard_dir = Path(shard_dir)
    summary = load_summary(shard_dir)
    if split not in summary["splits"]:
        raise ValueError(f"{shard_dir}: no split {split!r}; splits are {sorted(summary['splits'])}")
    tars = summary["splits"][split]["tars"]
    return {m: [shard_dir / entry["path"] for entry in tars[m]] for m in MODALITIES}


def iter_samples(tars: Sequence[str | Path]) -> Iterator[ShardSample]:
    """Decode every sample of ``tars`` in stored order (no shuffling)."""
    if not tars:
        return
    for path in tars:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: shard tar missing; rebuild the shards with `ivif data shard`")
    dataset = wds.WebDataset([str(p) for p in tars], shardshuffle=False, empty_check=False)
    for sample in dataset:
        yield ShardSample(sample["__key__"], decode_png(sample["png"]), json.loads(sample["json"]))
