"""The ``pairs:`` section of params.yaml: which pairing manifests the pipeline builds.

Example::

    pairs:
      out_dir: data/pairs           # manifests are written to <out_dir>/<name>/
      manifests:
        aptp:    {policy: arbitrary, ir: sample, vis: sample, split: train}
        uptp_25: {policy: unpaired, ir: m3fd, vis: m3fd, split: train, subset: 25, samples: 500, seed: 1}
        cross:   {policy: arbitrary, ir: m3fd, vis: msrs, split: train}   # M3FD IR x MSRS visible

Caches are read from ``<cache_root>/<dataset>/<split>/``, ``cache_root`` being the data
section's (passed to the pairing entry points as ``--cache-root``). dvc.yaml makes one
``pairs@<name>`` stage per manifest and interpolates ``ir``, ``vis`` and ``split`` into
its dependencies, so params.yaml spells all three out even where ``vis`` equals ``ir``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ivif.pairing.policies import parse_policy
from ivif.params import from_mapping


@dataclasses.dataclass(frozen=True)
class ManifestSpec:
    """One pairing manifest.

    Attributes:
        policy: ``strict`` | ``unpaired`` | ``arbitrary`` (or SPTP | UPTP | APTP).
        ir: dataset whose IR images are paired (its cache is ``<cache_root>/<ir>/<split>``).
        vis: dataset of the visible images; None = the same as ``ir``. A different
            dataset gives cross-dataset pairing (``strict`` is then impossible).
        split: cache split to pair (``train`` for training manifests).
        subset: use only N base images of each dataset (seeded, nested across N); None = all.
        samples: K pairs drawn without replacement per epoch; None = every combination.
        seed: seed of the subset, the shuffle and the per-epoch sampling.
    """

    policy: str
    ir: str
    vis: str | None = None
    split: str = "train"
    subset: int | None = None
    samples: int | None = None
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "policy", parse_policy(self.policy).value)
        if not self.ir:
            raise ValueError("ir: name the dataset whose IR images are paired")
        if self.subset is not None and self.subset < 1:
            raise ValueError(f"subset must be >= 1 or null, got {self.subset}")
        if self.samples is not None and self.samples < 1:
            raise ValueError(f"samples must be >= 1 or null (exhaustive), got {self.samples}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")

    @property
    def vis_dataset(self) -> str:
        return self.vis or self.ir


@dataclasses.dataclass(frozen=True)
class PairsConfig:
    """Where manifests are written, and the manifests to build by name."""

    out_dir: str = "data/pairs"
    manifests: Mapping[str, ManifestSpec] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        specs = {}
        for name, spec in dict(self.manifests).items():
            if not str(name).replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"manifest name {name!r} must be letters, digits, '_' or '-' (it names a folder)")
            if isinstance(spec, Mapping):
                spec = from_mapping(ManifestSpec, spec, where=f"pairs.manifests.{name}")
            if not isinstance(spec, ManifestSpec):
                raise ValueError(f"manifests.{name}: expected a mapping of ManifestSpec fields, got {type(spec).__name__}")
            specs[str(name)] = spec
        object.__setattr__(self, "manifests", specs)

    def spec(self, name: str) -> ManifestSpec:
        """The manifest called ``name``; a clear error listing the known names otherwise."""
        if name not in self.manifests:
            raise ValueError(f"no manifest {name!r} in params pairs.manifests; known: {sorted(self.manifests)}")
        return self.manifests[name]
