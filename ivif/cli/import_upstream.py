"""``ivif import-upstream``: convert a released upstream checkpoint into an ivif checkpoint.

Example::

    ivif import-upstream --model cnn --src ../shared/weights/upstream/cnn.model --out models/upstream-cnn.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

UPSTREAM_MODELS = ("cnn", "gan", "transformer")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("import-upstream", help="convert a released upstream *.model into an ivif checkpoint")
    parser.add_argument("--model", required=True, choices=UPSTREAM_MODELS, help="architecture of the upstream checkpoint")
    parser.add_argument("--src", required=True, type=Path, help="upstream state_dict file (*.model)")
    parser.add_argument("--out", required=True, type=Path, help="ivif checkpoint to write")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ivif.models.upstream import import_upstream

    out = import_upstream(args.model, args.src, args.out)
    print(f"imported upstream {args.model} weights from {args.src} -> {out}")
    return 0
