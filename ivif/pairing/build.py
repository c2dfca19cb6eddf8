"""Building a named manifest from its spec: open the caches, plan, write.

The one I/O entry into :mod:`ivif.pairing.manifest` shared by ``ivif pairs`` and the
Prefect flow ``flows/pairing.py``. Caches are found by the pipeline's layout
(:func:`ivif.data.layout.cache_dir`, re-exported here).
"""

from __future__ import annotations

from pathlib import Path

from ivif.data.cache import ImageCache
from ivif.data.layout import cache_dir
from ivif.pairing.config import ManifestSpec
from ivif.pairing.manifest import plan_manifest, write_manifest

__all__ = ["build_manifest", "cache_dir"]


def build_manifest(name: str, spec: ManifestSpec, cache_root: str | Path, out_dir: str | Path, progress: bool = True) -> Path:
    """Write manifest ``name`` described by ``spec`` to ``<out_dir>/<name>``; returns that directory."""
    ir_cache = ImageCache(cache_dir(cache_root, spec.ir, spec.split))
    vis_cache = ImageCache(cache_dir(cache_root, spec.vis_dataset, spec.split))
    manifest = plan_manifest(
        name,
        ir_cache,
        vis_cache,
        spec.policy,
        ir_dataset=spec.ir,
        vis_dataset=spec.vis_dataset,
        split=spec.split,
        subset=spec.subset,
        samples=spec.samples,
        seed=spec.seed,
    )
    return write_manifest(manifest, Path(out_dir) / name, progress=progress)
