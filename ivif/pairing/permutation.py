"""A seeded bijection of ``range(size)`` evaluated pointwise: a shuffle that is never stored.

Shuffling N² pair indices the usual way (``np.random.permutation``) costs 8 bytes per
index: 140 MB for the 17.6 M combinations of N = 4200. A keyed Feistel network is a
bijection of ``[0, 4**half_bits)`` whose value at any position costs a few vectorised
integer operations; cycle-walking (re-applying it while the value is >= ``size``)
restricts it to a bijection of ``[0, size)`` (Black & Rogaway, "Ciphers with arbitrary
finite domains", 2002). So the k-th element of a shuffled epoch is computed on demand,
in chunks, with memory O(chunk), and the first K positions of the shuffle are K distinct
indices — a sample without replacement in O(K) memory.
"""

from __future__ import annotations

import numpy as np

from ivif.pairing.hashing import derive_key, mix64

# Luby-Rackoff: four rounds of a pseudo-random round function already give a strong
# pseudo-random permutation; two more cost little and cover the weak tiny domains.
FEISTEL_ROUNDS = 6
# Cycle-walking visits on average < 4 values per element (the domain is < 4x size);
# this bound only guards against a bug turning into an endless loop.
_MAX_WALK_STEPS = 10_000


class SeededPermutation:
    """A pseudo-random bijection of ``range(size)`` determined by ``key``.

    Example:
        >>> perm = SeededPermutation(10, key=42)
        >>> sorted(perm(np.arange(10)).tolist()) == list(range(10))
        True
    """

    def __init__(self, size: int, key: int):
        if size < 1:
            raise ValueError(f"a permutation needs size >= 1, got {size}")
        self.size = int(size)
        self.half_bits = max(1, ((self.size - 1).bit_length() + 1) // 2)
        self._mask = np.uint64((1 << self.half_bits) - 1)
        self._round_keys = np.array([derive_key(key, r) for r in range(FEISTEL_ROUNDS)], dtype=np.uint64)

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        """Values of the permutation at ``positions``.

        Args:
            positions: (n,) integers in ``[0, size)``.

        Returns:
            (n,) int64, distinct for distinct positions.
        """
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size and (positions.min() < 0 or positions.max() >= self.size):
            raise IndexError(f"positions must lie in [0, {self.size})")
        values = self._feistel(positions.astype(np.uint64))
        outside = np.flatnonzero(values >= self.size)
        for _ in range(_MAX_WALK_STEPS):
            if outside.size == 0:
                return values.astype(np.int64)
            walked = self._feistel(values[outside])
            values[outside] = walked
            outside = outside[walked >= self.size]
        raise RuntimeError("cycle-walking did not terminate; the Feistel network is not a bijection")

    def _feistel(self, x: np.ndarray) -> np.ndarray:
        shift = np.uint64(self.half_bits)
        left, right = x >> shift, x & self._mask
        for round_key in self._round_keys:
            left, right = right, left ^ (mix64(right ^ round_key) & self._mask)
        return (left << shift) | right
