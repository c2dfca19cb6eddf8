"""``ivif registry``: look at and act on the MLflow model registry.

Examples::

    ivif registry                          # every ivif-* model: versions, aliases, scores
    ivif registry list --model cnn
    ivif registry promote --model cnn      # gate ivif-cnn@candidate against @champion
    ivif registry alias cnn 3 champion     # manual rollback to version 3

The store is ``$MLFLOW_TRACKING_URI``, else ``tracking.store`` of ``params.yaml``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ivif.params import DEFAULT_PARAMS


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("registry", help="list registered models, gate candidates, move aliases")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.set_defaults(func=run_list, model=None)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="versions, aliases and scores (the default action)")
    listing.add_argument("--model", help="one model (cnn or ivif-cnn); default: all ivif-* models")
    listing.set_defaults(func=run_list)

    promote = actions.add_parser("promote", help="evaluate candidate and champion on the held-out split; move champion if the gate passes")
    promote.add_argument("--model", required=True, help="architecture (cnn, transformer, gan) or ivif-<name>")
    promote.add_argument("--version", help="candidate version (default: the one aliased candidate)")
    promote.add_argument("--data", metavar="DIR", help="held-out cache (default: <data.cache_root>/<evaluate.dataset>/<evaluate.split>)")
    promote.add_argument("--out", metavar="JSON", help="write the decision and both scores here (a DVC metrics file)")
    promote.set_defaults(func=run_promote)

    alias = actions.add_parser("alias", help="point an alias at a version (e.g. roll champion back)")
    alias.add_argument("model")
    alias.add_argument("version")
    alias.add_argument("alias")
    alias.set_defaults(func=run_alias)
    return parser


def _client(params_path: str):
    import mlflow

    from ivif.params import load_params, section
    from ivif.registry.tracking import TrackingConfig, resolve_tracking_uri

    path = Path(params_path)
    config = section(load_params(path), "tracking", TrackingConfig) if path.is_file() else TrackingConfig()
    uri = resolve_tracking_uri(config.store, path.resolve().parent)
    return mlflow.MlflowClient(uri, registry_uri=uri), uri


def run_list(args) -> int:
    from ivif.registry.aliases import registered_name
    from ivif.registry.listing import format_table, list_versions

    client, uri = _client(args.params)
    print(f"registry: {uri}")
    print(format_table(list_versions(client, registered_name(args.model) if args.model else None)))
    return 0


def run_promote(args) -> int:
    from ivif.data.cache import ImageCache
    from ivif.data.config import DataConfig
    from ivif.evaluation import EvaluateConfig
    from ivif.io.atomic import atomic_write_text
    from ivif.params import load_params, section
    from ivif.registry.gate import GateConfig
    from ivif.registry.promote import evaluate_and_promote

    params = load_params(args.params)
    eval_config = section(params, "evaluate", EvaluateConfig)
    data = Path(args.data or section(params, "data", DataConfig).cache_dir(eval_config.dataset, eval_config.split))
    client, uri = _client(args.params)
    outcome = evaluate_and_promote(
        args.model, ImageCache(data), eval_config, section(params, "gate", GateConfig),
        candidate_version=args.version, client=client, tracking_uri=uri,
    )
    if args.out:
        atomic_write_text(args.out, json.dumps(outcome.summary(), indent=2) + "\n")
    verdict = "champion moved to" if outcome.moved else "champion stays at"
    print(f"{outcome.name} v{outcome.candidate_version}: {outcome.decision.reason}")
    print(f"{verdict} version {outcome.champion_after}")
    return 0


def run_alias(args) -> int:
    from mlflow.exceptions import MlflowException

    from ivif.registry.aliases import move_alias, registered_name

    client, uri = _client(args.params)
    name = registered_name(args.model)
    try:
        client.get_model_version(name, args.version)
    except MlflowException as exc:
        raise ValueError(f"{name} version {args.version} not found in {uri}; see `ivif registry list` ({exc.message})") from exc
    move_alias(client, name, args.alias, args.version)
    print(f"{name}@{args.alias} -> version {args.version}")
    return 0
