"""``ivif metrics``: evaluate a folder of fused images under a metric convention."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ivif.metrics.conventions import CONVENTIONS, DEFAULT_CONVENTION  # light: no torch
    from ivif.metrics.names import ALL_METRICS

    parser = subparsers.add_parser(
        "metrics",
        help=f"compute fusion metrics ({', '.join(ALL_METRICS)}) for a folder",
        description="Match fused images to their IR and VI sources by file stem, compute every metric "
        "under a convention (one reproducing a reference evaluator), write a CSV and print the mean row.",
    )
    parser.add_argument("--ir", required=True, help="folder of infrared source images")
    parser.add_argument("--vi", required=True, help="folder of visible source images")
    parser.add_argument("--fused", required=True, help="folder of fused images (defines which images are evaluated)")
    parser.add_argument(
        "--convention",
        default=DEFAULT_CONVENTION,
        choices=sorted(CONVENTIONS),
        help=f"whose numbers to reproduce (default: {DEFAULT_CONVENTION}, the seed paper's evaluator)",
    )
    parser.add_argument("--names", help="comma-separated subset of metrics (default: all)")
    parser.add_argument("--out", help="write per-image metrics to this CSV")
    parser.add_argument("--json", help="write the mean row to this JSON (DVC metrics)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from ivif.allocator import freed_memory_retained
    from ivif.metrics.folders import evaluate_folders, mean_row, write_csv, write_json

    # Images are evaluated one at a time; a single image is too small for intra-op
    # threads to pay off, and on a busy machine their spin-waits make it many times slower.
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with freed_memory_retained():
            names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None
            rows = evaluate_folders(args.ir, args.vi, args.fused, convention=args.convention, names=names)
    finally:
        torch.set_num_threads(previous_threads)
    means = mean_row(rows)
    if args.out:
        write_csv(rows, args.out)
    if args.json:
        write_json({"convention": args.convention, "images": len(rows), **means}, args.json)
    print(f"{len(rows)} images, convention {args.convention}")
    print("\t".join(["image", *means]))
    print("\t".join(["mean", *(f"{v:.6f}" for v in means.values())]))
    return 0
