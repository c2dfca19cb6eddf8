"""Making sure every dataset of a study is cached: import (``ir/`` + ``vi/``) -> shard -> cache.

The study's data root holds ``shards/<dataset>/`` (WebDataset tars) and
``cache/<dataset>/<split>/`` (decoded caches), built with the same library functions as
the DVC data stages. A dataset whose cache exists and whose recorded origin (source
folder and split rule) matches is left alone, so preparing is cheap on a rerun.

The import goes through :func:`import_folder`, the one place that turns an ``ir/`` +
``vi/`` folder into a split plan (``ivif data fetch NAME --from DIR`` does the same for
registered names once it accepts any such folder).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ivif.data.cache_build import build_caches
from ivif.data.ingest import match_pairs
from ivif.data.layout import SplitPlan
from ivif.data.registry import SPLITS, TEST, TRAIN
from ivif.data.shard import write_shards
from ivif.data.split import SplitRule, seeded_split
from ivif.io.atomic import atomic_write_text
from ivif.study.spec import DatasetSource, Study

log = logging.getLogger(__name__)

ORIGIN_FILE = "study-origin.json"
SAMPLES_PER_TAR = 1000


def import_folder(source: DatasetSource, root: Path) -> SplitPlan:
    """The split plan of an ``ir/`` + ``vi/`` folder: a seeded train/test split, or all
    pairs in test (``test_only``)."""
    pairs, problems = _match(root / source.source, source)
    if source.test_from:
        test_pairs, test_problems = _match(root / source.test_from, source)
        plan = {TRAIN: pairs, TEST: test_pairs}
        problems += test_problems
        rule = {"kind": "official"}
    elif source.test_only:
        plan = {TRAIN: [], TEST: pairs}
        rule = {"kind": "test_only"}
    else:
        split_rule = SplitRule(test_fraction=source.test_fraction, seed=source.seed)
        assignment = seeded_split((p.name for p in pairs), split_rule)
        plan = {split: [p for p in pairs if assignment[p.name] == split] for split in SPLITS}
        rule = split_rule.describe()
    return SplitPlan(plan, problems, rule)


def _match(folder: Path, source: DatasetSource):
    if not (folder / source.ir).is_dir() or not (folder / source.vi).is_dir():
        raise FileNotFoundError(
            f"{folder}: expected {source.ir}/ and {source.vi}/ folders there; fetch the dataset (`ivif data fetch NAME`) "
            "or point data.datasets.<name>.from at a folder with that layout (folder names: ir:, vi:)"
        )
    return match_pairs(folder / source.ir, folder / source.vi)


def _origin(source: DatasetSource, root: Path) -> dict:
    return {"from": str((root / source.source).resolve()), "test_only": source.test_only,
            "test_fraction": source.test_fraction, "seed": source.seed, "ir": source.ir, "vi": source.vi,
            "test_from": str((root / source.test_from).resolve()) if source.test_from else None}  # fmt: skip


def prepare_dataset(name: str, source: DatasetSource, study: Study, progress: bool = False) -> Path:
    """Shard and cache one dataset into the study's data root; returns its cache folder."""
    cache = study.cache_root / name
    origin = _origin(source, study.root)
    origin_file = cache / ORIGIN_FILE
    if origin_file.is_file() and json.loads(origin_file.read_text()) == origin:
        return cache
    log.info("preparing dataset %s from %s", name, origin["from"])
    plan = import_folder(source, study.root)
    shards = study.data_root / "shards" / name
    write_shards(name, plan, shards, samples_per_tar=SAMPLES_PER_TAR, skip_bad=False, progress=progress)
    build_caches(shards, cache, progress=progress)
    atomic_write_text(origin_file, json.dumps(origin, indent=2, sort_keys=True) + "\n")
    return cache


def prepare_study_data(study: Study, progress: bool = False) -> dict[str, Path]:
    """Make sure every dataset of ``study`` is cached; returns dataset -> cache folder."""
    return {name: prepare_dataset(name, source, study, progress) for name, source in study.datasets.items()}
