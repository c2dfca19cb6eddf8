"""``ivif train``: train the model named in params.yaml on the manifest ``train.manifest``.

Examples::

    ivif train                                   # params.yaml train: section -> models/<model>-<manifest>/
    ivif train train.model=gan train.manifest=uptp train.epochs=3
    ivif train --fresh                           # ignore the run folder's checkpoint
    ivif train --register                        # also register model.pt (ad hoc; DVC has a stage for it)
    torchrun --nproc_per_node 4 -m ivif train    # DDP, one manifest share per rank

A run folder's ``checkpoints/last.pt`` is resumed automatically when it was written by
the same run (same model, manifest, data, batch, patch, seed, loss, code...); any other
checkpoint is replaced by a fresh start, and a log line says why.
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
        description="Train train.model on the manifest train.manifest; overrides like train.lr=1e-3 follow the options.",
    )
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE", help="params overrides, e.g. train.epochs=3")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--resume", action="store_true", help="insist on continuing <out>/checkpoints/last.pt (an error if another run wrote it)"
    )
    start.add_argument("--fresh", action="store_true", help="start afresh even when the checkpoint could be resumed")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: models/<model>-<manifest>)")
    parser.add_argument("--metrics", metavar="FILE", help="final metrics JSON (default: <out>/metrics.json)")
    parser.add_argument("--plots", metavar="FILE", help="loss-curve CSV (default: <out>/loss.csv)")
    parser.add_argument("--no-track", action="store_true", help="do not record the run in MLflow")
    parser.add_argument("--register", action="store_true", help="register model.pt in the MLflow registry after training")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--stop-after", type=int, metavar="STEPS", help=argparse.SUPPRESS)  # interruption drills
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    from ivif.cli import CLIError
    from ivif.params import load_params
    from ivif.training.engine import AUTO
    from ivif.training.interrupt import EXIT_CODE_BASE
    from ivif.training.run import apply_overrides, is_main_process, train_from_params

    if args.register and args.no_track:
        raise CLIError("--register needs MLflow tracking: drop --no-track")
    params_path = Path(args.params)
    params = apply_overrides(load_params(params_path), args.overrides)
    train = train_from_params
    if args.register:  # the registry (above training) wraps it; imported only when asked
        from ivif.registry.register import train_and_register as train
    outcome = train(
        params,
        root=params_path.resolve().parent,
        out_dir=args.out,
        metrics=args.metrics,
        plots=args.plots,
        resume=True if args.resume else (False if args.fresh else AUTO),
        track=not args.no_track,
        progress=not args.no_progress,
        stop_after_steps=args.stop_after,
    )
    result = outcome.result
    if result.interrupted_by is not None:
        print(
            f"interrupted by {result.interrupted_by.name} at step {result.step}/{result.total_steps}; "
            f"{result.paths.last_state} holds that step: run the same command again to continue "
            "(it resumes by itself; --resume insists on it)",
            file=sys.stderr,
        )
        return EXIT_CODE_BASE + int(result.interrupted_by)
    if is_main_process():
        status = "stopped" if result.stopped_early else "done"
        print(f"{status} at step {result.step}/{result.total_steps}: {result.paths.model_file}")
        if outcome.model_version is not None:
            version = outcome.model_version
            print(f"registered {version.name} version {version.version} (aliases: {', '.join(version.aliases) or 'none'})")
    return 0
