"""Running one cell: manifest -> train (resumable) -> evaluate on every test set -> result.json.

The cell folder ``<work_dir>/cells/<short id>/`` holds::

    config.json          the resolved config (its sha256 is the cell id)
    manifest/            the pairing manifest
    run/                 the training run (model.pt, checkpoints/last.pt, loss.csv)
    train_starts.log     one line per time training started (resume tests count them)
    scores/<test>.csv    per-image scores on each test set
    fused/<test>/*.png   thumbnails of the fused test images (the report's gallery)
    result.json          written last, atomically: the cell is done
    error.json           the last failure (the cell is retried on the next run)

:func:`train_config_for` and :func:`run_paths_for` are the only places a cell's
:class:`TrainConfig` and :class:`RunPaths` are built.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import socket
import subprocess
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ivif.data.cache import ImageCache
from ivif.data.registry import TEST, TRAIN
from ivif.io.atomic import atomic_write_bytes, atomic_write_text
from ivif.params import from_mapping
from ivif.study.cells import REFERENCE_KIND, Cell, cell_dir
from ivif.study.spec import ALL, Study
from ivif.training.config import TrainConfig
from ivif.training.paths import RunPaths

log = logging.getLogger(__name__)

RESULT_FILE = "result.json"
ERROR_FILE = "error.json"
CONFIG_FILE = "config.json"
STARTS_FILE = "train_starts.log"
MLFLOW_RUN_FILE = "mlflow_run.txt"


# ------------------------------------------------------------------ construction
def train_config_for(cell: Cell) -> TrainConfig:
    """The cell's TrainConfig (the one place it is built)."""
    return from_mapping(TrainConfig, cell.config["train"], where=f"cell {cell.short_id} train")


def side_dataset(study: Study, cell: Cell, side: str) -> str:
    """Cache name of the IR (``side='ir'``) or visible side: a dataset or a scene group's cache."""
    from ivif.study.groups import group_dataset

    entry = cell.config[side]
    return group_dataset(study, entry["dataset"], entry.get("group"))


def run_paths_for(study: Study, cell: Cell) -> RunPaths:
    """Where the cell's training reads and writes (the one place its RunPaths is built)."""
    folder = cell_dir(study, cell)
    out = folder / "run"
    return RunPaths(
        manifest=folder / "manifest",
        ir_cache=study.cache_root / side_dataset(study, cell, "ir") / TRAIN,
        vis_cache=study.cache_root / side_dataset(study, cell, "vis") / TRAIN,
        eval_cache=None,  # the study scores every test set after training
        out_dir=out,
        metrics=out / "metrics.json",
        plots=out / "loss.csv",
    )


def manifest_plan(study: Study, cell: Cell):
    """The cell's ManifestSpec and the minimum pairs per training epoch."""
    from ivif.pairing.config import ManifestSpec
    from ivif.pairing.policies import count_combinations

    c = cell.config
    ir_name, vis_name = side_dataset(study, cell, "ir"), side_dataset(study, cell, "vis")
    n_ir = len(ImageCache(study.cache_root / ir_name / TRAIN))
    n_vis = len(ImageCache(study.cache_root / vis_name / TRAIN))
    subset = None if c["n"] == ALL else int(c["n"])
    base_ir, base_vis = (n_ir, n_vis) if subset is None else (subset, subset)
    samples, min_epoch = None, 0
    budget = c["budget"]
    if budget["kind"] == "paper" and c["paradigm"] != "sptp":
        min_epoch = budget["samples_per_base"] * base_ir
        combos = count_combinations(base_ir, base_vis, c["paradigm"])
        samples = min(min_epoch, combos)
    spec = ManifestSpec(policy=c["paradigm"], ir=ir_name, vis=vis_name, split=TRAIN, subset=subset, samples=samples, seed=c["seed"])
    return spec, min_epoch, base_ir


# --------------------------------------------------------------------- status
def cell_status(study: Study, cell: Cell) -> str:
    """``done`` | ``failed`` | ``partial`` (a checkpoint to resume) | ``pending``."""
    folder = cell_dir(study, cell)
    if (folder / RESULT_FILE).is_file():
        return "done"
    if (folder / ERROR_FILE).is_file():
        return "failed"
    if (folder / "run" / "checkpoints" / "last.pt").is_file():
        return "partial"
    return "pending"


def read_result(study: Study, cell: Cell) -> dict[str, Any] | None:
    path = cell_dir(study, cell) / RESULT_FILE
    return json.loads(path.read_text()) if path.is_file() else None


# ---------------------------------------------------------------------- running
def run_cell(study: Study, cell: Cell, parent_run_id: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """Run ``cell`` to completion unless it is done; never raises for a cell's own failure.

    Returns the result record (``status: ok``) or a failure record (``status: failed``,
    also written to ``error.json``).
    """
    folder = cell_dir(study, cell)
    existing = read_result(study, cell)
    if existing is not None:
        return {**existing, "skipped": True}
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / CONFIG_FILE, json.dumps(cell.config, indent=2, sort_keys=True) + "\n")
    if threads:
        import torch

        torch.set_num_threads(threads)
    tracker = _Tracker(study, cell, parent_run_id)
    started = time.time()
    try:
        with tracker:
            record = _run_reference(study, cell) if cell.kind == REFERENCE_KIND else _run_training(study, cell, tracker)
            record.update(_identity_fields(cell), status="ok", wall_s=time.time() - started,
                          host=socket.gethostname(), threads=_threads(), commit=git_commit(study.root), finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))  # fmt: skip
            tracker.log_result(record)
    except Exception as exc:  # noqa: BLE001 - a failing cell must not fail the study
        failure = {**_identity_fields(cell), "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc(), "wall_s": time.time() - started}  # fmt: skip
        atomic_write_text(folder / ERROR_FILE, json.dumps(failure, indent=2, sort_keys=True) + "\n")
        log.error("cell %s (%s) failed: %s", cell.short_id, cell.label, failure["error"])
        return failure
    (folder / ERROR_FILE).unlink(missing_ok=True)
    atomic_write_text(folder / RESULT_FILE, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def git_commit(root: Path) -> str:
    """The project's short git commit (``unknown`` outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _identity_fields(cell: Cell) -> dict[str, Any]:
    return {"cell_id": cell.id, "short_id": cell.short_id, "label": cell.label, "blocks": list(cell.blocks), "axes": cell.axes()}


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def _run_training(study: Study, cell: Cell, tracker: _Tracker) -> dict[str, Any]:
    from ivif.models.checkpoint import load_model
    from ivif.pairing.build import build_manifest
    from ivif.pairing.manifest import read_summary
    from ivif.study.epochs import StudyTrainer

    config = train_config_for(cell)
    paths = run_paths_for(study, cell)
    spec, min_epoch, base = manifest_plan(study, cell)
    manifest_s = 0.0
    if not (paths.manifest / "manifest.json").is_file():
        t0 = time.perf_counter()
        build_manifest(paths.manifest.name, spec, study.cache_root, paths.manifest.parent, progress=False)
        manifest_s = time.perf_counter() - t0
        atomic_write_text(paths.manifest / "build_seconds.txt", f"{manifest_s:.6f}\n")
    else:
        seconds = paths.manifest / "build_seconds.txt"
        manifest_s = float(seconds.read_text()) if seconds.is_file() else 0.0
    summary = read_summary(paths.manifest)
    with (cell_dir(study, cell) / STARTS_FILE).open("a") as fh:
        fh.write(f"{time.time():.3f} {os.getpid()}\n")
    trainer = StudyTrainer(config, paths, callbacks=[tracker], progress=False, min_epoch=min_epoch)
    t0 = time.perf_counter()
    resumed_from = 0
    if paths.last_state.is_file():
        from ivif.training.checkpoint import load_state

        resumed_from = int(load_state(paths.last_state)["step"])
    # "auto": a checkpoint of another identity (the code changed between sittings) is
    # set aside and the cell trains afresh, logging why, instead of failing on every rerun.
    result = trainer.fit(resume="auto")
    train_s = time.perf_counter() - t0
    resumed_from = resumed_from if trainer.resumed else 0
    if not result.completed:
        raise RuntimeError(f"training stopped at step {result.step}/{result.total_steps}; rerun the study to resume it")
    steps_now = result.step - resumed_from
    s_per_step = train_s / steps_now if steps_now else float("nan")
    model = load_model(paths.model_file)
    tests, eval_s = _evaluate_all(study, cell, model)
    return {
        "n_base": base,
        "pairs_per_epoch": summary["counts"]["pairs_per_epoch"],
        "combinations": summary["counts"]["combinations"],
        "steps": result.step,
        "batch_size": config.batch_size,
        "patch_size": config.patch_size,
        "pairs_seen": result.step * config.batch_size,
        "train_s": train_s,
        "resumed_from_step": resumed_from,
        "s_per_step": s_per_step,
        "patches_per_s": config.batch_size / s_per_step if steps_now else float("nan"),
        "manifest_build_s": manifest_s,
        "final_loss": result.losses.get("loss/total"),
        "eval_s": eval_s,
        "tests": tests,
    }


def _run_reference(study: Study, cell: Cell) -> dict[str, Any]:
    from ivif.models.spec import load_model_from_spec

    spec = cell.config["model_spec"]
    if spec.startswith("upstream:"):
        kind, _, path = spec[len("upstream:") :].partition(":")
        if path and not Path(path).is_absolute():
            spec = f"upstream:{kind}:{study.root / path}"
    model = load_model_from_spec(spec)
    tests, eval_s = _evaluate_all(study, cell, model)
    return {"eval_s": eval_s, "tests": tests}


def _evaluate_all(study: Study, cell: Cell, model) -> tuple[dict[str, Any], float]:
    """Score ``model`` on every test set; per-image CSVs and fused thumbnails in the cell folder."""
    from ivif.evaluation import evaluate_model

    config = study.evaluate_config()
    folder = cell_dir(study, cell)
    tests: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name in study.test_sets:
        cache = ImageCache(study.cache_root / name / TEST)
        count = len(cache) if config.max_images is None else min(config.max_images, len(cache))
        result = evaluate_model(model, cache, config, keep_samples=count, description=f"evaluate {name}")
        _write_scores(folder / "scores" / f"{name}.csv", result)
        for sample in result.samples:
            atomic_write_bytes(folder / "fused" / name / f"{sample.name}.png", _thumbnail_png(sample.fused, study.thumbnail_height))
        tests[name] = {"images": len(result.per_image), "means": result.means}
    return tests, time.perf_counter() - t0


def _write_scores(path: Path, result) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["image", *result.metrics])
    for row in result.per_image:
        writer.writerow([row.name, *(repr(float(row.scores[m])) for m in result.metrics)])
    atomic_write_text(path, buffer.getvalue())


def _thumbnail_png(image: np.ndarray, height: int) -> bytes:
    from PIL import Image

    pil = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image)
    width = max(1, round(pil.width * height / pil.height))
    buffer = io.BytesIO()
    pil.resize((width, height), Image.BILINEAR).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------- MLflow
class _Tracker:
    """The cell's MLflow child run (a training callback too); inert when tracking is off."""

    def __init__(self, study: Study, cell: Cell, parent_run_id: str | None):
        self.study, self.cell, self.parent = study, cell, parent_run_id
        self.client = None
        self.run_id: str | None = None

    def __enter__(self):
        if not self.parent:
            return self
        from ivif.study.tracking import open_child_run

        self.client, self.run_id = open_child_run(self.study, self.cell, self.parent)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.client is not None:
            self.client.set_terminated(self.run_id, status="FAILED" if exc_type else "FINISHED")
        return False

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None:
        if self.client is not None:
            from mlflow.entities import Metric

            stamp = int(time.time() * 1000)
            batch = [Metric(key.replace("/", "_"), float(v), stamp, step) for key, v in metrics.items()]
            self.client.log_batch(self.run_id, metrics=batch)

    def log_result(self, record: Mapping[str, Any]) -> None:
        if self.client is None:
            return
        for name, test in record.get("tests", {}).items():
            for metric, value in test["means"].items():
                if np.isfinite(value):
                    self.client.log_metric(self.run_id, f"{name}_{metric}", float(value))
        for key in ("s_per_step", "patches_per_s", "manifest_build_s", "train_s", "eval_s", "wall_s"):
            value = record.get(key)
            if isinstance(value, (int, float)) and np.isfinite(value):
                self.client.log_metric(self.run_id, key, float(value))
