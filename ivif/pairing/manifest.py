"""Pairing manifests on disk: a compact pair table plus a JSON summary.

A manifest directory (written atomically, whole or not at all)::

    <out_dir>/<name>/
        manifest.json   format, policy, seed, samples, sources (cache path, image count,
                        content hash), the subset ids (null: all images), counts, sha256
                        of the pair table
        pairs.npy       (M or K, 2) uint16 (int32 past 65535 images): the epoch-0 pairs
                        as (IR cache index, visible cache index)

The JSON is the source of truth: it holds everything needed to recompute the pairs of
*any* epoch (:meth:`PairManifest.epoch`), so training reshuffles per epoch without
rereading or storing N² rows; ``pairs.npy`` is epoch 0 written out for inspection, DVC
hashing and tools that want a plain table. The same inputs give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ivif.data.cache import ImageCache
from ivif.io.atomic import atomic_dir
from ivif.pairing.policies import DEFAULT_CHUNK, EpochPairs, PairingError, Policy, parse_policy, select_subset

MANIFEST_FORMAT = "ivif-pairs/1"
SUMMARY_FILE = "manifest.json"
TABLE_FILE = "pairs.npy"
SOURCE_HASH_KEY = "source_sha256"  # set by ivif.data.cache_build
_UINT16_LIMIT = np.iinfo(np.uint16).max


@dataclasses.dataclass(frozen=True)
class Source:
    """Where one side (IR or visible) of a manifest's images comes from."""

    dataset: str
    split: str
    cache: str  # the cache directory, as given when the manifest was built
    images: int  # images in the cache (before any subset)
    content_hash: str  # see cache_fingerprint
    source_sha256: str | None = None  # the cache's record of its shard tars' sha256, if any

    @classmethod
    def from_cache(cls, cache: ImageCache, dataset: str, split: str) -> Source:
        return cls(dataset, split, str(cache.root), len(cache), cache_fingerprint(cache), cache.meta.get(SOURCE_HASH_KEY))


def cache_fingerprint(cache: ImageCache) -> str:
    """sha256 identifying a cache's content, cheap to compute.

    Hashes the cache's meta (names and the provenance the data stages record, e.g. the
    shard tars' sha256) and its index files (every image's offset and shape), not the
    pixel bytes, which would cost a full read of the cache.
    """
    digest = hashlib.sha256(json.dumps(cache.meta, sort_keys=True).encode())
    for modality in ("ir", "vi"):
        digest.update((cache.root / f"{modality}.index.npy").read_bytes())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True, eq=False)  # array fields: compare manifests by their summary()
class PairManifest:
    """A pairing manifest: the policy plus the base images on each side.

    ``ir_ids``/``vis_ids`` are the cache indices of the base images (all of them, or a
    subset); pairs index into them locally and :meth:`at` maps back to cache indices.
    """

    name: str
    policy: Policy
    samples: int | None
    seed: int
    ir: Source
    vis: Source
    ir_ids: np.ndarray  # (n_ir,) int64 cache indices
    vis_ids: np.ndarray  # (n_vis,) int64 cache indices

    @property
    def same_source(self) -> bool:
        """IR and visible come from the same cache, so (i, i) is a registered pair."""
        return self.ir.content_hash == self.vis.content_hash

    def epoch(self, epoch: int = 0) -> EpochPairs:
        """Pairs of ``epoch`` in *local* indices (into ``ir_ids``/``vis_ids``)."""
        return EpochPairs(len(self.ir_ids), len(self.vis_ids), self.policy, self.samples, self.seed, epoch)

    def __len__(self) -> int:
        """Pairs per epoch."""
        return len(self.epoch(0))

    def at(self, epoch: int, positions: np.ndarray, pairs: EpochPairs | None = None) -> np.ndarray:
        """(n, 2) int64 (IR cache index, visible cache index) at epoch ``positions``.

        Pass ``pairs=self.epoch(epoch)`` to reuse its keys across many calls.
        """
        local = (pairs if pairs is not None else self.epoch(epoch)).at(positions)
        return np.stack([self.ir_ids[local[:, 0]], self.vis_ids[local[:, 1]]], axis=1)

    def check_caches(self, ir_cache: ImageCache, vis_cache: ImageCache) -> None:
        """Raise if the caches are not the ones this manifest was built from."""
        for side, source, cache in (("IR", self.ir, ir_cache), ("visible", self.vis, vis_cache)):
            if cache_fingerprint(cache) != source.content_hash:
                raise PairingError(
                    f"manifest '{self.name}' was built from {side} cache {source.cache} "
                    f"(content {source.content_hash[:12]}), but {cache.root} differs; "
                    "rebuild the manifest (`dvc repro pairs` or `ivif pairs make`)"
                )

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (without the table hash, added by :func:`write_manifest`)."""
        n_ir, n_vis = len(self.ir_ids), len(self.vis_ids)
        pairs = self.epoch(0)
        return {
            "format": MANIFEST_FORMAT,
            "name": self.name,
            "policy": self.policy.value,
            "samples": self.samples,
            "exhaustive": self.samples is None,
            "seed": self.seed,
            "sources": {"ir": dataclasses.asdict(self.ir), "vis": dataclasses.asdict(self.vis)},
            "counts": {"ir": n_ir, "vis": n_vis, "combinations": pairs.combinations, "pairs_per_epoch": len(pairs)},
            # null: every image of the cache, in cache order (keeps big manifests' JSON small)
            "ir_ids": _ids_or_null(self.ir_ids, self.ir.images),
            "vis_ids": _ids_or_null(self.vis_ids, self.vis.images),
        }


def _ids_or_null(ids: np.ndarray, images: int) -> list[int] | None:
    return None if np.array_equal(ids, np.arange(images)) else ids.tolist()


def _ids_from(value: list[int] | None, images: int) -> np.ndarray:
    return np.arange(images, dtype=np.int64) if value is None else np.asarray(value, dtype=np.int64)


def plan_manifest(
    name: str,
    ir_cache: ImageCache,
    vis_cache: ImageCache,
    policy: str | Policy,
    *,
    ir_dataset: str,
    vis_dataset: str,
    split: str,
    subset: int | None = None,
    samples: int | None = None,
    seed: int = 0,
) -> PairManifest:
    """Validate a pairing request against real caches and describe it (no I/O beyond reading meta).

    Raises:
        PairingError: empty cache, subset larger than a cache, strict pairing across
            different caches or of caches of different sizes, more samples than pairs.
    """
    policy = parse_policy(policy)
    ir_source = Source.from_cache(ir_cache, ir_dataset, split)
    vis_source = Source.from_cache(vis_cache, vis_dataset, split)
    for side, cache in (("IR", ir_cache), ("visible", vis_cache)):
        if len(cache) == 0:
            rule = cache.meta.get("split_rule") or {}
            if rule.get("test_fraction") == 1.0:  # the dataset is scored whole: no train split to pair
                raise PairingError(
                    f"{side} cache {cache.root} holds no images: {cache.meta.get('dataset')} was sharded with "
                    f"shard.test_fraction 1.0 (every pair in test, to score it whole), and a manifest needs a train "
                    f"split; pair another dataset's train split, or lower shard.test_fraction"
                )
            raise PairingError(f"{side} cache {cache.root} holds no images; rebuild it (`dvc repro cache`)")
        if subset is not None and subset > len(cache):
            raise PairingError(f"subset {subset} is larger than the {len(cache)} images of {side} cache {cache.root}")
    if policy is Policy.STRICT and ir_source.content_hash != vis_source.content_hash:
        raise PairingError(
            f"strict pairing (SPTP) needs IR and visible from the same cache; got {ir_cache.root} and {vis_cache.root} "
            "(use 'unpaired' or 'arbitrary' for cross-dataset pairing)"
        )
    ir_ids = select_subset(len(ir_cache), subset, seed)
    vis_ids = ir_ids if ir_source.content_hash == vis_source.content_hash else select_subset(len(vis_cache), subset, seed)
    manifest = PairManifest(name, policy, samples, seed, ir_source, vis_source, ir_ids, vis_ids)
    manifest.epoch(0)  # validates counts and samples now, with the policy's own error message
    return manifest


def write_manifest(manifest: PairManifest, dest: str | Path, chunk_size: int = DEFAULT_CHUNK, progress: bool = True) -> Path:
    """Write ``manifest`` to directory ``dest`` atomically; returns ``dest``.

    The epoch-0 table is written in chunks (memory O(chunk_size) even for N² pairs).
    """
    from tqdm import tqdm

    if chunk_size < 1:
        raise PairingError(f"chunk_size must be >= 1, got {chunk_size}")
    dest = Path(dest)
    pairs = manifest.epoch(0)
    dtype = table_dtype(max(manifest.ir.images, manifest.vis.images))
    digest = hashlib.sha256()
    with atomic_dir(dest) as tmp:
        table = np.lib.format.open_memmap(tmp / TABLE_FILE, mode="w+", dtype=dtype, shape=(len(pairs), 2))
        with tqdm(total=len(pairs), desc=f"pairs {manifest.name}", unit="pair", unit_scale=True, disable=not progress) as bar:
            for start in range(0, len(pairs), chunk_size):
                stop = min(start + chunk_size, len(pairs))
                rows = manifest.at(0, np.arange(start, stop), pairs).astype(dtype)
                table[start:stop] = rows
                digest.update(rows.astype(rows.dtype.newbyteorder("<"), copy=False).tobytes())
                bar.update(stop - start)
        table.flush()
        del table
        summary = manifest.summary()
        summary["table"] = {"file": TABLE_FILE, "dtype": np.dtype(dtype).name, "shape": [len(pairs), 2], "sha256": digest.hexdigest()}
        (tmp / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return dest


def table_dtype(n_images: int) -> type:
    """The smallest table dtype for cache indices below ``n_images``."""
    return np.uint16 if n_images <= _UINT16_LIMIT else np.int32


def load_manifest(path: str | Path) -> PairManifest:
    """Read a manifest directory written by :func:`write_manifest`."""
    path = Path(path)
    summary_path = path / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path}: no pairing manifest here; build it with `ivif pairs make` or `dvc repro pairs`")
    summary = json.loads(summary_path.read_text())
    if summary.get("format") != MANIFEST_FORMAT:
        raise PairingError(f"{summary_path}: format {summary.get('format')!r}, expected {MANIFEST_FORMAT!r}; rebuild the manifest")
    ir, vis = Source(**summary["sources"]["ir"]), Source(**summary["sources"]["vis"])
    return PairManifest(
        name=summary["name"],
        policy=parse_policy(summary["policy"]),
        samples=summary["samples"],
        seed=summary["seed"],
        ir=ir,
        vis=vis,
        ir_ids=_ids_from(summary["ir_ids"], ir.images),
        vis_ids=_ids_from(summary["vis_ids"], vis.images),
    )


def read_summary(path: str | Path) -> Mapping[str, Any]:
    """The JSON summary of a manifest directory."""
    return json.loads((Path(path) / SUMMARY_FILE).read_text())


def read_table(path: str | Path, verify: bool = False) -> np.ndarray:
    """The epoch-0 pair table (memory-mapped); ``verify`` checks it against the summary's sha256."""
    path = Path(path)
    table = np.load(path / TABLE_FILE, mmap_mode="r")
    if verify:
        expected = read_summary(path)["table"]["sha256"]
        digest = hashlib.sha256()
        for start in range(0, len(table), DEFAULT_CHUNK):
            digest.update(np.ascontiguousarray(table[start : start + DEFAULT_CHUNK]).tobytes())
        if digest.hexdigest() != expected:
            raise PairingError(f"{path / TABLE_FILE}: sha256 does not match {SUMMARY_FILE}; the table is corrupt, rebuild it")
    return table
