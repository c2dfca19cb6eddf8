"""Invariants of the pairing policies (ivif.pairing.policies)."""

from __future__ import annotations

import numpy as np
import pytest

from ivif.pairing.permutation import SeededPermutation
from ivif.pairing.policies import (
    EpochPairs,
    PairingError,
    Policy,
    count_combinations,
    iter_pair_chunks,
    make_pairs,
    parse_policy,
    select_subset,
)


def as_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, pairs.tolist()))


def test_policy_names_and_paper_aliases():
    assert parse_policy("SPTP") is Policy.STRICT
    assert parse_policy("uptp") is Policy.UNPAIRED
    assert parse_policy("arbitrary") is Policy.ARBITRARY
    with pytest.raises(PairingError, match="unknown pairing policy 'loose'"):
        parse_policy("loose")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000, 4097])
def test_seeded_permutation_is_a_bijection(size):
    values = SeededPermutation(size, key=123)(np.arange(size))
    assert np.array_equal(np.sort(values), np.arange(size))


def test_strict_pairs_are_the_diagonal():
    pairs = make_pairs(25, 25, "strict", seed=3)
    assert len(pairs) == 25
    assert np.array_equal(pairs[:, 0], pairs[:, 1])
    assert as_set(pairs) == {(i, i) for i in range(25)}
    assert not np.array_equal(pairs[:, 0], np.arange(25)), "exhaustive epochs are shuffled"


@pytest.mark.parametrize("n_ir,n_vis", [(2, 2), (10, 10), (7, 4), (4, 7), (3, 1), (1, 3)])
def test_unpaired_is_every_off_diagonal_pair_once(n_ir, n_vis):
    pairs = make_pairs(n_ir, n_vis, "unpaired", seed=1)
    expected = {(i, j) for i in range(n_ir) for j in range(n_vis) if i != j}
    assert len(pairs) == len(expected) == count_combinations(n_ir, n_vis, "unpaired")
    assert as_set(pairs) == expected
    assert not np.any(pairs[:, 0] == pairs[:, 1])


def test_exhaustive_arbitrary_covers_all_n_squared_exactly_once():
    n = 50
    pairs = make_pairs(n, n, "arbitrary", seed=5)
    assert pairs.shape == (n * n, 2)
    flat = pairs[:, 0] * n + pairs[:, 1]
    assert np.array_equal(np.sort(flat), np.arange(n * n))


def test_rectangular_arbitrary_for_cross_dataset_pairing():
    pairs = make_pairs(6, 13, "arbitrary")
    assert as_set(pairs) == {(i, j) for i in range(6) for j in range(13)}
    assert pairs[:, 0].max() == 5 and pairs[:, 1].max() == 12


def test_sampled_pairs_are_distinct_valid_and_seeded():
    pairs = make_pairs(150, 150, "unpaired", samples=5000, seed=7)
    assert pairs.shape == (5000, 2)
    assert len(as_set(pairs)) == 5000, "sampled without replacement"
    assert not np.any(pairs[:, 0] == pairs[:, 1])
    assert pairs.min() >= 0 and pairs.max() < 150
    assert np.array_equal(pairs, make_pairs(150, 150, "unpaired", samples=5000, seed=7))
    assert not np.array_equal(pairs, make_pairs(150, 150, "unpaired", samples=5000, seed=8))


def test_sampling_every_combination_is_a_shuffle_of_all():
    pairs = make_pairs(5, 5, "arbitrary", samples=25, seed=2)
    assert as_set(pairs) == {(i, j) for i in range(5) for j in range(5)}


@pytest.mark.parametrize("policy,samples", [("strict", None), ("unpaired", None), ("arbitrary", 100)])
def test_epochs_reshuffle_reproducibly(policy, samples):
    epoch0 = make_pairs(30, 30, policy, samples=samples, seed=11, epoch=0)
    epoch1 = make_pairs(30, 30, policy, samples=samples, seed=11, epoch=1)
    assert not np.array_equal(epoch0, epoch1)
    assert np.array_equal(epoch1, make_pairs(30, 30, policy, samples=samples, seed=11, epoch=1))
    if samples is None:  # the same set, another order
        assert as_set(epoch0) == as_set(epoch1)


def test_sampled_epochs_draw_different_samples():
    first = as_set(make_pairs(100, 100, "arbitrary", samples=500, seed=0, epoch=0))
    second = as_set(make_pairs(100, 100, "arbitrary", samples=500, seed=0, epoch=1))
    assert first != second


def test_chunks_take_and_at_agree_with_the_whole_epoch():
    whole = make_pairs(40, 40, "arbitrary", seed=4, epoch=2)
    chunks = list(iter_pair_chunks(40, 40, "arbitrary", seed=4, epoch=2, chunk_size=333))
    assert [len(c) for c in chunks[:-1]] == [333] * (len(chunks) - 1)
    assert np.array_equal(np.concatenate(chunks), whole)
    epoch = EpochPairs(40, 40, "arbitrary", seed=4, epoch=2)
    assert np.array_equal(epoch.take(100, 200), whole[100:200])
    assert np.array_equal(epoch.at(np.array([1599, 0, 7])), whole[[1599, 0, 7]])
    with pytest.raises(IndexError):
        epoch.at(np.array([1600]))


def test_unshuffled_exhaustive_is_row_major():
    pairs = EpochPairs(3, 4, "arbitrary", shuffle=False).take(0, 12)
    assert pairs.tolist() == [[i, j] for i in range(3) for j in range(4)]


def test_subsets_are_seeded_nested_and_sorted():
    small, large = select_subset(150, 5, seed=9), select_subset(150, 25, seed=9)
    assert len(small) == 5 and len(set(small.tolist())) == 5
    assert set(small.tolist()) <= set(large.tolist())
    assert np.array_equal(small, np.sort(small))
    assert not np.array_equal(small, select_subset(150, 5, seed=10))
    assert np.array_equal(select_subset(7, None), np.arange(7))


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: make_pairs(10, 10, "arbitrary", samples=101), "cannot draw 101 distinct arbitrary pairs: only 100"),
        (lambda: make_pairs(4, 4, "strict", samples=5), "only 4 exist"),
        (lambda: make_pairs(1, 1, "unpaired"), "single image"),
        (lambda: make_pairs(0, 5, "arbitrary"), "empty subset"),
        (lambda: make_pairs(5, 6, "strict"), "needs n_ir == n_vis"),
        (lambda: make_pairs(5, 5, "arbitrary", samples=0), "samples must be >= 1"),
        (lambda: select_subset(10, 11), r"subset size must be in \[1, 10\]"),
        (lambda: select_subset(0, 1), "empty image set"),
    ],
)
def test_impossible_requests_are_clear_errors(call, message):
    with pytest.raises(PairingError, match=message):
        call()
