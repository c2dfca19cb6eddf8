"""``ivif study``: list, run and report paradigm studies (``studies/<name>.yaml``).

Examples::

    ivif study list studies/paradigms-cpu.yaml     # cells, status, estimated hours
    ivif study run studies/smoke.yaml --jobs 2     # the same runner as the Prefect flow, without Prefect
    ivif study report studies/smoke.yaml           # collect the cells' results and write reports/smoke/
    ivif study report reports/smoke                # regenerate report.md from results.csv alone
    ivif study files studies/paradigms-cpu.yaml | xargs git add -f   # carry finished cells to the next sitting

The Prefect flow (with Dask cluster support) is ``python -m flows.study STUDY``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("study", help="paradigm studies: list cells, run, write the report")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="cells of a study with their status, and the estimated hours")
    listing.add_argument("study", help="study file, e.g. studies/smoke.yaml")
    listing.set_defaults(func=run_list)

    run = actions.add_parser("run", help="run every unfinished cell (no Prefect), then write the report")
    run.add_argument("study", help="study file")
    run.add_argument("--jobs", type=int, default=1, help="cells at once, each its own process (default: 1)")
    run.set_defaults(func=run_run)

    files = actions.add_parser("files", help="the small files that carry finished cells to another machine (for git add -f)")
    files.add_argument("study", help="study file")
    files.set_defaults(func=run_files)

    report = actions.add_parser("report", help="write reports/<study>/ from a study file, or regenerate a report folder")
    report.add_argument("target", metavar="STUDY_OR_DIR", help="a study file (collect + render) or a report folder (render only)")
    report.set_defaults(func=run_report)
    return parser


def run_list(args) -> int:
    from ivif.study.cells import expand
    from ivif.study.runner import estimate, status_table
    from ivif.study.spec import load_study

    study = load_study(args.study)
    rows = status_table(study)
    for row in rows:
        print(f"{row['cell']}  {row['status']:8s} {row['label']}  [{row['blocks']}]" + (f"  {row['wall_s']} s" if row["wall_s"] else ""))
    est = estimate(study, expand(study))
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "partial", "failed", "pending")}
    print(
        f"{est['cells']} cells ({', '.join(f'{v} {k}' for k, v in counts.items())}); estimated "
        f"{est['estimated_hours_total']:.2f} h in all at one cell at a time on this machine, "
        f"{est['estimated_hours_pending']:.2f} h still to run (an estimate, not a measurement)"
    )
    return 0


def run_files(args) -> int:
    """Print, one per line, the files :func:`ivif.study.collect.files_to_keep` names."""
    from ivif.study.collect import files_to_keep
    from ivif.study.spec import load_study

    for path in files_to_keep(load_study(args.study)):
        print(_relative_to_cwd(path))
    return 0


def _relative_to_cwd(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_run(args) -> int:
    from ivif.study.runner import run_study
    from ivif.study.spec import load_study

    if args.jobs < 1:
        raise ValueError("--jobs must be >= 1")
    report = run_study(load_study(args.study), jobs=args.jobs)
    print(f"report: {report}")
    return 0


def run_report(args) -> int:
    from ivif.study.report import render

    target = Path(args.target)
    if target.is_dir():
        print(f"report: {render(target)}")
        return 0
    from ivif.study.runner import write_report
    from ivif.study.spec import load_study

    print(f"report: {write_report(load_study(target))}")
    return 0
