"""The study file (``studies/<name>.yaml``) as frozen, validated dataclasses.

Example (see ``studies/smoke.yaml`` for a complete, runnable one)::

    name: smoke
    work_dir: runs/studies/smoke          # cells, manifests, MLflow store (relative to the project)
    report_dir: reports/smoke
    data:
      root: runs/studies/data             # caches: <root>/cache/<dataset>/<split>
      datasets:
        sample: {from: data/sample, test_fraction: 0.25}
        tno:    {from: ../shared/data/tno42, test_only: true}
    train_dataset: sample
    test_sets: [sample, tno]              # the test split of each
    train: {batch_size: 4, patch_size: 32}   # TrainConfig fields shared by every cell
    evaluate: {max_images: 4}                # EvaluateConfig fields
    budgets:
      equal: {steps: 20}
      paper: {paper: {epochs: 1, aptp_samples_per_base: 100}}
      long:  {steps: 20, sptp_factor: 4}
    groups: {by: brightness}              # optional: scene groups of the train split
    blocks:
      - {name: scale, models: [cnn], paradigms: [sptp, aptp], n: [2, all], seeds: [0], budget: equal}
      - {name: cross, vis: tno, paradigms: [aptp], n: [4], budget: equal}
      - {name: scenes, constraint: [across, within], paradigms: [aptp], n: [2], budget: equal}
    references:
      - {name: upstream-cnn, model: "upstream:cnn:../shared/weights/upstream/cnn.model"}

Every error names the key (``blocks[1].paradigms``) and what to write instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ivif.evaluation.config import EvaluateConfig
from ivif.pairing.policies import PARADIGMS
from ivif.params import ParamsError, from_mapping
from ivif.training.config import TrainConfig

ALL = "all"  # n: all = every train image
CONSTRAINTS = ("none", "across", "within")
GROUP_METHODS = ("dataset", "label_file", "brightness", "kmeans")
MODELS = ("cnn", "transformer", "gan")
# Keys of ``train:`` a study decides per cell; setting them there would be silently overridden.
CELL_TRAIN_KEYS = ("model", "manifest", "paradigm", "seed", "epochs", "max_steps", "eval_images", "eval_every")


class StudyError(ValueError):
    """The study file is invalid; the message names the file, the key and the fix."""


@dataclasses.dataclass(frozen=True)
class DatasetSource:
    """Where one dataset of the study comes from and how it is split.

    ``from`` is a folder with ``ir/`` and ``vi/`` (the embedded sample, ../shared/data/*,
    or anything ``ivif data fetch`` placed under data/raw). ``test_only`` puts every
    pair in the test split (an out-of-distribution test set).
    """

    source: str
    test_fraction: float = 0.25
    seed: int = 0
    test_only: bool = False
    test_from: str | None = None
    """An official test split: a second folder (then ``from`` is all train)."""
    ir: str = "ir"
    """Name of the infrared folder inside ``from`` (e.g. ``Ir`` for M3FD)."""
    vi: str = "vi"
    """Name of the visible folder inside ``from`` (e.g. ``Vis`` for M3FD)."""

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("from: name a folder holding ir/ and vi/")
        if self.test_only and self.test_from:
            raise ValueError("test_only and test_from exclude each other")
        if not self.test_only and not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")


@dataclasses.dataclass(frozen=True)
class Budget:
    """How long a cell trains.

    - ``steps: S`` — every paradigm gets S optimizer steps at the same batch size (the control);
      ``sptp_factor: k`` gives SPTP cells k×S steps (longer SPTP).
    - ``paper: {epochs: E, aptp_samples_per_base: 100}`` — the paper's protocol: an SPTP epoch
      is the N pairs, a UPTP/APTP epoch 100·N sampled pairs.
    """

    steps: int | None = None
    sptp_factor: int = 1
    paper_epochs: int | None = None
    aptp_samples_per_base: int = 100

    def __post_init__(self) -> None:
        if (self.steps is None) == (self.paper_epochs is None):
            raise ValueError("give exactly one of steps: S or paper: {epochs: E, aptp_samples_per_base: K}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.sptp_factor < 1:
            raise ValueError(f"sptp_factor must be >= 1, got {self.sptp_factor}")
        if self.paper_epochs is not None and self.paper_epochs < 1:
            raise ValueError(f"paper.epochs must be >= 1, got {self.paper_epochs}")
        if self.aptp_samples_per_base < 1:
            raise ValueError(f"paper.aptp_samples_per_base must be >= 1, got {self.aptp_samples_per_base}")

    @property
    def kind(self) -> str:
        return "steps" if self.steps is not None else "paper"


@dataclasses.dataclass(frozen=True)
class Groups:
    """Scene groups of the train split (for ``constraint: across|within`` cells).

    ``by``: ``dataset`` (each dataset of ``datasets`` is a group), ``label_file`` (CSV
    ``name,group``), ``brightness`` (day/night: visible mean luma above/below ``threshold``,
    or the median when null) or ``kmeans`` (``k`` clusters of simple image descriptors).
    """

    by: str
    k: int = 2
    threshold: float | None = None
    file: str | None = None
    datasets: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.by not in GROUP_METHODS:
            raise ValueError(f"by must be one of {GROUP_METHODS}, got {self.by!r}")
        if self.by == "label_file" and not self.file:
            raise ValueError("by: label_file needs file: PATH (a CSV with columns name,group)")
        if self.by == "dataset" and len(self.datasets) < 2:
            raise ValueError("by: dataset needs datasets: [A, B, ...] (two or more of data.datasets)")
        if self.k < 2:
            raise ValueError(f"k must be >= 2, got {self.k}")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold is a mean luma in [0, 1], got {self.threshold}")


@dataclasses.dataclass(frozen=True)
class Block:
    """One grid of cells: the cartesian product of its lists."""

    name: str
    budget: str
    models: tuple[str, ...] = ("cnn",)
    paradigms: tuple[str, ...] = PARADIGMS
    n: tuple[int | str, ...] = (ALL,)
    seeds: tuple[int, ...] = (0,)
    ir: str | None = None
    vis: str | None = None
    constraint: tuple[str, ...] = ("none",)
    train: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("models", "paradigms", "n", "seeds", "constraint"):
            value = getattr(self, key)
            if isinstance(value, (str, int)):
                value = (value,)
            if not value:
                raise ValueError(f"{key} must list at least one value")
            object.__setattr__(self, key, tuple(value))
        for model in self.models:
            if model not in MODELS:
                raise ValueError(f"models: unknown model {model!r}; use {list(MODELS)}")
        for paradigm in self.paradigms:
            if paradigm not in PARADIGMS:
                raise ValueError(f"paradigms: unknown paradigm {paradigm!r}; use {list(PARADIGMS)}")
        for n in self.n:
            if n != ALL and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
                raise ValueError(f"n: each entry is an integer >= 1 or {ALL!r}, got {n!r}")
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise ValueError(f"seeds: each seed is an integer >= 0, got {seed!r}")
        for constraint in self.constraint:
            if constraint not in CONSTRAINTS:
                raise ValueError(f"constraint: use {list(CONSTRAINTS)}, got {constraint!r}")
        clash = sorted(set(self.train) & set(CELL_TRAIN_KEYS))
        if clash:
            raise ValueError(f"train: {clash} are set by the block's own keys (models, paradigms, seeds, budget)")
        object.__setattr__(self, "train", dict(self.train))


@dataclasses.dataclass(frozen=True)
class Reference:
    """A released model scored on the same test sets (``upstream:cnn:PATH`` or any ivif model spec)."""

    name: str
    model: str


@dataclasses.dataclass(frozen=True)
class Tracking:
    """MLflow: one parent run per study, one child run per cell (never registered)."""

    store: str | None = None  # None: $MLFLOW_TRACKING_URI, else sqlite:///<work_dir>/mlflow.db
    experiment: str = "ivif-study"
    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class Study:
    """A whole study file, validated. Paths are relative to ``root`` (the project)."""

    name: str
    path: Path
    root: Path
    work_dir: Path
    report_dir: Path
    data_root: Path
    datasets: Mapping[str, DatasetSource]
    train_dataset: str
    test_sets: tuple[str, ...]
    train: Mapping[str, Any]
    evaluate: Mapping[str, Any]
    budgets: Mapping[str, Budget]
    blocks: tuple[Block, ...]
    references: tuple[Reference, ...] = ()
    groups: Groups | None = None
    tracking: Tracking = Tracking()
    gallery_images: int = 3
    thumbnail_height: int = 128

    @property
    def cells_dir(self) -> Path:
        return self.work_dir / "cells"

    @property
    def cache_root(self) -> Path:
        return self.data_root / "cache"

    def evaluate_config(self) -> EvaluateConfig:
        return from_mapping(EvaluateConfig, self.evaluate, where="evaluate")


_TOP_KEYS = {
    "name", "work_dir", "report_dir", "data", "train_dataset", "test_sets", "train", "evaluate",
    "budgets", "blocks", "references", "groups", "tracking", "gallery_images", "thumbnail_height",
}  # fmt: skip
_REQUIRED = ("name", "data", "train_dataset", "budgets", "blocks")


def load_study(path: str | Path, root: str | Path | None = None) -> Study:
    """Read and validate ``studies/<name>.yaml``; ``root`` (default: the current directory)
    anchors its relative paths."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"{path}: study file not found; presets are in studies/ (e.g. studies/smoke.yaml)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise StudyError(f"{path}: not valid YAML: {exc}") from exc
    return parse_study(raw, path, Path(root) if root is not None else Path.cwd())


def parse_study(raw: Any, path: Path, root: Path) -> Study:
    """Validate the mapping of a study file (see :func:`load_study`)."""

    def fail(key: str, message: str) -> StudyError:
        return StudyError(f"{path}: {key}: {message}")

    if not isinstance(raw, Mapping):
        raise StudyError(f"{path}: expected a mapping of keys at the top level")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key(s) {unknown}; valid keys are {sorted(_TOP_KEYS)}")
    for key in _REQUIRED:
        if key not in raw:
            raise fail(key, "missing; see studies/smoke.yaml for a complete study")
    name = str(raw["name"])
    if not name.replace("-", "").replace("_", "").isalnum():
        raise fail("name", f"{name!r} names a folder: use letters, digits, '-' or '_'")
    data = _mapping(raw["data"], "data", fail)
    datasets_raw = _mapping(data.get("datasets"), "data.datasets", fail)
    if not datasets_raw:
        raise fail("data.datasets", "name at least one dataset: {NAME: {from: FOLDER}}")
    datasets: dict[str, DatasetSource] = {}
    for ds_name, entry in datasets_raw.items():
        entry = dict(_mapping(entry, f"data.datasets.{ds_name}", fail))
        if "from" not in entry:
            raise fail(f"data.datasets.{ds_name}.from", "missing: a folder with ir/ and vi/")
        entry["source"] = str(entry.pop("from"))
        datasets[str(ds_name)] = _build(DatasetSource, entry, f"data.datasets.{ds_name}", fail)
    unknown_data = sorted(set(data) - {"root", "datasets"})
    if unknown_data:
        raise fail(f"data.{unknown_data[0]}", "unknown key; valid keys are ['datasets', 'root']")

    train_dataset = str(raw["train_dataset"])
    if train_dataset not in datasets:
        raise fail("train_dataset", f"{train_dataset!r} is not in data.datasets {sorted(datasets)}")
    if datasets[train_dataset].test_only:
        raise fail("train_dataset", f"{train_dataset!r} is test_only; it has no train split")
    test_sets = tuple(str(t) for t in (raw.get("test_sets") or [train_dataset]))
    for i, test in enumerate(test_sets):
        if test not in datasets:
            raise fail(f"test_sets[{i}]", f"{test!r} is not in data.datasets {sorted(datasets)}")

    train = dict(_mapping(raw.get("train") or {}, "train", fail))
    clash = sorted(set(train) & set(CELL_TRAIN_KEYS))
    if clash:
        raise fail("train", f"{clash} are decided per cell (blocks: models/paradigms/seeds, budgets); remove them")
    try:
        TrainConfig(**{k: v for k, v in train.items() if k not in ("loss", "gan")})
    except (TypeError, ValueError) as exc:
        raise fail("train", str(exc)) from exc
    evaluate = dict(_mapping(raw.get("evaluate") or {}, "evaluate", fail))
    try:
        from_mapping(EvaluateConfig, evaluate, where="evaluate")
    except ParamsError as exc:
        raise fail("evaluate", str(exc)) from exc

    budgets: dict[str, Budget] = {}
    for b_name, entry in _mapping(raw["budgets"], "budgets", fail).items():
        entry = dict(_mapping(entry, f"budgets.{b_name}", fail))
        paper = entry.pop("paper", None)
        if paper is not None:
            paper = dict(_mapping(paper, f"budgets.{b_name}.paper", fail))
            extra = sorted(set(paper) - {"epochs", "aptp_samples_per_base"})
            if extra:
                raise fail(f"budgets.{b_name}.paper.{extra[0]}", "unknown key; valid keys are ['aptp_samples_per_base', 'epochs']")
            if "epochs" not in paper:
                raise fail(f"budgets.{b_name}.paper.epochs", "missing: the epochs of the paper's protocol")
            entry["paper_epochs"] = paper["epochs"]
            entry["aptp_samples_per_base"] = paper.get("aptp_samples_per_base", 100)
        budgets[str(b_name)] = _build(Budget, entry, f"budgets.{b_name}", fail)

    groups = None
    if raw.get("groups") is not None:
        groups = _build(Groups, dict(_mapping(raw["groups"], "groups", fail)), "groups", fail)
        for ds in groups.datasets:
            if ds not in datasets:
                raise fail("groups.datasets", f"{ds!r} is not in data.datasets {sorted(datasets)}")

    blocks_raw = raw["blocks"]
    if not isinstance(blocks_raw, list) or not blocks_raw:
        raise fail("blocks", "must be a non-empty list of blocks")
    blocks = []
    for i, entry in enumerate(blocks_raw):
        where = f"blocks[{i}]"
        entry = dict(_mapping(entry, where, fail))
        if "name" not in entry:
            raise fail(f"{where}.name", "missing: name the block (it labels its cells)")
        if "budget" not in entry:
            raise fail(f"{where}.budget", f"missing: one of budgets {sorted(budgets)}")
        block = _build(Block, entry, where, fail)
        if block.budget not in budgets:
            raise fail(f"{where}.budget", f"{block.budget!r} is not in budgets {sorted(budgets)}")
        for side in ("ir", "vis"):
            value = getattr(block, side)
            if value is not None and value not in datasets:
                raise fail(f"{where}.{side}", f"{value!r} is not in data.datasets {sorted(datasets)}")
            if value is not None and datasets[value].test_only:
                raise fail(f"{where}.{side}", f"{value!r} is test_only; a train side needs a train split")
        if any(c != "none" for c in block.constraint) and groups is None:
            raise fail(f"{where}.constraint", "across/within pairing needs a top-level groups: {by: ...}")
        blocks.append(block)
    names = [b.name for b in blocks]
    if len(set(names)) != len(names):
        raise fail("blocks", f"block names must be unique, got {names}")

    references = tuple(
        _build(Reference, dict(_mapping(e, f"references[{i}]", fail)), f"references[{i}]", fail)
        for i, e in enumerate(raw.get("references") or [])
    )
    tracking = _build(Tracking, dict(_mapping(raw.get("tracking") or {}, "tracking", fail)), "tracking", fail)
    work_dir = root / str(raw.get("work_dir") or f"runs/studies/{name}")
    return Study(
        name=name,
        path=path,
        root=root,
        work_dir=work_dir,
        report_dir=root / str(raw.get("report_dir") or f"reports/{name}"),
        data_root=root / str(data.get("root") or "runs/studies/data"),
        datasets=datasets,
        train_dataset=train_dataset,
        test_sets=test_sets,
        train=train,
        evaluate=evaluate,
        budgets=budgets,
        blocks=tuple(blocks),
        references=references,
        groups=groups,
        tracking=tracking,
        gallery_images=int(raw.get("gallery_images", 3)),
        thumbnail_height=int(raw.get("thumbnail_height", 128)),
    )


def _mapping(value: Any, key: str, fail) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail(key, f"must be a mapping, got {type(value).__name__}")
    return value


def _build(cls, values: Mapping[str, Any], key: str, fail):
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise fail(f"{key}.{unknown[0]}", f"unknown key; valid keys are {sorted(fields)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise fail(key, str(exc)) from exc
