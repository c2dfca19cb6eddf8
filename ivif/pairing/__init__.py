"""Pairing IR with visible images: SPTP (strict), UPTP (unpaired), APTP (arbitrary).

- :mod:`ivif.pairing.policies`: pure pair policies, exhaustive or sampled, per-epoch
  reshuffled, computed lazily (:func:`make_pairs`, :class:`EpochPairs`).
- :mod:`ivif.pairing.manifest`: manifests on disk (pair table + JSON summary).
- :mod:`ivif.pairing.loader`: the torch dataset serving (IR, visible-Y) patches.
- :mod:`ivif.pairing.config`: the ``pairs:`` section of params.yaml.
"""

from ivif.pairing.manifest import PairManifest, load_manifest, plan_manifest, write_manifest
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

__all__ = [
    "EpochPairs",
    "PairManifest",
    "PairingError",
    "Policy",
    "count_combinations",
    "iter_pair_chunks",
    "load_manifest",
    "make_pairs",
    "parse_policy",
    "plan_manifest",
    "select_subset",
    "write_manifest",
]
