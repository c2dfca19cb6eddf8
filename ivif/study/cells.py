"""Expanding a study into cells; a cell's identity is the sha256 of its resolved config.

A cell is one training run (model × paradigm × N × seed × budget × data × pairing
constraint) scored on every test set, or one reference model scored on them. Its
config holds everything that decides what it computes — the full train config, the
budget, the data origin (folders and split rules), the test sets and the evaluation
settings — and nothing that does not (block names, paths of the work dir). Two blocks
that ask for the same run share one cell; any change to what a cell computes gives it a
new identity, so its results are never confused with the old ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ivif.params import from_mapping
from ivif.study.spec import Block, Study
from ivif.training.config import TrainConfig

log = logging.getLogger(__name__)

SHORT_ID = 12  # hex digits of the identity used in folder names
TRAIN_KIND = "train"
REFERENCE_KIND = "reference"


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell: its identity, its resolved config and the blocks that asked for it."""

    id: str
    config: Mapping[str, Any]
    blocks: tuple[str, ...]

    @property
    def short_id(self) -> str:
        return self.id[:SHORT_ID]

    @property
    def kind(self) -> str:
        return self.config["kind"]

    @property
    def label(self) -> str:
        """A readable name: ``cnn/aptp n=8 s=0 equal`` (not unique; the id is)."""
        c = self.config
        if self.kind == REFERENCE_KIND:
            return f"reference {c['name']}"
        extra = ""
        if c["constraint"] != "none":
            extra = f" {c['constraint']}:{c['ir']['group']}x{c['vis']['group']}"
        elif c["ir"]["dataset"] != c["vis"]["dataset"]:
            extra = f" {c['ir']['dataset']}x{c['vis']['dataset']}"
        return f"{c['train']['model']}/{c['paradigm']} n={c['n']} s={c['seed']} {c['budget']['name']}{extra}"

    def axes(self) -> dict[str, str]:
        """The cell's position on the study's axes, as strings (MLflow tags, CSV columns)."""
        c = self.config
        if self.kind == REFERENCE_KIND:
            return {"kind": REFERENCE_KIND, "model": c["name"], "paradigm": "released", "n": "", "seed": "",
                    "budget": "", "ir": "", "vis": "", "constraint": "none", "ir_group": "", "vis_group": ""}  # fmt: skip
        return {
            "kind": TRAIN_KIND,
            "model": c["train"]["model"],
            "paradigm": c["paradigm"],
            "n": str(c["n"]),
            "seed": str(c["seed"]),
            "budget": c["budget"]["name"],
            "ir": c["ir"]["dataset"],
            "vis": c["vis"]["dataset"],
            "constraint": c["constraint"],
            "ir_group": c["ir"].get("group") or "",
            "vis_group": c["vis"].get("group") or "",
        }


def identity(config: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``config`` (sorted keys, no whitespace)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def group_names(study: Study) -> tuple[str, ...]:
    """The scene groups' names, known before any image is read."""
    from ivif.study.groups import declared_group_names

    return declared_group_names(study)


def expand(study: Study) -> list[Cell]:
    """Every cell of ``study`` (training cells, then references), de-duplicated by identity,
    in a stable order."""
    by_id: dict[str, Cell] = {}
    for block in study.blocks:
        for config in _block_configs(study, block):
            cell_id = identity(config)
            if cell_id in by_id:
                old = by_id[cell_id]
                by_id[cell_id] = dataclasses.replace(old, blocks=(*old.blocks, block.name))
            else:
                by_id[cell_id] = Cell(cell_id, config, (block.name,))
    for ref in study.references:
        config = {
            "kind": REFERENCE_KIND,
            "name": ref.name,
            "model_spec": ref.model,
            "test_sets": _test_sets(study),
            "evaluate": _evaluate(study),
        }
        cell_id = identity(config)
        by_id.setdefault(cell_id, Cell(cell_id, config, ("reference",)))
    return list(by_id.values())


def _dataset(study: Study, name: str, group: str | None = None) -> dict[str, Any]:
    source = study.datasets[name]
    entry = {"dataset": name, "from": source.source, "test_fraction": source.test_fraction, "seed": source.seed}
    if source.test_from or (source.ir, source.vi) != ("ir", "vi"):
        entry.update(test_from=source.test_from, ir_folder=source.ir, vi_folder=source.vi)
    if group is not None:
        entry["group"] = group
    return entry


def _test_sets(study: Study) -> list[dict[str, Any]]:
    return [{**_dataset(study, name), "test_only": study.datasets[name].test_only} for name in study.test_sets]


def _evaluate(study: Study) -> dict[str, Any]:
    return dataclasses.asdict(study.evaluate_config())


def _budget(study: Study, name: str, paradigm: str) -> dict[str, Any]:
    budget = study.budgets[name]
    if budget.kind == "steps":
        factor = budget.sptp_factor if paradigm == "sptp" else 1
        return {"name": name, "kind": "steps", "steps": budget.steps * factor}
    return {"name": name, "kind": "paper", "epochs": budget.paper_epochs, "samples_per_base": budget.aptp_samples_per_base}


def _groups_config(study: Study) -> dict[str, Any]:
    from ivif.study.groups import groups_identity

    return groups_identity(study)


def _block_configs(study: Study, block: Block):
    ir_dataset = block.ir or study.train_dataset
    vis_dataset = block.vis or ir_dataset
    for model, paradigm, n, seed, constraint in itertools.product(block.models, block.paradigms, block.n, block.seeds, block.constraint):
        group_pairs = [(None, None)]
        if constraint != "none":
            names = group_names(study)
            if constraint == "within":
                group_pairs = [(g, g) for g in names]
            else:
                group_pairs = [(a, b) for a in names for b in names if a != b]
        for ir_group, vis_group in group_pairs:
            if paradigm == "sptp" and (ir_dataset != vis_dataset or ir_group != vis_group):
                log.warning("block %s: SPTP needs registered pairs; skipping %s x %s", block.name,
                            ir_group or ir_dataset, vis_group or vis_dataset)  # fmt: skip
                continue
            budget = _budget(study, block.budget, paradigm)
            train = _train_dict(study, block, model, paradigm, seed, budget)
            config = {
                "kind": TRAIN_KIND,
                "paradigm": paradigm,
                "n": n,
                "seed": seed,
                "budget": budget,
                "train": train,
                "ir": _dataset(study, ir_dataset, ir_group),
                "vis": _dataset(study, vis_dataset, vis_group),
                "constraint": constraint,
                "test_sets": _test_sets(study),
                "evaluate": _evaluate(study),
            }
            if constraint != "none":
                config["groups"] = _groups_config(study)
            yield config


def _train_dict(study: Study, block: Block, model: str, paradigm: str, seed: int, budget: Mapping[str, Any]) -> dict[str, Any]:
    """The full TrainConfig of a cell as a plain dict (every field, defaults included)."""
    values = {
        **study.train,
        **block.train,
        "model": model,
        "manifest": paradigm,
        "seed": seed,
        "eval_images": 0,
        "eval_every": 0,
    }  # fmt: skip  (the study scores every test set itself)
    if budget["kind"] == "steps":
        values["max_steps"] = budget["steps"]
        values["epochs"] = budget["steps"]  # an upper bound: an epoch is at least one step
    else:
        values["max_steps"] = None
        values["epochs"] = budget["epochs"]
    config = from_mapping(TrainConfig, values, where=f"blocks.{block.name}.train")
    return json.loads(json.dumps(dataclasses.asdict(config)))  # tuples -> lists, as stored


def run_order(cells: list[Cell]) -> list[Cell]:
    """``cells`` in the order a study runs them: references first (minutes, and every
    comparison needs them), then seed by seed (all of seed 0 before any seed 1), keeping
    the study file's order within a seed. A study stopped partway thus holds one complete
    replicate of every comparison rather than every seed of the first block only."""
    position = {cell.id: index for index, cell in enumerate(cells)}

    def key(cell: Cell) -> tuple[int, int, int]:
        seed = cell.config.get("seed")
        return (cell.kind != REFERENCE_KIND, seed if isinstance(seed, int) else -1, position[cell.id])

    return sorted(cells, key=key)


def cell_dir(study: Study, cell: Cell) -> Path:
    return study.cells_dir / cell.short_id
