"""Run one study cell in this process: ``python -m ivif.study.worker STUDY CELL_ID [--parent RUN] [--threads T]``.

Started by :func:`ivif.study.runner.run_cell_process`; exits 0 whether the cell succeeded
or recorded its failure (``error.json``), non-zero only when it could not even start.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivif.study.worker", description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("cell_id")
    parser.add_argument("--root", help="project root the study's paths are relative to (default: cwd)")
    parser.add_argument("--parent", help="MLflow parent run id of the study")
    parser.add_argument("--threads", type=int, help="torch threads for this cell")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from ivif.study.cell import run_cell
    from ivif.study.runner import find_cell
    from ivif.study.spec import load_study

    study = load_study(args.study, args.root)
    cell = find_cell(study, args.cell_id)
    record = run_cell(study, cell, args.parent, args.threads)
    print(json.dumps({"cell": cell.short_id, "status": record["status"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
