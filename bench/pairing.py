"""Benchmark: pairing manifests at M3FD scale (N = 4200), ivif vs the upstream method.

The upstream trainers build a Python set of all N² (i, j) tuples and call
``random.sample`` on it every epoch (Python >= 3.11 needs the set turned into a list
first). ivif computes each epoch's pairs on demand from a seeded bijection of
``range(N²)`` (ivif.pairing.policies). For each method this prints wall time and peak
memory *above the interpreter* (the ru_maxrss growth of a fresh subprocess after its
imports; tracemalloc's peak too where tracing is affordable):

- sampled: 100·N = 420,000 pairs of one epoch (APTP, without replacement);
- exhaustive: one epoch over all N² = 17.6 M pairs (ivif iterates chunks; upstream
  shuffles the whole population);
- and numpy's ``permutation(N²)``, the obvious vectorised alternative.

Usage: ``.venv/bin/python bench/pairing.py [--n 4200] [--skip-upstream-exhaustive]``
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from ivif.pairing.policies import iter_pair_chunks, make_pairs

KIB = 1024
MIB = 1024 * 1024
SAMPLES_PER_IMAGE = 100  # the benchmark's sampled epoch: 100·N pairs
SEED = 0


def ivif_sampled(n: int) -> int:
    return len(make_pairs(n, n, "arbitrary", samples=SAMPLES_PER_IMAGE * n, seed=SEED))


def ivif_exhaustive(n: int) -> int:
    checksum, count = 0, 0
    for chunk in iter_pair_chunks(n, n, "arbitrary", seed=SEED):
        count += len(chunk)
        checksum ^= int(chunk[-1, 0])  # touch the pairs as a consumer would
    return count


def numpy_permutation_exhaustive(n: int) -> int:
    order = np.random.default_rng(SEED).permutation(n * n)
    count = 0
    for start in range(0, len(order), 1 << 20):
        block = order[start : start + (1 << 20)]
        count += len(np.stack([block // n, block % n], axis=1))
    return count


def upstream_sampled(n: int) -> int:
    population = {(i, j) for i in range(n) for j in range(n)}
    return len(random.sample(list(population), SAMPLES_PER_IMAGE * n))


def upstream_exhaustive(n: int) -> int:
    population = {(i, j) for i in range(n) for j in range(n)}
    return len(random.sample(list(population), len(population)))


METHODS = {
    "ivif sampled": ivif_sampled,
    "upstream sampled": upstream_sampled,
    "ivif exhaustive": ivif_exhaustive,
    "numpy permutation exhaustive": numpy_permutation_exhaustive,
    "upstream exhaustive": upstream_exhaustive,
}
# tracemalloc records every allocation: fine for numpy's few big buffers, but it would
# multiply the time of building 17.6 M Python tuples.
TRACEABLE = {"ivif sampled", "ivif exhaustive", "numpy permutation exhaustive"}


def measure(method: str, n: int, trace: bool) -> dict:
    """Run one method in this (fresh) process; wall time and peak memory above the start."""
    random.seed(SEED)
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    pairs = METHODS[method](n)
    seconds = time.perf_counter() - start
    result = {"method": method, "pairs": pairs, "seconds": seconds}
    if trace:
        result["tracemalloc_mb"] = tracemalloc.get_traced_memory()[1] / MIB
        tracemalloc.stop()
    else:
        result["rss_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kib) * KIB / MIB
    return result


def run_isolated(method: str, n: int, trace: bool) -> dict:
    command = [sys.executable, __file__, "--child", method, "--n", str(n)] + (["--trace"] if trace else [])
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4200, help="base images per modality (default: 4200, M3FD)")
    parser.add_argument("--skip-upstream-exhaustive", action="store_true", help="skip the ~4 GB upstream full shuffle")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.n, args.trace)))
        return

    print(f"N = {args.n}: {args.n**2:,} APTP combinations, {SAMPLES_PER_IMAGE * args.n:,} sampled pairs")
    print(f"{'method':30s} {'pairs':>12s} {'wall s':>8s} {'peak RSS MB':>12s} {'tracemalloc MB':>15s}")
    for method in METHODS:
        if method == "upstream exhaustive" and args.skip_upstream_exhaustive:
            continue
        timed = run_isolated(method, args.n, trace=False)
        traced = run_isolated(method, args.n, trace=True)["tracemalloc_mb"] if method in TRACEABLE else None
        traced_text = f"{traced:15.1f}" if traced is not None else f"{'(not traced)':>15s}"
        print(f"{method:30s} {timed['pairs']:12,d} {timed['seconds']:8.2f} {timed['rss_mb']:12.1f} {traced_text}", flush=True)


if __name__ == "__main__":
    main()
