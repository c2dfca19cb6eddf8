"""``ivif registry``: look at and act on the MLflow model registry.

Examples::

    ivif registry                          # every ivif-* model: versions, aliases, scores
    ivif registry list --model cnn-aptp
    ivif registry register --model-file models/cnn-aptp/model.pt --out models/cnn-aptp/registered.json
    ivif registry promote --registered models/cnn-aptp/registered.json --model-file models/cnn-aptp/model.pt
    ivif registry promote --model cnn-aptp --version 3   # gate a version by hand
    ivif registry alias cnn-aptp 3 champion              # manual rollback to version 3

The store is ``$MLFLOW_TRACKING_URI``, else ``tracking.store`` of ``params.yaml``
(relative to it). Listing and promoting never create a store; registering does.
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
    listing.add_argument("--model", help="one model (cnn-aptp or ivif-cnn-aptp); default: all ivif-* models")
    listing.set_defaults(func=run_list)

    register = actions.add_parser(
        "register", help="register exactly this model file (its sha256 tags the version; the same file is registered once)"
    )
    register.add_argument("--model-file", required=True, metavar="PT", help="ivif checkpoint to register (e.g. models/cnn-aptp/model.pt)")
    register.add_argument(
        "--run-file", metavar="JSON", help="mlflow_run.json of the training: log into that run (default: <model dir>/mlflow_run.json)"
    )
    register.add_argument("--name", help="registered model name (default: ivif-<model>-<manifest> from the checkpoint)")
    register.add_argument("--out", metavar="JSON", help="write the registered version here (what `promote --registered` reads)")
    register.set_defaults(func=run_register)

    promote = actions.add_parser(
        "promote", help="evaluate a version and the champion on the held-out split; move champion if the gate passes"
    )
    promote.add_argument(
        "--registered", metavar="JSON", help="gate the version this registration record names (checked against --model-file)"
    )
    promote.add_argument("--model-file", metavar="PT", help="with --registered: the file that version must hold (sha256)")
    promote.add_argument("--model", help="without --registered: registered model (cnn-aptp or ivif-cnn-aptp)")
    promote.add_argument("--version", help="without --registered: version to gate (default: the one aliased candidate)")
    promote.add_argument("--data", metavar="DIR", help="held-out cache (default: <data.cache_root>/<evaluate.dataset>/<evaluate.split>)")
    promote.add_argument("--out", metavar="JSON", help="write the decision and both scores here (a DVC metrics file)")
    promote.set_defaults(func=run_promote)

    alias = actions.add_parser("alias", help="point an alias at a version (e.g. roll champion back)")
    alias.add_argument("model")
    alias.add_argument("version")
    alias.add_argument("alias")
    alias.set_defaults(func=run_alias)
    return parser


def _client(params_path: str, create: bool = False):
    """Client of the store ``params_path`` names; unless ``create``, it must exist."""
    import mlflow

    from ivif.registry.loading import existing_store, lookup_store

    uri = lookup_store(params_path)
    if not create:
        existing_store(uri)
    return mlflow.MlflowClient(uri, registry_uri=uri), uri


def run_register(args) -> int:
    from ivif.params import load_params, section
    from ivif.registry.register import register_model_file, write_registration
    from ivif.tracking.store import TrackingConfig, configure_tracking

    model_file = Path(args.model_file)
    run_file = Path(args.run_file) if args.run_file else model_file.parent / "mlflow_run.json"
    run_id = json.loads(run_file.read_text()).get("run_id") if run_file.is_file() else None
    params_path = Path(args.params)
    config = section(load_params(params_path), "tracking", TrackingConfig) if params_path.is_file() else TrackingConfig()
    uri = configure_tracking(config, base_dir=params_path.resolve().parent)
    version = register_model_file(model_file, run_id=run_id, tracking_uri=uri, name=args.name, experiment=config.experiment)
    if args.out:
        write_registration(args.out, version, uri)
    print(f"{model_file}: {version.name} version {version.version} (sha256 {version.tags.get('ivif.sha256', '')[:12]}) in {uri}")
    return 0


def run_list(args) -> int:
    from ivif.registry.aliases import registered_name
    from ivif.registry.listing import format_table, list_versions

    client, uri = _client(args.params)
    print(f"registry: {uri}")
    print(format_table(list_versions(client, registered_name(args.model) if args.model else None)))
    return 0


def run_promote(args) -> int:
    from ivif.cli import CLIError
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
    if args.registered:
        from ivif.registry.register import read_registration, verified_version

        if not args.model_file:
            raise CLIError("--registered needs --model-file: the file the registered version must hold")
        record = read_registration(args.registered)
        version = verified_version(client, record, args.model_file, source=args.registered)
        model, candidate_version = version.name, str(version.version)
    elif args.model:
        model, candidate_version = args.model, args.version
    else:
        raise CLIError("name what to gate: --registered FILE --model-file PT (the pipeline) or --model NAME [--version N]")
    outcome = evaluate_and_promote(
        model,
        ImageCache(data),
        eval_config,
        section(params, "gate", GateConfig),
        candidate_version=candidate_version,
        client=client,
        tracking_uri=uri,
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
