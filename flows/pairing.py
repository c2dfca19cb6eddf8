"""Prefect flow: build the pairing manifests named in params.yaml (``pairs.manifests``).

Thin over :func:`ivif.pairing.build.build_manifest`: one task per manifest, for runs that
want Prefect's observability or retries. The DVC stage ``pairs`` does not use it: it runs
``ivif pairs build`` (the same library function, no orchestrator inside a stage)::

    python -m flows.pairing --params params.yaml --cache-root data/cache --out data/pairs [NAME ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from ivif.pairing.build import build_manifest
from ivif.pairing.config import ManifestSpec, PairsConfig
from ivif.params import DEFAULT_PARAMS, load_params, section


# DVC decides what to rebuild; Prefect must not serve a stale manifest from its own cache.
@task(name="pairing-manifest", cache_policy=NO_CACHE)
def build_manifest_task(name: str, spec: ManifestSpec, cache_root: str, out_dir: str) -> str:
    return str(build_manifest(name, spec, cache_root, out_dir, progress=False))


@flow(name="ivif-pairs")
def pairing_flow(
    params_path: str = DEFAULT_PARAMS,
    cache_root: str | None = None,
    out_dir: str | None = None,
    names: list[str] | None = None,
) -> list[str]:
    """Build manifests ``names`` (default: all of ``pairs.manifests``); returns their directories.

    ``cache_root`` defaults to params ``data.cache_root``, ``out_dir`` to ``pairs.out_dir``.
    """
    from ivif.data.config import DataConfig

    params = load_params(params_path)
    config = section(params, "pairs", PairsConfig)
    cache_root = cache_root or section(params, "data", DataConfig).cache_root
    names = list(names or sorted(config.manifests))
    specs = {name: config.spec(name) for name in names}  # unknown names fail before any work
    return [build_manifest_task(name, spec, str(cache_root), str(out_dir or config.out_dir)) for name, spec in specs.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.pairing", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="manifests to build (default: all)")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.add_argument("--cache-root", help="decoded caches (default: params data.cache_root)")
    parser.add_argument("--out", help="manifest folder (default: params pairs.out_dir)")
    args = parser.parse_args(argv)
    for path in pairing_flow(str(Path(args.params)), args.cache_root, args.out, args.names or None):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
