"""``ivif params check``: build every config of params.yaml before anything runs.

The DVC stage ``validate`` runs it first; every other stage depends on its output, so
a bad key or value stops ``dvc repro`` before DVC deletes any stage's outputs. The
error names the key, the bad value and the valid choices::

    ivif params check                      # params.yaml
    ivif params check --out data/params.checked.json   # what the DVC stage writes

The output file's content does not depend on the values checked, so a valid change
of params does not, by itself, make the stages downstream of ``validate`` run again.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ivif.params import DEFAULT_PARAMS, ParamsError


def _sections() -> dict[str, type]:
    """Section name -> config dataclass (imported here: the check sits above every layer)."""
    from ivif.data.config import DataConfig, ShardConfig
    from ivif.evaluation import EvaluateConfig
    from ivif.orchestration.config import RetrainConfig
    from ivif.pairing.config import PairsConfig
    from ivif.registry.gate import GateConfig
    from ivif.tracking.store import TrackingConfig
    from ivif.training.config import TrainConfig

    return {
        "data": DataConfig,
        "shard": ShardConfig,
        "pairs": PairsConfig,
        "tracking": TrackingConfig,
        "train": TrainConfig,
        "evaluate": EvaluateConfig,
        "gate": GateConfig,
        "retrain": RetrainConfig,
    }


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Build every section's config and check the links between sections.

    Returns section name -> config. Raises :class:`ivif.params.ParamsError` naming the
    key, the bad value and the valid choices.
    """
    from ivif.params import section

    sections = _sections()
    unknown = sorted(set(params) - set(sections))
    if unknown:
        raise ParamsError(f"params has unknown section(s) {unknown}; valid sections are {sorted(sections)}")
    configs = {name: section(params, name, cls) for name, cls in sections.items()}
    for check in _CROSS_CHECKS:
        check(configs)
    return configs


def _train_manifest(configs) -> None:
    from ivif.training.run import check_manifest

    if not configs["pairs"].manifests:
        raise ParamsError("pairs.manifests is empty; add a manifest for train.manifest to name (see README 'Pairing')")
    check_manifest(configs["train"], configs["pairs"])


def _manifest_datasets(configs) -> None:
    datasets = configs["data"].datasets
    for name, spec in configs["pairs"].manifests.items():
        for side, dataset in (("ir", spec.ir), ("vis", spec.vis_dataset)):
            if dataset not in datasets:
                raise ParamsError(f"pairs.manifests.{name}.{side}: {dataset!r} is not in data.datasets; choose one of {list(datasets)}")


def _evaluate_dataset(configs) -> None:
    datasets = configs["data"].datasets
    if configs["evaluate"].dataset not in datasets:
        raise ParamsError(f"evaluate.dataset: {configs['evaluate'].dataset!r} is not in data.datasets; choose one of {list(datasets)}")


def _gate_metrics(configs) -> None:
    evaluated = configs["evaluate"].metrics
    missing = [m for m in configs["gate"].metrics if m not in evaluated]
    if missing:
        raise ParamsError(f"gate.metrics: {missing} are not in evaluate.metrics; choose from {list(evaluated)}")


_CROSS_CHECKS: tuple[Callable[[dict], None], ...] = (_train_manifest, _manifest_datasets, _evaluate_dataset, _gate_metrics)


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("params", help="check params.yaml (every section, and the links between them)")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    check = actions.add_parser("check", help="build every config of params.yaml; fail naming the key, value and valid choices")
    check.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    check.add_argument("--out", metavar="JSON", help="write the checked section names here (the DVC stage's output)")
    check.set_defaults(func=run_check)
    return parser


def run_check(args) -> int:
    from ivif.io.atomic import atomic_write_text
    from ivif.params import load_params

    configs = check_params(load_params(args.params))
    if args.out:
        atomic_write_text(Path(args.out), json.dumps({"checked": sorted(configs)}, indent=2) + "\n")
    print(f"{args.params}: {len(configs)} sections valid")
    return 0
