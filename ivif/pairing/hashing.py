"""Counter-based pseudo-randomness: the same (key, counter) always gives the same bits.

Pairing and the loader need randomness that is a pure function of (seed, epoch, sample
position), so that any worker, any DDP rank and any resumed run draws exactly the same
numbers for the same sample without sharing or replaying a generator's state. A
SplitMix64 finaliser over (key, counter) gives that: vectorised in numpy, O(1) state.
"""

from __future__ import annotations

import numpy as np

UINT64_MASK = (1 << 64) - 1
# SplitMix64 constants (Steele, Lea & Flood 2014): golden-ratio increment and finaliser multipliers.
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_MIX_MUL_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_MUL_2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective avalanche of uint64 values.

    Args:
        x: uint64 array of any shape.

    Returns:
        uint64 array of the same shape (multiplications wrap modulo 2**64 by design).
    """
    x = np.asarray(x, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * _MIX_MUL_1
    x = (x ^ (x >> np.uint64(27))) * _MIX_MUL_2
    return x ^ (x >> np.uint64(31))


def derive_key(*words: int) -> int:
    """Fold integers (seed, epoch, stream id, ...) into one 64-bit key, order-sensitive."""
    # One-element arrays, not numpy scalars: array arithmetic wraps silently, scalars warn.
    state = np.array([_GOLDEN_GAMMA], dtype=np.uint64)
    for word in words:
        if word < 0:
            raise ValueError(f"key words must be non-negative integers, got {word}")
        state = mix64((state ^ np.uint64(int(word) & UINT64_MASK)) + np.uint64(_GOLDEN_GAMMA))
    return int(state[0])


def hashed_bits(key: int, counters: np.ndarray, stream: int = 0) -> np.ndarray:
    """64 pseudo-random bits per counter, a pure function of (key, stream, counter).

    Args:
        key: a key from :func:`derive_key`.
        counters: (...,) non-negative integers, e.g. sample positions in an epoch.
        stream: distinguishes independent draws for the same counter (crop y, crop x, flip...).

    Returns:
        (...,) uint64.
    """
    stream_key = np.uint64(derive_key(key, stream))
    return mix64(mix64(np.asarray(counters, dtype=np.uint64) ^ stream_key) + np.uint64(_GOLDEN_GAMMA))


def hashed_below(key: int, counters: np.ndarray, bounds: np.ndarray | int, stream: int = 0) -> np.ndarray:
    """Integers uniform in [0, bound) per counter (bound <= 2**32; bias < 2**-32).

    Returns:
        int64 array broadcast from ``counters`` and ``bounds``.
    """
    high = hashed_bits(key, counters, stream) >> np.uint64(32)  # top 32 bits
    scaled = (high * np.asarray(bounds, dtype=np.uint64)) >> np.uint64(32)  # Lemire's multiply-shift
    return scaled.astype(np.int64)
