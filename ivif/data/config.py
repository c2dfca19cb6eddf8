"""Config of the data stages (``params.yaml`` sections ``data:`` and ``shard:``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivif.data import layout
from ivif.data.registry import SAMPLE, get_dataset
from ivif.data.split import SplitRule


@dataclass(frozen=True)
class DataConfig:
    """Where data lives and which datasets the pipeline runs on.

    Attributes:
        datasets: registry names the DVC stages run for (``dvc.yaml`` foreach).
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
            get_dataset(name)  # raises with the list of known names

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
        test_fraction: held-out share for datasets without an official split.
        seed: seed of that split.
        samples_per_tar: maximum samples per tar before a new one starts.
        skip_bad: leave out (and list) bad pairs instead of failing.
    """

    test_fraction: float = 0.25
    seed: int = 0
    samples_per_tar: int = 1000
    skip_bad: bool = False

    def __post_init__(self) -> None:
        if self.samples_per_tar < 1:
            raise ValueError(f"samples_per_tar must be >= 1, got {self.samples_per_tar}")
        self.split_rule()  # validates test_fraction

    def split_rule(self) -> SplitRule:
        return SplitRule(test_fraction=self.test_fraction, seed=self.seed)
