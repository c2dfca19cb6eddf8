"""Deterministic, seeded train/test split for datasets without an official one.

The split depends only on the sorted pair names, the seed and the test fraction, never
on file order, validity of other pairs or the machine, so every stage that reads the
shards evaluates on pairs it never trained on, run after run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from ivif.data.registry import TEST, TRAIN

ALL_TEST = 1.0  # test_fraction that scores a dataset whole


@dataclass(frozen=True)
class SplitRule:
    """How a pooled dataset is split (``params.yaml`` ``shard:`` section).

    Attributes:
        test_fraction: share of pairs held out for testing, in (0, 1]; 1.0 puts every
            pair in ``test`` (a dataset scored whole, e.g. the 42 TNO pairs as a benchmark).
        seed: seed of the permutation that picks them.
    """

    test_fraction: float = 0.25
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.test_fraction <= ALL_TEST:
            raise ValueError(
                f"shard.test_fraction must be in (0, 1] (1.0: every pair in test, to score a dataset whole), "
                f"got {self.test_fraction}"
            )

    def describe(self) -> dict:
        """The rule as recorded in shard metadata."""
        return {"kind": "seeded", **asdict(self)}


OFFICIAL_RULE = {"kind": "official"}


def seeded_split(names: Iterable[str], rule: SplitRule) -> dict[str, str]:
    """Map each name to ``"train"`` or ``"test"``.

    ``round(n * test_fraction)`` names go to test, clamped so that both splits are
    non-empty whenever there are at least two names, except with ``test_fraction``
    1.0, which puts every name in test (and leaves train empty).
    """
    ordered = sorted(set(names))
    n = len(ordered)
    n_test = round(n * rule.test_fraction)
    if rule.test_fraction >= ALL_TEST:
        n_test = n
    elif n >= 2:
        n_test = min(max(n_test, 1), n - 1)
    order = np.random.default_rng(rule.seed).permutation(n)
    test = {ordered[i] for i in order[:n_test]}
    return {name: TEST if name in test else TRAIN for name in ordered}
