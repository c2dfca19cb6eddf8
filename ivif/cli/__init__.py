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
    "params": "ivif.cli.params",
}
LOG_FORMAT = "%(message)s"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (pytest's capture swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging() -> None:
    """The library's INFO lines (``ivif.*`` loggers) on stderr; other libraries stay at WARNING."""
    logger = logging.getLogger("ivif")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.INFO)


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
    except (CLIError, FileNotFoundError, ValueError) as exc:
        # Library errors carry the offending file and the fix in their message.
        print(f"ivif {args.command}: error: {exc}", file=sys.stderr)
        return 1
