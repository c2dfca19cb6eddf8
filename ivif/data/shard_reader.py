"""Reading back the shards written by :mod:`ivif.data.shard`, through WebDataset.

Every tar is checked against the sha256 recorded in ``shards.json`` before it is read
(:func:`split_tars`), and a sample that still fails to decode is reported with its tar
and key (:class:`ShardSampleError`), never as a bare decoder error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import webdataset as wds
from PIL import Image

from ivif.data.images import decode_png
from ivif.data.shard import (
    MODALITIES,
    ShardIntegrityError,
    load_summary,
    rebuild_hint,
    verify_tar,
)

# What decoding one sample can raise on corrupt bytes (PIL reports truncation and bad
# chunks as OSError/SyntaxError/ValueError; a huge header as DecompressionBombError).
SAMPLE_ERRORS = (
    ValueError,
    OSError,
    SyntaxError,
    KeyError,
    Image.DecompressionBombError,
)


class ShardSampleError(ShardIntegrityError):
    """One sample of a shard tar cannot be decoded; names the tar and the key."""


@dataclass(frozen=True)
class ShardSample:
    """One decoded sample: ``pixels`` (H, W) or (H, W, 3) uint8 and its JSON metadata."""

    key: str
    pixels: np.ndarray
    meta: dict[str, Any]


def split_tars(
    shard_dir: str | Path, split: str, verify: bool = True
) -> dict[str, list[Path]]:
    """modality -> the split's tar paths, in order, as listed in ``shards.json``.

    With ``verify`` (the default) each tar is checked against its recorded sha256 first
    (:class:`ShardIntegrityError` names the tar and the rebuild command).
    """
    shard_dir = Path(shard_dir)
    summary = load_summary(shard_dir)
    if split not in summary["splits"]:
        raise ValueError(
            f"{shard_dir}: no split {split!r}; splits are {sorted(summary['splits'])}"
        )
    tars = summary["splits"][split]["tars"]
    if verify:
        for modality in MODALITIES:
            for entry in tars[modality]:
                verify_tar(shard_dir, entry, summary["dataset"])
    return {m: [shard_dir / entry["path"] for entry in tars[m]] for m in MODALITIES}


def iter_samples(tars: Sequence[str | Path]) -> Iterator[ShardSample]:
    """Decode every sample of ``tars`` in stored order (no shuffling)."""
    if not tars:
        return
    for path in tars:
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"{path}: shard tar missing; rebuild the shards with `ivif data shard`"
            )
    dataset = wds.WebDataset(
        [str(p) for p in tars], shardshuffle=False, empty_check=False
    )
    for sample in dataset:
        yield _decode(sample)


def _decode(sample: dict[str, Any]) -> ShardSample:
    key, url = sample.get("__key__"), sample.get("__url__")
    try:
        meta = json.loads(sample["json"])
        pixels = decode_png(sample["png"])
    except SAMPLE_ERRORS as exc:
        tar = Path(url) if url else None
        hint = rebuild_hint(tar.parent.parent.name) if tar else "rebuild the shards"
        raise ShardSampleError(
            f"{url}: sample {key!r} cannot be decoded ({type(exc).__name__}: {exc}); {hint}"
        ) from exc
    return ShardSample(key, pixels, meta)
