"""Pairing policies: which (IR index, visible index) pairs an epoch trains on.

Pure functions over image counts, no I/O. With ``n_ir`` IR and ``n_vis`` visible images:

=============  ==========  ==============================  ==========================
policy         paper name  pairs                           combinations M
=============  ==========  ==============================  ==========================
``strict``     SPTP        (i, i)                          N (needs n_ir == n_vis)
``unpaired``   UPTP        (i, j), i != j                  n_ir * n_vis - min(n_ir, n_vis)
``arbitrary``  APTP        (i, j), any                     n_ir * n_vis
=============  ==========  ==============================  ==========================

An epoch is either **exhaustive** (all M combinations, in a shuffled order) or
**sampled** (K of them without replacement, like the upstream ``random.sample``). Both
are the prefix of one seeded permutation of ``range(M)``, keyed by (seed, epoch): the
k-th pair of an epoch is computed on demand (combination index c ↦ (c // n_vis,
c % n_vis), with the diagonal skipped for ``unpaired``), so neither the M combinations
nor the epoch's order are ever stored. Memory is O(chunk) for an exhaustive epoch and
O(K) for a sampled one.

Example:
    >>> make_pairs(3, 3, "unpaired", seed=1).shape
    (6, 2)
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

import numpy as np

from ivif.pairing.hashing import derive_key
from ivif.pairing.permutation import SeededPermutation

# Pairs computed per vectorised step when iterating an exhaustive epoch: 1 Mi pairs is
# ~50 MB of int64 temporaries, a few ms of numpy work per step.
DEFAULT_CHUNK = 1 << 20
# Stream ids that keep the shuffle keys of different uses of one seed independent.
_ORDER_STREAM = 0
_SUBSET_STREAM = 1


class PairingError(ValueError):
    """A pairing request that cannot be met (too many samples, too few images...)."""


class Policy(str, enum.Enum):
    """How IR and visible images may be paired."""

    STRICT = "strict"  # SPTP: the registered pair (i, i) only
    UNPAIRED = "unpaired"  # UPTP: any IR with any *other* visible image
    ARBITRARY = "arbitrary"  # APTP: any IR with any visible image


# The paper's paradigm names: the one map between them and the policies.
_ALIASES = {"sptp": Policy.STRICT, "uptp": Policy.UNPAIRED, "aptp": Policy.ARBITRARY}
PARADIGMS = tuple(_ALIASES)  # ("sptp", "uptp", "aptp"), as params and study files spell them


def paradigm_name(policy: str | Policy) -> str:
    """The paper's name of a policy: ``strict`` -> ``"SPTP"``, ``unpaired`` -> ``"UPTP"``..."""
    policy = parse_policy(policy)
    return next(name for name, value in _ALIASES.items() if value is policy).upper()


def parse_policy(name: str | Policy) -> Policy:
    """``'strict'|'unpaired'|'arbitrary'`` or the paper's ``'SPTP'|'UPTP'|'APTP'`` -> :class:`Policy`."""
    if isinstance(name, Policy):
        return name
    key = str(name).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return Policy(key)
    except ValueError:
        valid = [p.value for p in Policy] + sorted(_ALIASES)
        raise PairingError(f"unknown pairing policy {name!r}; use one of {valid}") from None


def count_combinations(n_ir: int, n_vis: int, policy: str | Policy) -> int:
    """Number M of distinct pairs ``policy`` allows between n_ir IR and n_vis visible images."""
    policy = parse_policy(policy)
    _check_counts(n_ir, n_vis, policy)
    if policy is Policy.STRICT:
        return n_ir
    if policy is Policy.UNPAIRED:
        return n_ir * n_vis - min(n_ir, n_vis)
    return n_ir * n_vis


def combination_pairs(combos: np.ndarray, n_ir: int, n_vis: int, policy: str | Policy) -> np.ndarray:
    """The pairs at combination indices ``combos`` in canonical (row-major) order.

    Args:
        combos: (n,) integers in ``[0, M)``, M = :func:`count_combinations`.

    Returns:
        (n, 2) int64 of (IR index, visible index).
    """
    policy = parse_policy(policy)
    combos = np.asarray(combos, dtype=np.int64)
    if policy is Policy.STRICT:
        return np.stack([combos, combos], axis=1)
    if policy is Policy.ARBITRARY:
        return np.stack([combos // n_vis, combos % n_vis], axis=1)
    return _unpaired_pairs(combos, n_ir, n_vis)


def _unpaired_pairs(combos: np.ndarray, n_ir: int, n_vis: int) -> np.ndarray:
    # Rows i < min(n_ir, n_vis) hold the n_vis - 1 visible indices j != i, rows beyond
    # (only when n_ir > n_vis) hold all n_vis; skip the diagonal by shifting j >= i by one.
    per_short_row = n_vis - 1
    short_rows = min(n_ir, n_vis)
    boundary = short_rows * per_short_row
    in_short = combos < boundary
    row_short = combos // max(per_short_row, 1)
    col_short = combos % max(per_short_row, 1)
    col_short = col_short + (col_short >= row_short)
    rest = combos - boundary
    ir = np.where(in_short, row_short, short_rows + rest // n_vis)
    vis = np.where(in_short, col_short, rest % n_vis)
    return np.stack([ir, vis], axis=1)


class EpochPairs:
    """The pairs of one epoch as a lazy, sliceable sequence.

    ``len(pairs)`` is the epoch length (M exhaustive, K sampled); ``pairs.at(positions)``
    and ``pairs.take(start, stop)`` compute (n, 2) int64 (IR index, visible index) rows
    on demand; ``pairs.chunks()`` iterates the whole epoch in bounded memory.

    Args:
        n_ir, n_vis: number of IR / visible images (indices are ``range(n)``).
        policy: ``strict``, ``unpaired`` or ``arbitrary`` (or SPTP/UPTP/APTP).
        samples: K pairs drawn without replacement per epoch; None = all M (exhaustive).
        seed: shuffle seed (non-negative).
        epoch: epoch number; the order (and the sample) is reshuffled per (seed, epoch).
        shuffle: False gives the canonical row-major order (exhaustive only).
    """

    def __init__(
        self,
        n_ir: int,
        n_vis: int,
        policy: str | Policy,
        samples: int | None = None,
        seed: int = 0,
        epoch: int = 0,
        shuffle: bool = True,
    ):
        self.policy = parse_policy(policy)
        self.n_ir, self.n_vis = int(n_ir), int(n_vis)
        self.combinations = count_combinations(self.n_ir, self.n_vis, self.policy)
        if seed < 0 or epoch < 0:
            raise PairingError(f"seed and epoch must be non-negative, got seed={seed}, epoch={epoch}")
        self.seed, self.epoch = int(seed), int(epoch)
        self.samples = _check_samples(samples, self.combinations, self.policy, self.n_ir, self.n_vis)
        if not shuffle and self.samples is not None:
            raise PairingError("a sampled epoch is always shuffled (shuffle=False needs samples=None)")
        self._order = SeededPermutation(self.combinations, derive_key(self.seed, _ORDER_STREAM, self.epoch)) if shuffle else None

    def __len__(self) -> int:
        return self.combinations if self.samples is None else self.samples

    def at(self, positions: np.ndarray) -> np.ndarray:
        """(n, 2) int64 pairs at epoch positions ``positions`` (each in ``[0, len)``)."""
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size and (positions.min() < 0 or positions.max() >= len(self)):
            raise IndexError(f"epoch positions must lie in [0, {len(self)})")
        combos = positions if self._order is None else self._order(positions)
        return combination_pairs(combos, self.n_ir, self.n_vis, self.policy)

    def take(self, start: int, stop: int) -> np.ndarray:
        """(stop - start, 2) int64 pairs at positions ``start .. stop-1`` (clipped to the epoch)."""
        start, stop = max(0, start), min(len(self), stop)
        return self.at(np.arange(start, max(start, stop), dtype=np.int64))

    def chunks(self, chunk_size: int = DEFAULT_CHUNK, start: int = 0) -> Iterator[np.ndarray]:
        """Iterate the epoch from position ``start`` as (<= chunk_size, 2) int64 arrays."""
        if chunk_size < 1:
            raise PairingError(f"chunk_size must be >= 1, got {chunk_size}")
        for begin in range(start, len(self), chunk_size):
            yield self.take(begin, begin + chunk_size)


def make_pairs(
    n_ir: int,
    n_vis: int,
    policy: str | Policy,
    samples: int | None = None,
    seed: int = 0,
    epoch: int = 0,
) -> np.ndarray:
    """All pairs of one epoch as an (M or K, 2) int64 array (see :class:`EpochPairs`).

    Materialises the epoch: 16 bytes per pair. For exhaustive epochs of large N iterate
    :func:`iter_pair_chunks` instead.
    """
    pairs = EpochPairs(n_ir, n_vis, policy, samples=samples, seed=seed, epoch=epoch)
    return pairs.take(0, len(pairs))


def iter_pair_chunks(
    n_ir: int,
    n_vis: int,
    policy: str | Policy,
    samples: int | None = None,
    seed: int = 0,
    epoch: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[np.ndarray]:
    """The pairs of one epoch in (<= chunk_size, 2) int64 chunks, memory O(chunk_size)."""
    return EpochPairs(n_ir, n_vis, policy, samples, seed, epoch).chunks(chunk_size)


def select_subset(n_total: int, size: int | None, seed: int = 0) -> np.ndarray:
    """A seeded subset of ``size`` base images out of ``n_total``, as sorted int64 indices.

    ``size=None`` keeps all images. Nested sizes are nested sets for the same seed (the
    first N of one shuffle), so N=5 ⊂ N=10 ⊂ N=25 in a limited-data study.
    """
    if n_total < 1:
        raise PairingError("cannot select a subset of an empty image set; is the cache empty?")
    if size is None:
        return np.arange(n_total, dtype=np.int64)
    if not 1 <= size <= n_total:
        raise PairingError(f"subset size must be in [1, {n_total}] (the number of images), got {size}")
    order = SeededPermutation(n_total, derive_key(seed, _SUBSET_STREAM))
    return np.sort(order(np.arange(size, dtype=np.int64)))


def _check_counts(n_ir: int, n_vis: int, policy: Policy) -> None:
    if n_ir < 1 or n_vis < 1:
        raise PairingError(f"pairing needs at least one IR and one visible image, got n_ir={n_ir}, n_vis={n_vis} (empty subset?)")
    if policy is Policy.STRICT and n_ir != n_vis:
        raise PairingError(
            f"strict pairing (SPTP) pairs image i with image i and needs n_ir == n_vis, got {n_ir} and {n_vis}; "
            "use 'unpaired' or 'arbitrary' for sets of different sizes"
        )
    if policy is Policy.UNPAIRED and n_ir * n_vis - min(n_ir, n_vis) == 0:
        raise PairingError("unpaired pairing (UPTP) with a single image has no pair i != j; use at least 2 images")


def _check_samples(samples: int | None, combinations: int, policy: Policy, n_ir: int, n_vis: int) -> int | None:
    if samples is None:
        return None
    if samples < 1:
        raise PairingError(f"samples must be >= 1 (or None for an exhaustive epoch), got {samples}")
    if samples > combinations:
        raise PairingError(
            f"cannot draw {samples} distinct {policy.value} pairs: only {combinations} exist for "
            f"n_ir={n_ir}, n_vis={n_vis}; lower samples, use more images, or drop samples for an exhaustive epoch"
        )
    return int(samples)
