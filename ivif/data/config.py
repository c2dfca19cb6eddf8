"""Config of the data stages (``params.yaml`` sections ``data:`` and ``shard:``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivif.data import layout
from ivif.data.registry import DATASETS, SAMPLE, resolve_dataset
from ivif.data.split import SplitRule


@dataclass(frozen=True)
class DataConfig:
    """Where data lives and which datasets the pipeline runs on.

    Attributes:
        datasets: datasets the DVC stages run for (``dvc.yaml`` foreach): registry names
            or names of your own (imported from ``import_from``).
        sample_dir: the embedded sample shipped with the repo.
        raw_root: fetched/imported datasets, one folder per dataset.
        download_dir: downloaded archives (kept so a re-run resumes or skips).
        shard_root: WebDataset tars, one folder per dataset.
        cache_root: decoded caches, ``<cache_root>/<dataset>/<split>/``.
        import_from: dataset -> local archive or folder to import instead of
            downloading (required for M3FD, which is on cloud drives only).

    The folders of one dataset come from :meth:`raw_dir`, :meth:`shard_dir`,
    :meth:`cache_dataset_dir` and :meth:`cache_dir` (layout: :mod:`ivif.data.layout`).
    """

    datasets: tuple[str, ...] = (SAMPLE.name,)
    sample_dir: str = "data/sample"
    raw_root: str = "data/raw"
    download_dir: str = "data/downloads"
    shard_root: str = "data/shards"
    cache_root: str = "data/cache"
    import_from: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (*self.datasets, *self.import_from):
            resolve_dataset(name)  # a registered dataset or one of your own; raises for a bad name
        for name in self.datasets:
            if name not in DATASETS and name not in self.import_from:
                raise ValueError(
                    f"unknown dataset {name!r} (registered: {', '.join(DATASETS)}): to use your own data under that name, "
                    f"add data.import_from: {{{name}: DIR}} (DIR holding ir/ + vi/ with the same file stems)"
                )

    def raw_dir(self, dataset: str) -> Path:
        """Fetched files of ``dataset``: ``<raw_root>/<dataset>``."""
        return layout.dataset_dir(self.raw_root, dataset)

    def shard_dir(self, dataset: str) -> Path:
        """Shards of ``dataset`` (one folder per split inside): ``<shard_root>/<dataset>``."""
        return layout.dataset_dir(self.shard_root, dataset)

    def cache_dataset_dir(self, dataset: str) -> Path:
        """Caches of ``dataset`` (one folder per split inside): ``<cache_root>/<dataset>``."""
        return layout.dataset_dir(self.cache_root, dataset)

    def cache_dir(self, dataset: str, split: str) -> Path:
        """The decoded cache of one split: ``<cache_root>/<dataset>/<split>``."""
        return layout.cache_dir(self.cache_root, dataset, split)

    def local_source(self, dataset: str) -> Path | None:
        """The local archive/folder to import ``dataset`` from, if any."""
        if dataset in self.import_from:
            return Path(self.import_from[dataset])
        if dataset == SAMPLE.name:
            return Path(self.sample_dir)
        return None


@dataclass(frozen=True)
class ShardConfig:
    """How datasets become WebDataset shards.

    Attributes:
        test_fraction: held-out share for datasets without an official split, in (0, 1];
            1.0 puts every pair in ``test`` (score a dataset whole).
        seed: seed of that split.
        test_fractions: dataset -> its own test_fraction, overriding ``test_fraction``
            (e.g. ``{mytno: 1.0}`` scores that dataset whole while the others keep a
            train split).
        samples_per_tar: maximum samples per tar before a new one starts.
        skip_bad: leave out (and list) bad pairs instead of failing.
    """

    test_fraction: float = 0.25
    seed: int = 0
    samples_per_tar: int = 1000
    skip_bad: bool = False
    test_fractions: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.samples_per_tar < 1:
            raise ValueError(f"samples_per_tar must be >= 1, got {self.samples_per_tar}")
        self.split_rule()  # validates test_fraction
        for dataset in self.test_fractions:
            self.split_rule(dataset)

    def split_rule(self, dataset: str | None = None) -> SplitRule:
        """The seeded split rule of ``dataset`` (its ``test_fractions`` entry, else ``test_fraction``)."""
        return SplitRule(test_fraction=self.test_fractions.get(dataset, self.test_fraction), seed=self.seed)
