"""The ``ivif`` command line: a thin dispatcher over per-command modules.

Each command lives in its own module under ``ivif.cli`` exposing
``add_parser(subparsers) -> argparse.ArgumentParser`` whose parser sets
``func=run(args) -> int``. Command modules import heavy libraries (torch, mlflow)
inside ``run`` so that ``ivif --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ivif import __version__

# command name -> module implementing it
COMMANDS = {
    "data": "ivif.cli.data",
    "pairs": "ivif.cli.pairs",
    "fuse": "ivif.cli.fuse",
    "import-upstream": "ivif.cli.import_upstream",
    "metrics": "ivif.cli.metrics",
    "train": "ivif.cli.train",
    "evaluate": "ivif.cli.evaluate",
    "registry": "ivif.cli.registry",
    "study": "ivif.cli.study",
}


class CLIError(Exception):
    """An error to report to the user as one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivif", description="Infrared-visible image fusion pipeline.")
    parser.add_argument("--version", action="version", version=f"ivif {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # a real missing dependency, not a missing command
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, FileNotFoundError, ValueError) as exc:
        # Library errors carry the offending file and the fix in their message.
        print(f"ivif {args.command}: error: {exc}", file=sys.stderr)
        return 1
