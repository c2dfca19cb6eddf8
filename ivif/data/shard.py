"""Writing a dataset as deterministic WebDataset shards.

Layout of one dataset's shard folder::

    shards.json                    summary: counts, split rule, sha256 of every tar,
                                   and summary_sha256 (of the summary itself)
    <split>/ir-000000.tar          IR samples:  <key>.png (L) + <key>.json
    <split>/vi-000000.tar          visible samples: <key>.png (L or RGB) + <key>.json

IR and visible tars of a split hold the same keys in the same (sorted) order. Pixels
are PNG (lossless). Tar headers carry mtime 0, uid/gid 0 and a fixed owner name, and
samples are written in sorted order, so the same inputs give byte-identical tars on a
machine, run after run (``dvc repro`` twice gives the same hashes).

Integrity: every reader checks ``shards.json`` against its own ``summary_sha256`` and
each tar against the sha256 recorded there before using it
(:func:`ivif.data.shard_reader.split_tars`); a mismatch names the file and the rebuild
command (:class:`ShardIntegrityError`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import webdataset as wds
from tqdm import tqdm

from ivif.data.cache import MODALITIES
from ivif.data.digest import json_sha256, sha256_file
from ivif.data.images import DecodedImage, encode_png
from ivif.data.ingest import IngestError, LoadedPair, Problem, iter_loaded
from ivif.data.layout import SplitPlan
from ivif.data.registry import SPLITS
from ivif.io.atomic import atomic_dir, atomic_write_text, sweep_stale_temps

SHARD_SET_FORMAT = "ivif-shards/2"
SUMMARY_NAME = "shards.json"
SUMMARY_HASH_KEY = "summary_sha256"
TAR_DIGITS = 6
# Fixed tar header fields: what makes the bytes independent of who/when wrote them.
TAR_MTIME = 0
TAR_OWNER = "ivif"
TAR_FILE_MODE = 0o444
_KEY_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


class ShardIntegrityError(ValueError):
    """A shard file's bytes differ from what was recorded when the shards were written."""


def rebuild_hint(dataset: str) -> str:
    """What to run to rebuild a dataset's shards."""
    return f"rebuild them with `dvc repro shard@{dataset}` (or `ivif data shard {dataset}`)"


def sample_key(name: str) -> str:
    """WebDataset key of a pair name: no dots (WebDataset splits the extension at the
    first dot) and no path or shell-special characters."""
    return _KEY_UNSAFE.sub("_", name)


def tar_pattern(split_dir: Path, modality: str) -> str:
    """printf-style pattern of a split's tars for ``modality`` (``%`` in paths escaped)."""
    return str(split_dir / f"{modality}-").replace("%", "%%") + f"%0{TAR_DIGITS}d.tar"


def write_shards(
    dataset: str,
    plan: SplitPlan,
    out_dir: str | Path,
    *,
    samples_per_tar: int,
    skip_bad: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Decode, validate and shard every pair of ``plan`` into ``out_dir``, atomically.

    Raises :class:`IngestError` listing every bad file unless ``skip_bad`` (then they
    are left out and listed in the summary). Returns the summary written to
    ``shards.json``.
    """
    out_dir = Path(out_dir)
    sweep_stale_temps(out_dir.parent)  # what a killed earlier run left
    problems: list[Problem] = list(plan.problems)
    counts: dict[str, int] = {}
    _check_unique_keys(plan)
    with atomic_dir(out_dir) as tmp:
        total = sum(len(pairs) for pairs in plan.pairs.values())
        with tqdm(total=total, desc=f"shard {dataset}", unit="pair", disable=not progress) as bar:
            for split in SPLITS:
                loaded = iter_loaded(plan.pairs[split], problems)
                counts[split] = _write_split(dataset, split, loaded, tmp / split, samples_per_tar, bar)
        if problems and not skip_bad:
            raise IngestError(problems, f"dataset {dataset}")
        summary = _summary(dataset, plan, tmp, counts, problems)
        atomic_write_text(tmp / SUMMARY_NAME, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def load_summary(shard_dir: str | Path) -> dict[str, Any]:
    """The ``shards.json`` of a shard folder, checked for format."""
    path = Path(shard_dir) / SUMMARY_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no shard summary; build the shards with `ivif data shard`")
    try:
        summary = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ShardIntegrityError(f"{path}: not valid JSON ({exc}); corrupt: {rebuild_hint(Path(shard_dir).name)}") from exc
    if not isinstance(summary, dict) or summary.get("format") != SHARD_SET_FORMAT:
        got = summary.get("format") if isinstance(summary, dict) else None
        raise ValueError(f"{path}: format {got!r}, expected {SHARD_SET_FORMAT!r}; {rebuild_hint(Path(shard_dir).name)}")
    if summary.get(SUMMARY_HASH_KEY) != json_sha256(summary, SUMMARY_HASH_KEY):
        raise ShardIntegrityError(
            f"{path}: content does not match its {SUMMARY_HASH_KEY} (changed after it was written); "
            f"corrupt: {rebuild_hint(summary.get('dataset') or Path(shard_dir).name)}"
        )
    return summary


def verify_tar(shard_dir: Path, entry: dict[str, str], dataset: str) -> None:
    """Raise :class:`ShardIntegrityError` unless the tar of a ``shards.json`` entry exists
    with the sha256 recorded there."""
    path = shard_dir / entry["path"]
    if not path.is_file():
        raise ShardIntegrityError(f"{path}: shard tar missing (listed in {shard_dir / SUMMARY_NAME}); {rebuild_hint(dataset)}")
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise ShardIntegrityError(
            f"{path}: corrupt shard: sha256 {actual[:16]}... differs from {entry['sha256'][:16]}... recorded in "
            f"{shard_dir / SUMMARY_NAME}; {rebuild_hint(dataset)}"
        )


def verify_shards(shard_dir: str | Path) -> list[str]:
    """Check ``shards.json`` and every tar it lists; one message per bad file (empty: all good)."""
    shard_dir = Path(shard_dir)
    try:
        summary = load_summary(shard_dir)
    except (FileNotFoundError, ValueError) as exc:
        return [str(exc)]
    problems = []
    for info in summary["splits"].values():
        for entries in info["tars"].values():
            for entry in entries:
                try:
                    verify_tar(shard_dir, entry, summary["dataset"])
                except ShardIntegrityError as exc:
                    problems.append(str(exc))
    return problems


def _write_split(dataset: str, split: str, pairs, split_dir: Path, samples_per_tar: int, bar: tqdm) -> int:
    writers: dict[str, wds.ShardWriter] = {}
    count = 0
    try:
        for pair in pairs:
            if not writers:  # open lazily: an empty split gets no (empty) tar
                split_dir.mkdir(parents=True)
                writers = {m: _shard_writer(split_dir, m, samples_per_tar) for m in MODALITIES}
            for modality in MODALITIES:
                writers[modality].write(_sample(dataset, split, modality, pair))
            count += 1
            bar.update(1)
    finally:
        for writer in writers.values():
            writer.close()
    return count


def _shard_writer(split_dir: Path, modality: str, samples_per_tar: int) -> wds.ShardWriter:
    return wds.ShardWriter(
        tar_pattern(split_dir, modality),
        maxcount=samples_per_tar,
        verbose=0,
        encoder=False,  # we hand over PNG/JSON bytes ourselves
        mtime=TAR_MTIME,
        user=TAR_OWNER,
        group=TAR_OWNER,
        mode=TAR_FILE_MODE,
    )


def _sample(dataset: str, split: str, modality: str, pair: LoadedPair) -> dict[str, Any]:
    image: DecodedImage = getattr(pair, modality)
    source: Path = getattr(pair.files, modality)
    key = sample_key(pair.files.name)
    meta = {
        "dataset": dataset,
        "split": split,
        "modality": modality,
        "key": key,
        "name": source.name,
        "height": image.height,
        "width": image.width,
        "channels": image.channels,
        "source_mode": image.source_mode,
        "conversion": image.conversion,
    }
    return {"__key__": key, "png": encode_png(image.pixels), "json": json.dumps(meta, sort_keys=True).encode("utf-8")}


def _check_unique_keys(plan: SplitPlan) -> None:
    seen: dict[str, str] = {}
    for pairs in plan.pairs.values():
        for pair in pairs:
            key = sample_key(pair.name)
            if key in seen:
                raise ValueError(
                    f"{pair.ir}: pair names {seen[key]!r} and {pair.name!r} both become key {key!r}; rename one of them"
                )
            seen[key] = pair.name


def _summary(dataset: str, plan: SplitPlan, root: Path, counts: dict[str, int], problems: list[Problem]) -> dict[str, Any]:
    splits = {}
    for split in SPLITS:
        tars = {
            modality: [
                {"path": tar.relative_to(root).as_posix(), "sha256": sha256_file(tar)}
                for tar in sorted((root / split).glob(f"{modality}-*.tar"))
            ]
            for modality in MODALITIES
        }
        splits[split] = {"count": counts[split], "tars": tars}
    summary = {
        "format": SHARD_SET_FORMAT,
        "dataset": dataset,
        "split_rule": plan.rule,
        "splits": splits,
        "skipped": [{"path": str(p.path), "reason": p.reason} for p in problems],
    }
    summary[SUMMARY_HASH_KEY] = json_sha256(summary, SUMMARY_HASH_KEY)
    return summary
