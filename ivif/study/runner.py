"""Running a study: prepare data, run each unfinished cell in its own process, write the report.

A cell runs as ``python -m ivif.study.worker STUDY CELL_ID`` so that one cell's crash
(or a kill) loses nothing of the others and its torch thread count is its own. The
Prefect flow ``flows/study.py`` and ``ivif study run`` both call :func:`run_cell_process`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ivif.io.atomic import atomic_write_text
from ivif.study.cell import ERROR_FILE, RESULT_FILE, cell_status, read_result
from ivif.study.cells import Cell, cell_dir, expand, run_order
from ivif.study.spec import Study, load_study

log = logging.getLogger(__name__)

# Rough CPU cost model for estimates (measured on the 2-core CI machine, CNN at 32², batch 4:
# ~0.08 s/step, i.e. ~2e-5 s per patch pixel; Transformer and GAN relative to the CNN).
SECONDS_PER_PATCH_PIXEL = {"cnn": 2.0e-5, "transformer": 8.0e-5, "gan": 3.0e-5}
EVAL_SECONDS_PER_IMAGE = 0.6
CELL_OVERHEAD_S = 6.0  # process start, torch import, manifest, checkpoint


def prepare(study: Study, cells: list[Cell]) -> None:
    """Cache every dataset, assign scene groups when a cell needs them, keep work files out of git."""
    from ivif.study.data import prepare_study_data

    for folder in (study.work_dir, study.data_root):
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.is_file():
            atomic_write_text(ignore, "# study work files (caches, runs, MLflow store): not for git\n*\n")
    prepare_study_data(study)
    if any(c.config.get("constraint", "none") != "none" for c in cells):
        from ivif.study.groups import prepare_groups

        prepare_groups(study)


def worker_command(study: Study, cell: Cell, parent_run_id: str | None, threads: int) -> list[str]:
    cmd = [sys.executable, "-m", "ivif.study.worker", str(study.path.resolve()), cell.id, "--root", str(study.root.resolve()),
           "--threads", str(threads)]  # fmt: skip
    if parent_run_id:
        cmd += ["--parent", parent_run_id]
    return cmd


def run_cell_process(
    study: Study, cell: Cell, parent_run_id: str | None, threads: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one cell in a fresh interpreter; returns its result or failure record."""
    existing = read_result(study, cell)
    if existing is not None:
        return {**existing, "skipped": True}
    child_env = {**os.environ, **(env or {}), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    started = time.time()
    proc = subprocess.run(worker_command(study, cell, parent_run_id, threads), env=child_env, capture_output=True, text=True, check=False)
    result = read_result(study, cell)
    if result is not None:
        return result
    error_path = cell_dir(study, cell) / ERROR_FILE
    if error_path.is_file() and proc.returncode == 0:
        return json.loads(error_path.read_text())
    failure = {"cell_id": cell.id, "short_id": cell.short_id, "label": cell.label, "status": "failed",
               "error": f"worker exited with code {proc.returncode}: {proc.stderr.strip()[-2000:]}", "wall_s": time.time() - started}  # fmt: skip
    cell_dir(study, cell).mkdir(parents=True, exist_ok=True)
    atomic_write_text(error_path, json.dumps(failure, indent=2, sort_keys=True) + "\n")
    return failure


class Progress:
    """One log line per finished cell, with an ETA from the wall time per cell run in this sitting
    (cells skipped as done before take no time, so they do not count towards it)."""

    def __init__(self, total: int, emit: Callable[[str], None]):
        self.total, self.done, self.ran, self.started, self.emit = total, 0, 0, time.time(), emit

    def finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.ran += 0 if record.get("skipped") else 1
        elapsed = time.time() - self.started
        eta = _hms(elapsed / self.ran * (self.total - self.done)) if self.ran else "unknown"
        state = "skipped (done before)" if record.get("skipped") else record.get("status", "?")
        extra = f": {record.get('error', '')[:160]}" if record.get("status") == "failed" else ""
        self.emit(f"[{self.done}/{self.total}] {record.get('label', record.get('short_id'))} {state} "
                  f"in {record.get('wall_s', 0.0):.1f} s; elapsed {_hms(elapsed)}, ETA {eta}{extra}")  # fmt: skip


def _hms(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def threads_per_cell(jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(jobs, 1))


def run_study(study: Study, jobs: int = 1, emit: Callable[[str], None] = print, report: bool = True) -> Path | None:
    """Run every unfinished cell with ``jobs`` worker processes (no Prefect), then the report (unless ``report=False``)."""
    from ivif.study.tracking import close_parent_run, open_parent_run

    cells = run_order(expand(study))
    prepare(study, cells)
    parent = open_parent_run(study)
    progress = Progress(len(cells), emit)
    threads = threads_per_cell(jobs)
    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_cell_process, study, cell, parent, threads) for cell in cells]
        for future in as_completed(futures):
            record = future.result()
            failed += record.get("status") == "failed"
            progress.finished(record)
    close_parent_run(study, parent, failed)
    return write_report(study, cells) if report else None


def write_report(study: Study, cells: list[Cell] | None = None) -> Path:
    from ivif.study.collect import collect
    from ivif.study.report import render

    return render(collect(study, cells))


def estimate(study: Study, cells: list[Cell]) -> dict[str, Any]:
    """Cells and expected CPU hours (an estimate from :data:`SECONDS_PER_PATCH_PIXEL`), pending cells only."""
    pending_s, total_s = 0.0, 0.0
    eval_images = study.evaluate_config().max_images
    for cell in cells:
        images = (eval_images or 50) * len(study.test_sets)
        seconds = CELL_OVERHEAD_S + EVAL_SECONDS_PER_IMAGE * images
        if cell.kind == "train":
            train = cell.config["train"]
            steps = cell.config["budget"].get("steps")
            if steps is None:  # paper protocol: epochs of N (SPTP) or 100·N pairs; N unknown for 'all'
                n = 200 if cell.config["n"] == "all" else int(cell.config["n"])
                per_epoch = n if cell.config["paradigm"] == "sptp" else cell.config["budget"]["samples_per_base"] * n
                steps = max(1, per_epoch // train["batch_size"]) * cell.config["budget"]["epochs"]
            seconds += steps * train["batch_size"] * train["patch_size"] ** 2 * SECONDS_PER_PATCH_PIXEL[train["model"]]
        total_s += seconds
        if cell_status(study, cell) != "done":
            pending_s += seconds
    return {"cells": len(cells), "estimated_hours_total": total_s / 3600, "estimated_hours_pending": pending_s / 3600}


def status_table(study: Study) -> list[dict[str, str]]:
    rows = []
    for cell in run_order(expand(study)):  # listed in the order they run
        result = read_result(study, cell) or {}
        rows.append({"cell": cell.short_id, "status": cell_status(study, cell), "label": cell.label, "blocks": ",".join(cell.blocks),
                     "wall_s": f"{result['wall_s']:.1f}" if "wall_s" in result else ""})  # fmt: skip
    return rows


def find_cell(study: Study, cell_id: str) -> Cell:
    for cell in expand(study):
        if cell.id == cell_id or cell.short_id == cell_id:
            return cell
    raise ValueError(f"{study.path}: no cell {cell_id!r}; list them with `ivif study list {study.path}`")


def load(path: str | Path, root: str | Path | None = None) -> Study:
    return load_study(path, root)


__all__ = ["RESULT_FILE", "estimate", "find_cell", "prepare", "run_cell_process", "run_study", "status_table", "write_report"]
