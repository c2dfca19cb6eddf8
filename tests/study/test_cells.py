"""Expansion into cells and identity hashing."""

from __future__ import annotations

import dataclasses

from studykit import study_dict, write_study

from ivif.study.cells import expand, identity, run_order
from ivif.study.spec import load_study


def _cells(tmp_path, sample_dir, name="s.yaml", **overrides):
    return expand(load_study(write_study(tmp_path / name, study_dict(tmp_path, sample_dir, **overrides))))


def test_grid_expands_to_product(tmp_path, sample_dir):
    cells = _cells(tmp_path, sample_dir)
    assert len(cells) == 4
    assert sorted((c.config["paradigm"], c.config["n"]) for c in cells) == [("aptp", 2), ("aptp", 4), ("sptp", 2), ("sptp", 4)]
    assert all(c.config["train"]["max_steps"] == 6 and c.config["train"]["batch_size"] == 4 for c in cells)
    assert len({c.id for c in cells}) == 4 and all(len(c.id) == 64 for c in cells)


def test_same_config_same_id(tmp_path, sample_dir):
    first = {c.id for c in _cells(tmp_path, sample_dir, "a.yaml")}
    second = {c.id for c in _cells(tmp_path, sample_dir, "b.yaml")}
    assert first == second
    config = {"b": 1, "a": [1, 2]}
    assert identity(config) == identity({"a": [1, 2], "b": 1})


def test_any_change_gives_new_ids(tmp_path, sample_dir):
    base = {c.id for c in _cells(tmp_path, sample_dir)}
    changed = [
        {"budgets": {"equal": {"steps": 7}}},
        {"train": {**study_dict(tmp_path, sample_dir)["train"], "lr": 2.0e-3}},
        {"evaluate": {**study_dict(tmp_path, sample_dir)["evaluate"], "max_images": 3}},
    ]
    for i, overrides in enumerate(changed):
        ids = {c.id for c in _cells(tmp_path, sample_dir, f"c{i}.yaml", **overrides)}
        assert not ids & base, overrides


def test_identity_ignores_block_names_and_dedupes(tmp_path, sample_dir):
    blocks = [
        {"name": "scale", "paradigms": ["sptp", "aptp"], "n": [2], "budget": "equal"},
        {"name": "again", "paradigms": ["aptp"], "n": [2], "budget": "equal"},
    ]
    cells = _cells(tmp_path, sample_dir, blocks=blocks)
    assert len(cells) == 2
    aptp = next(c for c in cells if c.config["paradigm"] == "aptp")
    assert aptp.blocks == ("scale", "again")


def test_sptp_factor_and_paper_budget(tmp_path, sample_dir):
    budgets = {"equal": {"steps": 6}, "long": {"steps": 6, "sptp_factor": 3}, "paper": {"paper": {"epochs": 2}}}
    blocks = [{"name": n, "paradigms": ["sptp", "aptp"], "n": [2], "budget": n} for n in budgets]
    cells = _cells(tmp_path, sample_dir, budgets=budgets, blocks=blocks)
    steps = {(c.config["budget"]["name"], c.config["paradigm"]): c.config["train"]["max_steps"] for c in cells}
    assert steps == {
        ("equal", "sptp"): 6,
        ("equal", "aptp"): 6,
        ("long", "sptp"): 18,
        ("long", "aptp"): 6,
        ("paper", "sptp"): None,
        ("paper", "aptp"): None,
    }
    paper = next(c for c in cells if c.config["budget"]["name"] == "paper")
    assert paper.config["train"]["epochs"] == 2 and paper.config["budget"]["samples_per_base"] == 100


def test_cross_dataset_skips_sptp(tmp_path, sample_dir, shared):
    data = {
        "root": str(tmp_path / "data"),
        "datasets": {"sample": {"from": str(sample_dir)}, "msrs": {"from": str(shared / "data" / "msrs13")}},
    }
    blocks = [{"name": "cross", "vis": "msrs", "paradigms": ["sptp", "uptp", "aptp"], "n": [2], "budget": "equal"}]
    cells = _cells(tmp_path, sample_dir, data=data, blocks=blocks)
    assert sorted(c.config["paradigm"] for c in cells) == ["aptp", "uptp"]
    assert all(c.config["ir"]["dataset"] == "sample" and c.config["vis"]["dataset"] == "msrs" for c in cells)


def test_references_are_cells(tmp_path, sample_dir):
    refs = [{"name": "up", "model": "upstream:cnn:x.model"}]
    cells = _cells(tmp_path, sample_dir, references=refs)
    ref = [c for c in cells if c.kind == "reference"]
    assert len(ref) == 1 and ref[0].axes()["paradigm"] == "released"
    assert dataclasses.replace(ref[0]).id == identity(ref[0].config)


def test_run_order_references_first_then_seed_by_seed(tmp_path, sample_dir):
    blocks = [{"name": "scale", "models": ["cnn"], "paradigms": ["sptp", "aptp"], "n": [2, 4], "seeds": [0, 1], "budget": "equal"}]
    refs = [{"name": "upstream-cnn", "model": "upstream:cnn:weights.model"}]
    cells = _cells(tmp_path, sample_dir, blocks=blocks, references=refs)
    ordered = run_order(cells)
    assert sorted(c.id for c in ordered) == sorted(c.id for c in cells)  # a permutation
    assert ordered[0].kind == "reference" and cells[-1].kind == "reference"
    seeds = [c.config["seed"] for c in ordered[1:]]
    assert seeds == sorted(seeds) == [0, 0, 0, 0, 1, 1, 1, 1]
    # within a seed the study file's order is kept
    first_seed = [c for c in cells if c.kind == "train" and c.config["seed"] == 0]
    assert ordered[1:5] == first_seed
