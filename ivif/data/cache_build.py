"""Building the decoded random-access caches (:mod:`ivif.data.cache`) from shards.

One cache per split: ``<out_dir>/<split>/``. Its ``meta.json`` records where the pixels
came from so that later stages (pairing manifests, training runs) can pin them:

``dataset``, ``split``
    registry name and split name (``train`` / ``test``).
``source_sha256``
    :func:`ivif.data.digest.combined_sha256` of the split's tars (names relative to
    the shard folder); changes whenever any pixel or metadata of the split changes.
``shards``
    relative tar path -> sha256, as in ``shards.json``.
``split_rule``
    how the split was made (``{"kind": "official"}`` or the seeded rule).
``sources``
    name -> ``{"ir": file name, "vi": file name}``: the original files of each pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ivif.data.cache import update_meta, write_cache
from ivif.data.digest import combined_sha256
from ivif.data.shard import MODALITIES, load_summary
from ivif.data.shard_reader import iter_samples, split_tars
from ivif.io.atomic import atomic_dir, sweep_stale_temps


class ShardMismatchError(ValueError):
    """The IR and visible tars of a split do not hold the same keys in the same order."""


def build_caches(shard_dir: str | Path, out_dir: str | Path, progress: bool = True) -> dict[str, Path]:
    """Write one cache per split of the shard set at ``shard_dir`` into ``out_dir``.

    The whole ``out_dir`` is replaced atomically. Returns split -> cache directory.
    """
    shard_dir, out_dir = Path(shard_dir), Path(out_dir)
    summary = load_summary(shard_dir)
    sweep_stale_temps(out_dir.parent)  # what a killed earlier run left (e.g. data/cache/.sample.ivif-tmp-*)
    with atomic_dir(out_dir) as tmp:
        for split, info in sorted(summary["splits"].items()):
            meta = _cache_meta(summary, split)
            records = _records(shard_dir, split)
            sources: dict[str, dict[str, str]] = {}
            desc = f"cache {summary['dataset']}/{split}"
            with tqdm(records, total=info["count"], desc=desc, unit="pair", disable=not progress) as bar:
                write_cache(tmp / split, _collect_sources(bar, sources), meta)
            update_meta(tmp / split, {"sources": sources})
    return {split: out_dir / split for split in sorted(summary["splits"])}


def _cache_meta(summary: dict[str, Any], split: str) -> dict[str, Any]:
    tars = summary["splits"][split]["tars"]
    hashes = {entry["path"]: entry["sha256"] for m in MODALITIES for entry in tars[m]}
    return {
        "dataset": summary["dataset"],
        "split": split,
        "split_rule": summary["split_rule"],
        "shards": hashes,
        "source_sha256": combined_sha256(hashes),
    }


def _records(shard_dir: Path, split: str) -> Iterator[tuple[str, np.ndarray, np.ndarray, dict[str, str]]]:
    tars = split_tars(shard_dir, split)
    ir_samples = iter_samples(tars["ir"])
    vi_samples = iter_samples(tars["vi"])
    for ir, vi in _zip_exact(ir_samples, vi_samples, f"{shard_dir}/{split}"):
        if ir.key != vi.key:
            raise ShardMismatchError(f"{shard_dir}/{split}: IR key {ir.key!r} next to visible key {vi.key!r}; rebuild the shards")
        yield ir.key, ir.pixels, vi.pixels, {"ir": ir.meta["name"], "vi": vi.meta["name"]}


def _collect_sources(records, sources: dict[str, dict[str, str]]) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Pass ``(name, ir, vi)`` on to the cache writer, noting each pair's file names."""
    for name, ir, vi, files in records:
        sources[name] = files
        yield name, ir, vi


def _zip_exact(a: Iterator, b: Iterator, where: str) -> Iterator[tuple]:
    sentinel = object()
    while True:
        x, y = next(a, sentinel), next(b, sentinel)
        if x is sentinel and y is sentinel:
            return
        if x is sentinel or y is sentinel:
            raise ShardMismatchError(f"{where}: IR and visible tars hold different numbers of samples; rebuild the shards")
        yield x, y
