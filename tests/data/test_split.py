"""The seeded split: deterministic, order-independent, both sides non-empty."""

from __future__ import annotations

import pytest

from ivif.data.split import SplitRule, seeded_split

NAMES = [f"{i:05d}" for i in range(40)]


def test_fraction_and_determinism():
    rule = SplitRule(test_fraction=0.25, seed=3)
    split = seeded_split(NAMES, rule)
    assert sum(v == "test" for v in split.values()) == 10
    assert split == seeded_split(list(reversed(NAMES)), rule)  # order of discovery does not matter


def test_seed_changes_the_split_but_not_its_size():
    a = seeded_split(NAMES, SplitRule(seed=0))
    b = seeded_split(NAMES, SplitRule(seed=1))
    assert a != b
    assert sorted(a.values()) == sorted(b.values())


@pytest.mark.parametrize(("n", "fraction", "n_test"), [(2, 0.1, 1), (2, 0.9, 1), (3, 0.25, 1), (1, 0.5, 0)])
def test_small_sets_keep_both_sides(n, fraction, n_test):
    split = seeded_split(NAMES[:n], SplitRule(test_fraction=fraction))
    assert sum(v == "test" for v in split.values()) == n_test


def test_fraction_one_scores_a_dataset_whole():
    split = seeded_split(NAMES, SplitRule(test_fraction=1.0))
    assert set(split.values()) == {"test"} and len(split) == len(NAMES)


@pytest.mark.parametrize("fraction", [0.0, 1.01, -0.1])
def test_invalid_fraction(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        SplitRule(test_fraction=fraction)


def test_rule_is_recorded():
    assert SplitRule(test_fraction=0.2, seed=7).describe() == {"kind": "seeded", "test_fraction": 0.2, "seed": 7}
