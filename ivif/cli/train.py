"""``ivif train``: train the model named in params.yaml on its paradigm's manifest.

Examples::

    ivif train                                   # params.yaml train: section
    ivif train train.model=gan train.paradigm=uptp train.epochs=3
    ivif train --resume                          # continue models/<model>-<paradigm>/
    torchrun --nproc_per_node 4 -m ivif train    # DDP, one manifest share per rank
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ivif.params import DEFAULT_PARAMS


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train",
        help="train a fusion model (params.yaml train: section), tracked in MLflow",
        description="Train train.model under train.paradigm; overrides like train.lr=1e-3 follow the options.",
    )
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE", help="params overrides, e.g. train.epochs=3")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoints/last.pt (fresh start if none)")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: models/<model>-<paradigm>)")
    parser.add_argument("--metrics", metavar="FILE", help="final metrics JSON (default: <out>/metrics.json)")
    parser.add_argument("--plots", metavar="FILE", help="loss-curve CSV (default: <out>/loss.csv)")
    parser.add_argument("--no-track", action="store_true", help="do not record the run in MLflow (no registration)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--stop-after", type=int, metavar="STEPS", help=argparse.SUPPRESS)  # interruption drills
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from ivif.params import load_params
    from ivif.training.interrupt import EXIT_CODE_BASE
    from ivif.training.run import apply_overrides, is_main_process, train_from_params

    params_path = Path(args.params)
    params = apply_overrides(load_params(params_path), args.overrides)
    outcome = train_from_params(
        params,
        root=params_path.resolve().parent,
        out_dir=args.out,
        metrics=args.metrics,
        plots=args.plots,
        resume=args.resume,
        track=not args.no_track,
        progress=not args.no_progress,
        stop_after_steps=args.stop_after,
    )
    result = outcome.result
    if result.interrupted_by is not None:
        print(
            f"interrupted by {result.interrupted_by.name} at step {result.step}/{result.total_steps}; "
            f"{result.paths.last_state} holds that step: run the same command with --resume to continue",
            file=sys.stderr,
        )
        return EXIT_CODE_BASE + int(result.interrupted_by)
    if is_main_process():
        status = "stopped" if result.stopped_early else "done"
        print(f"{status} at step {result.step}/{result.total_steps}: {result.paths.model_file}")
        if outcome.model_version is not None:
            version = outcome.model_version
            print(f"registered {version.name} version {version.version} (aliases: {', '.join(version.aliases)})")
    return 0
