"""``ivif evaluate``: score a model on a held-out split and write DVC metrics and plots.

Examples::

    ivif evaluate --model models/cnn.pt                     # params.yaml evaluate: section
    ivif evaluate --model models:/ivif-cnn@champion --data data/cache/msrs/test
    ivif evaluate --model upstream:cnn:../shared/weights/upstream/cnn.model --mode tiled

Outputs (defaults from ``params.yaml`` ``evaluate:``): the mean scores as JSON
(``metrics/evaluate.json``), one CSV row per image (``plots/evaluate/per_image.csv``)
and an IR | visible | fused grid (``plots/evaluate/grid.png``).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ivif.params import DEFAULT_PARAMS


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("evaluate", help="score a model on a held-out split (metrics JSON, per-image CSV, grid)")
    parser.add_argument("--model", required=True, metavar="SPEC", help="checkpoint path, upstream:<model>:<path> or models:/NAME@ALIAS")
    parser.add_argument("--data", metavar="DIR", help="cache split to score (default: <data.cache_root>/<evaluate.dataset>/<evaluate.split>)")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.add_argument("--metrics-file", metavar="JSON", help="mean scores (default: evaluate.metrics_file)")
    parser.add_argument("--per-image-file", metavar="CSV", help="per-image scores (default: evaluate.per_image_file)")
    parser.add_argument("--grid-file", metavar="PNG", help="comparison grid (default: evaluate.grid_file)")
    parser.add_argument("--mode", choices=("full", "tiled"), help="fusion protocol (default: evaluate.mode)")
    parser.add_argument("--max-images", type=int, metavar="N", help="score only the first N pairs (default: evaluate.max_images)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="default: evaluate.device")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from ivif.data.config import DataConfig
    from ivif.evaluation import EvaluateConfig
    from ivif.evaluation.run import evaluate_to_files
    from ivif.params import load_params, section

    params = load_params(args.params)
    config = _with_overrides(section(params, "evaluate", EvaluateConfig), args)
    data = Path(args.data or section(params, "data", DataConfig).cache_dir(config.dataset, config.split))
    outputs = evaluate_to_files(args.model, data, config, args.metrics_file, args.per_image_file, args.grid_file)
    means = "  ".join(f"{k} {v:.4g}" for k, v in outputs.result.means.items())
    print(f"{args.model} on {data} ({len(outputs.result.per_image)} pairs, {outputs.result.convention}): {means}")
    print("wrote " + ", ".join(str(p) for p in outputs.written))
    return 0


def _with_overrides(config, args):
    overrides = {"mode": args.mode, "max_images": args.max_images, "device": args.device}
    return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
