"""Prefect flows: evaluate a model on the held-out split, and gate a candidate.

Thin over :mod:`ivif.evaluation` and :func:`ivif.registry.promote.evaluate_and_promote`.
From the shell::

    python -m flows.evaluate --model models:/ivif-cnn-aptp@champion     # -> runs/evaluate/<UTC time>/
    python -m flows.evaluate promote --model cnn-aptp [--version 7]     # the champion gate
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from ivif.params import DEFAULT_PARAMS, load_params, section


def held_out_split(params: dict, data: str | None = None) -> Path:
    """``data`` or ``<data.cache_root>/<evaluate.dataset>/<evaluate.split>`` from params."""
    from ivif.data.config import DataConfig
    from ivif.evaluation import EvaluateConfig

    if data:
        return Path(data)
    config = section(params, "evaluate", EvaluateConfig)
    return section(params, "data", DataConfig).cache_dir(config.dataset, config.split)


@task(name="evaluate-model", cache_policy=NO_CACHE)
def evaluate_task(spec: str, data: str, params: dict, root: str = ".") -> dict:
    """Score ``spec``; outputs go to ``<root>/runs/evaluate/<UTC time>/``, never to the
    pipeline's tracked files."""
    from ivif.cli.evaluate import GRID_NAME, METRICS_NAME, PER_IMAGE_NAME, adhoc_out_dir
    from ivif.evaluation import EvaluateConfig
    from ivif.evaluation.run import evaluate_to_files
    from ivif.registry.loading import enable_model_uris
    from ivif.tracking import TrackingConfig
    from ivif.tracking.store import resolve_tracking_uri

    enable_model_uris(resolve_tracking_uri(section(params, "tracking", TrackingConfig).store, root))
    out = adhoc_out_dir(root)
    config = section(params, "evaluate", EvaluateConfig)
    return evaluate_to_files(spec, data, config, out / METRICS_NAME, out / PER_IMAGE_NAME, out / GRID_NAME).summary


@task(name="champion-gate", cache_policy=NO_CACHE)
def gate_task(model: str, data: str, params: dict, root: str, candidate_version: str | None = None) -> dict:
    """Evaluate candidate and champion on ``data``; move ``champion`` only if the gate passes."""
    from ivif.data.cache import ImageCache
    from ivif.evaluation import EvaluateConfig
    from ivif.registry.gate import GateConfig
    from ivif.registry.promote import evaluate_and_promote
    from ivif.tracking import TrackingConfig, configure_tracking

    uri = configure_tracking(section(params, "tracking", TrackingConfig), base_dir=root)
    outcome = evaluate_and_promote(
        model,
        ImageCache(data),
        section(params, "evaluate", EvaluateConfig),
        section(params, "gate", GateConfig),
        candidate_version=candidate_version,
        tracking_uri=uri,
    )
    return outcome.summary()


@flow(name="ivif-evaluate")
def evaluate_flow(model: str, params_path: str = DEFAULT_PARAMS, data: str | None = None) -> dict:
    """Score ``model`` (checkpoint, ``upstream:...`` or ``models:/...``) on the held-out
    split; writes the metrics JSON, per-image CSV and grid to ``runs/evaluate/<UTC time>/``."""
    params = load_params(params_path)
    return evaluate_task(model, str(held_out_split(params, data)), params, str(Path(params_path).resolve().parent))


@flow(name="ivif-promote")
def promote_flow(model: str, params_path: str = DEFAULT_PARAMS, candidate_version: str | None = None, data: str | None = None) -> dict:
    """The champion gate for ``ivif-<model>`` as a flow (see :func:`gate_task`)."""
    path = Path(params_path)
    params = load_params(path)
    return gate_task(model, str(held_out_split(params, data)), params, str(path.resolve().parent), candidate_version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=("evaluate", "promote"), default="evaluate")
    parser.add_argument("--model", required=True, help="SPEC to evaluate, or the architecture to gate (promote)")
    parser.add_argument("--params", default=DEFAULT_PARAMS)
    parser.add_argument("--data", help="cache split (default: params evaluate.dataset/split)")
    parser.add_argument("--version", help="promote: candidate version (default: @candidate)")
    args = parser.parse_args(argv)
    if args.action == "promote":
        summary = promote_flow(args.model, args.params, args.version, args.data)
    else:
        summary = evaluate_flow(args.model, args.params, args.data)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
