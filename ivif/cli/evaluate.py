"""``ivif evaluate``: score a model on a held-out split; write metrics, per-image scores, grid.

Examples::

    ivif evaluate --model models/cnn-aptp/model.pt               # params.yaml evaluate: section
    ivif evaluate --model models:/ivif-cnn-aptp@champion --data data/cache/msrs/test
    ivif evaluate --model upstream:cnn:../shared/weights/upstream/cnn.model --mode tiled --out-dir runs/upstream

By hand it never overwrites the pipeline's tracked outputs: files go to ``--out-dir``
(default ``runs/evaluate/<UTC time>/``: ``metrics.json``, ``per_image.csv``,
``grid.png``) unless a file is named explicitly, as the DVC stage ``evaluate`` does.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from ivif.params import DEFAULT_PARAMS

ADHOC_RUNS = Path("runs") / "evaluate"
STAMP_FORMAT = "%Y%m%d-%H%M%S"
METRICS_NAME, PER_IMAGE_NAME, GRID_NAME = "metrics.json", "per_image.csv", "grid.png"


def adhoc_out_dir(root: str | Path = ".", now: float | None = None) -> Path:
    """``<root>/runs/evaluate/<UTC time>/``: where an evaluation by hand writes by default."""
    return Path(root) / ADHOC_RUNS / time.strftime(STAMP_FORMAT, time.gmtime(now))


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("evaluate", help="score a model on a held-out split (metrics JSON, per-image CSV, grid)")
    parser.add_argument("--model", required=True, metavar="SPEC", help="checkpoint path, upstream:<model>:<path> or models:/NAME@ALIAS")
    parser.add_argument(
        "--data", metavar="DIR", help="cache split to score (default: <data.cache_root>/<evaluate.dataset>/<evaluate.split>)"
    )
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.add_argument("--out-dir", metavar="DIR", help="folder of the outputs not named below (default: runs/evaluate/<UTC time>/)")
    parser.add_argument("--metrics-file", metavar="JSON", help="mean scores (default: <out-dir>/metrics.json)")
    parser.add_argument("--per-image-file", metavar="CSV", help="per-image scores (default: <out-dir>/per_image.csv)")
    parser.add_argument("--grid-file", metavar="PNG", help="comparison grid (default: <out-dir>/grid.png)")
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
    from ivif.registry.loading import enable_model_uris, lookup_store

    params = load_params(args.params)
    config = _with_overrides(section(params, "evaluate", EvaluateConfig), args)
    data = Path(args.data or section(params, "data", DataConfig).cache_dir(config.dataset, config.split))
    enable_model_uris(lookup_store(args.params))  # models:/ specs: the params' store, never a new one
    named = (args.metrics_file, args.per_image_file, args.grid_file)
    out_dir = Path(args.out_dir) if args.out_dir else (None if all(named) else adhoc_out_dir())
    outputs = evaluate_to_files(
        args.model,
        data,
        config,
        args.metrics_file or out_dir / METRICS_NAME,
        args.per_image_file or out_dir / PER_IMAGE_NAME,
        args.grid_file or out_dir / GRID_NAME,
    )
    means = "  ".join(f"{k} {v:.4g}" for k, v in outputs.result.means.items())
    print(f"{args.model} on {data} ({len(outputs.result.per_image)} pairs, {outputs.result.convention}): {means}")
    print("wrote " + ", ".join(str(p) for p in outputs.written))
    return 0


def _with_overrides(config, args):
    overrides = {"mode": args.mode, "max_images": args.max_images, "device": args.device}
    return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
