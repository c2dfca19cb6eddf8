"""The study file: every error names the file and the key."""

from __future__ import annotations

import pytest
from studykit import study_dict, write_study

from ivif.study.spec import StudyError, load_study


def _error(tmp_path, sample_dir, **overrides) -> str:
    path = write_study(tmp_path / "s.yaml", study_dict(tmp_path, sample_dir, **overrides))
    with pytest.raises(StudyError) as info:
        load_study(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_valid_study_loads(tmp_path, sample_dir):
    study = load_study(write_study(tmp_path / "s.yaml", study_dict(tmp_path, sample_dir)))
    assert study.name == "t" and study.train_dataset == "sample"
    assert study.budgets["equal"].steps == 6 and study.blocks[0].n == (2, 4)


def test_unknown_top_key(tmp_path, sample_dir):
    assert "blokcs" in _error(tmp_path, sample_dir, blokcs=[])


def test_bad_paradigm_names_block(tmp_path, sample_dir):
    blocks = [{"name": "a", "paradigms": ["aptpp"], "budget": "equal"}]
    message = _error(tmp_path, sample_dir, blocks=blocks)
    assert "blocks[0]" in message and "aptpp" in message


def test_unknown_budget(tmp_path, sample_dir):
    message = _error(tmp_path, sample_dir, blocks=[{"name": "a", "budget": "nope"}])
    assert "blocks[0].budget" in message and "equal" in message


def test_budget_needs_exactly_one_kind(tmp_path, sample_dir):
    message = _error(tmp_path, sample_dir, budgets={"b": {"steps": 5, "paper": {"epochs": 1}}})
    assert "budgets.b" in message and "exactly one" in message


def test_paper_budget_unknown_key(tmp_path, sample_dir):
    assert "budgets.b.paper.epoch" in _error(tmp_path, sample_dir, budgets={"b": {"paper": {"epoch": 1}}})


def test_train_may_not_set_cell_keys(tmp_path, sample_dir):
    message = _error(tmp_path, sample_dir, train={"paradigm": "aptp"})
    assert "train" in message and "paradigm" in message


def test_train_values_validated(tmp_path, sample_dir):
    assert "patch_size" in _error(tmp_path, sample_dir, train={"patch_size": 30})


def test_dataset_needs_from(tmp_path, sample_dir):
    data = {"datasets": {"x": {"test_fraction": 0.5}}}
    assert "data.datasets.x.from" in _error(tmp_path, sample_dir, data=data, train_dataset="x")


def test_unknown_test_set(tmp_path, sample_dir):
    assert "test_sets[1]" in _error(tmp_path, sample_dir, test_sets=["sample", "tno"])


def test_constraint_needs_groups(tmp_path, sample_dir):
    blocks = [{"name": "a", "constraint": ["across"], "budget": "equal"}]
    assert "blocks[0].constraint" in _error(tmp_path, sample_dir, blocks=blocks)


def test_n_must_be_positive_or_all(tmp_path, sample_dir):
    assert "blocks[0]" in _error(tmp_path, sample_dir, blocks=[{"name": "a", "n": [0], "budget": "equal"}])


def test_missing_file(tmp_path):
    with pytest.raises(StudyError, match="not found"):
        load_study(tmp_path / "none.yaml")


def test_presets_load(project_root):
    for name in ("smoke", "paradigms-cpu", "paper-gpu"):
        study = load_study(project_root / "studies" / f"{name}.yaml", project_root)
        assert study.name == name
