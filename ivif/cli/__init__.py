"""The ``ivif`` command line: a thin dispatcher over per-command modules.

Each command lives in its own module under ``ivif.cli`` exposing
``add_parser(subparsers) -> argparse.ArgumentParser`` whose parser sets
``func=run(args) -> int``. Command modules import heavy libraries (torch, mlflow)
inside ``run`` so that ``ivif --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ivif import __version__
from ivif.io.atomic import DiskFullError

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
    "params": "ivif.cli.params",
}


class CLIError(Exception):
    """An error to report to the user as one line, without a traceback."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of command ``only`` (then only its module is
    imported: a DVC stage's command loads no other command's code)."""
    parser = argparse.ArgumentParser(prog="ivif", description="Infrared-visible image fusion pipeline.")
    parser.add_argument("--version", action="version", version=f"ivif {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # a real missing dependency, not a missing command
                raise
            continue
        module.add_parser(sub)
    return parser


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (it may be swapped after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # logging must never break the command
            self.handleError(record)


def configure_logging(level: int = logging.INFO) -> None:
    """The library logs through ``logging`` (``ivif.*`` loggers); the CLI shows them on stderr."""
    log = logging.getLogger("ivif")
    if not any(isinstance(handler, _StderrHandler) for handler in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, FileNotFoundError, ValueError, DiskFullError) as exc:
        # Library errors carry the offending file and the fix in their message (a full
        # disk too: DiskFullError names the file being written).
        print(f"ivif {args.command}: error: {exc}", file=sys.stderr)
        return 1
