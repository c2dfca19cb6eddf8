"""Prefect flow: run a paradigm study (every cell a task), then write its report.

    python -m flows.study studies/smoke.yaml                 # local, one cell at a time
    python -m flows.study studies/paradigms-cpu.yaml --jobs 2  # two cells at once, cores split
    python -m flows.study studies/smoke.yaml --cluster local --jobs 2   # a real Dask LocalCluster
    python -m flows.study studies/paper-gpu.yaml --cluster tcp://host:8786 --gpu-per-cell 0.25
    python -m flows.study studies/paradigms-cpu.yaml --dry-run  # cells, status, estimated hours

Local (default): Prefect's thread pool runs ``--jobs`` cells at once; each cell is its
own process with cores/jobs torch threads. ``--cluster``: prefect-dask's DaskTaskRunner;
``local`` starts a ``distributed.LocalCluster`` (``--jobs`` worker processes, one thread
each), an address uses an existing scheduler. GPUs: start each Dask worker with
``--resources GPU=1`` (one per device) and pass ``--gpu-per-cell 0.25``: every cell task
is annotated with that fractional ``GPU`` resource, so four small models share a device.
A finished cell is skipped on a rerun and a half-trained one resumes from its checkpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from ivif.study.cells import expand, run_order
from ivif.study.runner import (
    Progress,
    estimate,
    prepare,
    run_cell_process,
    status_table,
    threads_per_cell,
    write_report,
)
from ivif.study.spec import load_study
from ivif.study.tracking import close_parent_run, open_parent_run


@task(name="study-prepare", cache_policy=NO_CACHE)
def prepare_task(study_path: str, root: str) -> str | None:
    study = load_study(study_path, root)
    prepare(study, expand(study))
    return open_parent_run(study)


@task(name="study-cell", cache_policy=NO_CACHE, task_run_name="cell-{cell_id:.12}")
def cell_task(study_path: str, root: str, cell_id: str, parent: str | None, threads: int) -> dict:
    study = load_study(study_path, root)
    cell = next(c for c in expand(study) if c.id == cell_id)
    record = run_cell_process(study, cell, parent, threads)
    return {k: record.get(k) for k in ("cell_id", "short_id", "label", "status", "error", "wall_s", "skipped")}


@task(name="study-report", cache_policy=NO_CACHE)
def report_task(study_path: str, root: str, parent: str | None, failed: int) -> str:
    study = load_study(study_path, root)
    close_parent_run(study, parent, failed)
    return str(write_report(study))


@flow(name="ivif-study")
def study_flow(study_path: str, root: str | None = None, threads: int = 1, gpu_per_cell: float = 0.0) -> dict:
    """Run every cell of the study (skipping finished ones), then write reports/<study>/."""
    logger = get_run_logger()
    root = root or str(Path.cwd())
    study = load_study(study_path, root)
    cells = run_order(expand(study))
    parent = prepare_task(study_path, root)
    annotate = contextlib.nullcontext()
    if gpu_per_cell:
        import dask

        annotate = dask.annotate(resources={"GPU": gpu_per_cell})
    with annotate:
        futures = [cell_task.submit(study_path, root, cell.id, parent, threads) for cell in cells]
    progress = Progress(len(cells), logger.info)
    failed = 0
    for future in as_completed(futures):
        record = future.result()
        failed += record.get("status") == "failed"
        progress.finished(record)
    report = report_task(study_path, root, parent, failed)
    logger.info("report: %s (%d cell(s) failed)", report, failed)
    return {"report": report, "cells": len(cells), "failed": failed}


def task_runner(jobs: int, cluster: str | None, gpus: int = 0):
    """Prefect task runner: threads locally, or prefect-dask's DaskTaskRunner on a cluster."""
    if cluster is None:
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=jobs)
    from prefect_dask import DaskTaskRunner

    if cluster == "local":
        kwargs = {"n_workers": jobs, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
        if gpus:
            kwargs["resources"] = {"GPU": gpus}
        return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=kwargs)
    return DaskTaskRunner(address=cluster)


@contextlib.contextmanager
def shared_prefect_api():
    """One Prefect API for this process and every worker process it starts.

    Without ``PREFECT_API_URL``, each Dask worker would start its own temporary server;
    here one is started (or the current one, e.g. a test harness's, is reused) and its
    URL exported so that worker processes inherit it.
    """
    import os

    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = PREFECT_API_URL.value()
    server = None
    if not url:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start(timeout=120)
        url = server.api_url
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        if server is not None:
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=5)  # the run's last log lines, before their server goes
            server.stop()


def run(study_path: str, jobs: int = 1, cluster: str | None = None, threads: int | None = None,
        gpu_per_cell: float = 0.0, gpus: int = 0, root: str | None = None) -> dict:  # fmt: skip
    """Run the study flow with the chosen task runner (what ``main`` and the tests call)."""
    threads = threads or (threads_per_cell(jobs) if cluster in (None, "local") else 1)
    with shared_prefect_api():
        runner = task_runner(jobs, cluster, gpus)
        return study_flow.with_options(task_runner=runner)(study_path, root or str(Path.cwd()), threads, gpu_per_cell)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.study", description=__doc__.splitlines()[0])
    parser.add_argument("study", help="study file, e.g. studies/smoke.yaml")
    parser.add_argument("--jobs", type=int, default=1, help="cells at once (local processes or LocalCluster workers)")
    parser.add_argument("--cluster", metavar="local|ADDRESS", help="run on Dask: 'local' starts a LocalCluster, or tcp://host:port")
    parser.add_argument("--threads", type=int, help="torch threads per cell (default: cores/jobs locally, 1 on a remote cluster)")
    parser.add_argument(
        "--gpu-per-cell", type=float, default=0.0, help="fractional GPU resource per cell on Dask workers started with --resources GPU=1"
    )
    parser.add_argument("--gpus", type=int, default=0, help="GPU resource of each LocalCluster worker (with --cluster local)")
    parser.add_argument("--dry-run", action="store_true", help="list cells with status and estimated hours; run nothing")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    study = load_study(args.study)
    if args.dry_run:
        cells = expand(study)
        for row in status_table(study):
            print(f"{row['cell']}  {row['status']:8s} {row['label']}  [{row['blocks']}]")
        est = estimate(study, cells)
        print(f"{est['cells']} cells; estimated {est['estimated_hours_total']:.2f} h on this machine at --jobs 1 "
              f"({est['estimated_hours_pending']:.2f} h still to run)")  # fmt: skip
        return 0
    summary = run(args.study, args.jobs, args.cluster, args.threads, args.gpu_per_cell, args.gpus)
    print(f"report: {summary['report']}  ({summary['cells']} cells, {summary['failed']} failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
