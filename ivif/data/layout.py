"""Folder layouts: where the pipeline keeps each dataset, and a fetched dataset's pairs.

The pipeline's layout is spelled here and nowhere else (:func:`dataset_dir`,
:func:`split_dir`, :func:`cache_dir`; :class:`ivif.data.config.DataConfig` applies them
to its roots)::

    <raw_root>/<dataset>/                  fetched or imported files
    <shard_root>/<dataset>/<split>/        WebDataset tars
    <cache_root>/<dataset>/<split>/        decoded caches

Inside a fetched dataset, :func:`plan_splits` uses the registry's folder layout: official
splits as published (MSRS ``train``/``test``), otherwise one pooled folder pair split by
the seeded rule (:mod:`ivif.data.split`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivif.data.ingest import PairFiles, Problem, match_pairs
from ivif.data.registry import POOLED, SPLITS, DatasetSpec, PairFolders
from ivif.data.split import OFFICIAL_RULE, SplitRule, seeded_split


def dataset_dir(root: str | Path, dataset: str) -> Path:
    """A dataset's folder under a raw, shard or cache root: ``<root>/<dataset>``."""
    return Path(root) / dataset


def split_dir(dataset_folder: str | Path, split: str) -> Path:
    """One split of a dataset's shard or cache folder: ``<dataset_folder>/<split>``."""
    return Path(dataset_folder) / split


def cache_dir(cache_root: str | Path, dataset: str, split: str) -> Path:
    """The decoded cache of one (dataset, split): ``<cache_root>/<dataset>/<split>``."""
    return split_dir(dataset_dir(cache_root, dataset), split)


@dataclass(frozen=True)
class SplitPlan:
    """The pairs of every split of one dataset, before their pixels are read.

    Attributes:
        pairs: split name -> pairs sorted by name (every name in :data:`SPLITS`).
        problems: naming problems found while matching (missing counterparts...).
        rule: how the split was made, as recorded in the shard metadata.
    """

    pairs: dict[str, list[PairFiles]]
    problems: list[Problem]
    rule: dict


def plan_splits(spec: DatasetSpec, root: str | Path, rule: SplitRule) -> SplitPlan:
    """Match pairs under ``root`` (a fetched dataset) and assign them to splits."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found; run `ivif data fetch {spec.name}` first")
    problems: list[Problem] = []
    if spec.has_official_split:
        pairs = {}
        for split in SPLITS:
            found, naming = _match(spec, root, spec.splits[split]) if split in spec.splits else ([], [])
            pairs[split] = found
            problems.extend(naming)
        return SplitPlan(pairs, problems, dict(OFFICIAL_RULE))
    pooled, problems = _match(spec, root, spec.splits[POOLED])
    assignment = seeded_split((p.name for p in pooled), rule)
    pairs = {split: [p for p in pooled if assignment[p.name] == split] for split in SPLITS}
    return SplitPlan(pairs, problems, rule.describe())


def _match(spec: DatasetSpec, root: Path, folders: PairFolders) -> tuple[list[PairFiles], list[Problem]]:
    return match_pairs(_first_existing(spec, root, folders.ir), _first_existing(spec, root, folders.vi))


def _first_existing(spec: DatasetSpec, root: Path, candidates: tuple[str, ...]) -> Path:
    for relative in candidates:
        if (root / relative).is_dir():
            return root / relative
    expected = " or ".join(f"{root}/{c}/" for c in candidates)
    raise FileNotFoundError(
        f"{expected} not found: {spec.name} expects its images there ({spec.notes or spec.title}); "
        "re-fetch it or import a folder with that layout via `ivif data fetch --from`"
    )
