"""Gathering a study's cell folders into the report's data files (the report's only inputs).

``reports/<study>/`` receives:

- ``results.csv``: one row per cell × test set (axes, status, error, steps, wall time,
  s/step, patches/s, manifest build time, the mean of every metric);
- ``per_image.csv``: every cell's score of every test image (the paired tests' input);
- ``curves.csv``: every cell's training loss curve;
- ``study.json``: name, commit, metrics, control budget; ``groups.json`` when the study
  has scene groups;
- ``gallery/<test>.png``: the same test images fused by each paradigm, and the worst cases;
  ``gallery/scenes-<test>.png``: the images where across-group pairing trails within-group
  pairing most (Q4's failure cases), fused by each scene-constrained cell.

:func:`ivif.study.report.render` turns these files (and nothing else) into report.md
and the figures, so ``ivif study report reports/<study>`` regenerates it anywhere.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ivif.io.atomic import atomic_write_bytes, atomic_write_text
from ivif.study.cell import CONFIG_FILE, ERROR_FILE, RESULT_FILE, STARTS_FILE, git_commit
from ivif.study.cells import Cell, cell_dir, expand
from ivif.study.spec import Study

log = logging.getLogger(__name__)

RESULTS = "results.csv"
PER_IMAGE = "per_image.csv"
CURVES = "curves.csv"
STUDY_JSON = "study.json"
GROUPS_JSON = "groups.json"
GALLERY = "gallery"
AXES = ("kind", "model", "paradigm", "n", "seed", "budget", "ir", "vis", "constraint", "ir_group", "vis_group")
NUMBERS = ("commit", "n_base", "steps", "batch_size", "pairs_seen", "pairs_per_epoch", "wall_s", "train_s", "s_per_step",
           "patches_per_s", "manifest_build_s", "eval_s", "final_loss")  # fmt: skip
PRIMARY_METRICS = ("VIF", "Qabf", "MI", "SSIM")  # the first present is the report's headline metric


def primary_metric(study: Study) -> str:
    """The report's headline metric: the first of PRIMARY_METRICS the study evaluates."""
    metrics = list(study.evaluate_config().metrics)
    return next((m for m in PRIMARY_METRICS if m in metrics), metrics[0])


def control_budget(study: Study) -> str | None:
    """The equal-steps budget (``steps: S`` with no SPTP factor) Q1 compares under."""
    for name, budget in study.budgets.items():
        if budget.kind == "steps" and budget.sptp_factor == 1:
            return name
    return None


def collect(study: Study, cells: list[Cell] | None = None) -> Path:
    """Write the report's data files from the cell folders; returns the report folder."""
    cells = expand(study) if cells is None else cells
    out = study.report_dir
    metrics = list(study.evaluate_config().metrics)
    rows, image_rows, curve_rows = [], [], []
    for cell in cells:
        folder = cell_dir(study, cell)
        result = _read(folder / RESULT_FILE)
        error = _read(folder / ERROR_FILE)
        status = "done" if result else ("failed" if error else "pending")
        base = {"cell_id": cell.id, "short_id": cell.short_id, "label": cell.label, "blocks": " ".join(cell.blocks),
                **cell.axes(), "status": status, "error": (error or {}).get("error", "") if not result else ""}  # fmt: skip
        record = result or {}
        for test in study.test_sets:
            row = dict(base, test_set=test)
            row.update({k: record.get(k, "") for k in NUMBERS})
            means = record.get("tests", {}).get(test, {}).get("means", {})
            row.update({m: means.get(m, "") for m in metrics})
            rows.append(row)
            scores = folder / "scores" / f"{test}.csv"
            if result and scores.is_file():
                with scores.open(newline="") as fh:
                    for score in csv.DictReader(fh):
                        image_rows.append({"cell_id": cell.id, "test_set": test, **score})
        loss_csv = folder / "run" / "loss.csv"
        if result and loss_csv.is_file():
            with loss_csv.open(newline="") as fh:
                for entry in csv.DictReader(fh):
                    if entry.get("loss/total") not in (None, ""):
                        curve_rows.append({"cell_id": cell.id, "step": entry["step"], "loss_total": entry["loss/total"]})
    columns = ["cell_id", "short_id", "label", "blocks", *AXES, "status", "error", "test_set", *NUMBERS, *metrics]
    _write_csv(out / RESULTS, columns, rows)
    _write_csv(out / PER_IMAGE, ["cell_id", "test_set", "image", *metrics], image_rows)
    _write_csv(out / CURVES, ["cell_id", "step", "loss_total"], curve_rows)
    meta = {"name": study.name, "study_file": _relative(study.path, study.root), "report_dir": _relative(out, study.root), "commit": git_commit(study.root), "metrics": metrics,
            "primary_metric": primary_metric(study),
            "control_budget": control_budget(study), "train_dataset": study.train_dataset,
            "test_sets": list(study.test_sets), "ood_test_sets": [t for t in study.test_sets if study.datasets[t].test_only]}  # fmt: skip
    atomic_write_text(out / STUDY_JSON, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    groups = study.work_dir / GROUPS_JSON
    if groups.is_file():
        saved = json.loads(groups.read_text())
        atomic_write_text(out / GROUPS_JSON, json.dumps({"rule": saved["rule"], "summary": saved["summary"],
                                                          "test": saved["test"]}, indent=2, sort_keys=True) + "\n")  # fmt: skip
    _gallery(study, cells, out / GALLERY, meta["primary_metric"])
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


# ---------------------------------------------------------------------- gallery
def _gallery(study: Study, cells: list[Cell], out: Path, metric: str) -> None:
    """For the control budget's smallest N (model cnn, seed = lowest): one strip per test
    set of the same images fused by each paradigm, first ``gallery_images`` images and
    the ``gallery_images`` where APTP trails SPTP most on ``metric``."""
    budget = control_budget(study)
    scenes = _scene_gallery(study, cells, out, metric)
    choice = _gallery_choice(study, cells)
    if choice is None:
        if scenes:
            atomic_write_text(out / "gallery.json", json.dumps(scenes, indent=2) + "\n")
        return
    chosen, refs = choice
    model, n, seed = (next(iter(chosen.values())).axes()[k] for k in ("model", "n", "seed"))
    columns = [(p.upper(), chosen[p]) for p in ("sptp", "uptp", "aptp") if p in chosen] + [(r.config["name"], r) for r in refs]
    for test in study.test_sets:
        picks = _gallery_picks(study, chosen, test, metric)
        if not picks:
            continue
        image = _strip(study, test, picks, columns)
        if image is not None:
            atomic_write_bytes(out / f"{test}.png", image)
    atomic_write_text(out / "gallery.json", json.dumps({"model": model, "n": n, "seed": seed, "budget": budget,
                                                         "columns": [c for c, _ in columns], **scenes}, indent=2) + "\n")  # fmt: skip


SCENES_PREFIX = "scenes-"  # gallery/scenes-<test>.png: Q4's failure cases


def _scene_gallery(study: Study, cells: list[Cell], out: Path, metric: str) -> dict[str, Any]:
    """Q4's strips: per test set, the images where the across-group cells trail the within-group
    cells most on ``metric``, fused by each of those cells. Returns gallery.json's entry."""
    chosen = _scene_choice(study, cells)
    if not chosen:
        return {}
    columns = [(_scene_title(c), c) for c in chosen]
    for test in study.test_sets:
        picks = _scene_picks(study, chosen, test, metric)
        image = _strip(study, test, picks, columns) if picks else None
        if image is not None:
            atomic_write_bytes(out / f"{SCENES_PREFIX}{test}.png", image)
    first = chosen[0].axes()
    return {"scenes": {"model": first["model"], "n": first["n"], "seed": first["seed"], "columns": [t for t, _ in columns]}}


def _scene_title(cell: Cell) -> str:
    a = cell.axes()
    return f"{a['constraint']} {a['ir_group']}×{a['vis_group']}"


def _scene_choice(study: Study, cells: list[Cell]) -> list[Cell]:
    """The finished scene-constrained cells of one model/N/seed/budget (the first such
    group, lowest seed), when both an across and a within cell are among them."""
    done = [c for c in cells if c.kind != "reference" and c.axes()["constraint"] != "none"
            and (cell_dir(study, c) / RESULT_FILE).is_file()]  # fmt: skip
    key = lambda c: tuple(c.axes()[k] for k in ("model", "n", "budget")) + (int(c.axes()["seed"]),)
    for group in sorted({key(c) for c in done}):
        members = sorted((c for c in done if key(c) == group), key=lambda c: (c.axes()["constraint"], _scene_title(c)))
        if {"across", "within"} <= {c.axes()["constraint"] for c in members}:
            return members
    return []


def _scene_picks(study: Study, chosen: list[Cell], test: str, metric: str) -> list[tuple[str, str]]:
    """(why, image) rows: the ``gallery_images`` images with the lowest across − within mean score."""
    means: dict[str, list[dict[str, float]]] = {"across": [], "within": []}
    for cell in chosen:
        if (cell_dir(study, cell) / "scores" / f"{test}.csv").is_file():
            means[cell.axes()["constraint"]].append(_scores(study, cell, test, metric))
    if not means["across"] or not means["within"]:
        return []
    average = lambda tables, k: float(np.mean([t[k] for t in tables if k in t]))
    names = set.intersection(*(set(t) for t in means["across"] + means["within"]))
    diffs = sorted((average(means["across"], k) - average(means["within"], k), k) for k in names)
    return [(f"across-within {d:+.3f}", k) for d, k in diffs[: study.gallery_images] if np.isfinite(d)]


def _gallery_picks(study: Study, chosen: dict[str, Cell], test: str, metric: str) -> list[tuple[str, str]] | None:
    """(why, image) rows of one test set's strip: the first ``gallery_images`` images and,
    once SPTP and APTP are both done, the ``gallery_images`` where APTP trails SPTP most.
    None where the test set has no scores yet."""
    names = _scored_names(study, chosen.get("sptp") or next(iter(chosen.values())), test)
    if not names:
        return None
    picks = [("first", name) for name in names[: study.gallery_images]]
    if "sptp" in chosen and "aptp" in chosen:
        gap = _scores(study, chosen["aptp"], test, metric)
        base = _scores(study, chosen["sptp"], test, metric)
        diffs = sorted((gap[k] - base[k], k) for k in gap if k in base and np.isfinite(gap[k] - base[k]))
        picks += [("worst APTP-SPTP", k) for _, k in diffs[: study.gallery_images]]
    return picks


def _gallery_choice(study: Study, cells: list[Cell]) -> tuple[dict[str, Cell], list[Cell]] | None:
    """The gallery's columns: paradigm -> finished cell at the control budget's smallest N
    (model cnn first, lowest seed), and the finished reference cells; None without any."""
    budget = control_budget(study)
    candidates = [c for c in cells if c.axes()["kind"] == "train" and c.axes()["budget"] == budget
                  and c.axes()["constraint"] == "none" and c.axes()["ir"] == c.axes()["vis"]
                  and (cell_dir(study, c) / RESULT_FILE).is_file()]  # fmt: skip
    if not candidates:
        return None
    key = lambda c: (c.axes()["model"] != "cnn", _n_key(c.axes()["n"]), int(c.axes()["seed"]))
    first = min(candidates, key=key)
    same = lambda c: tuple(c.axes()[k] for k in ("model", "n", "seed"))
    chosen = {c.axes()["paradigm"]: c for c in candidates if same(c) == same(first)}
    refs = [c for c in cells if c.kind == "reference" and (cell_dir(study, c) / RESULT_FILE).is_file()]
    return chosen, refs


def files_to_keep(study: Study, cells: list[Cell] | None = None) -> list[Path]:
    """The small files from which a rerun skips every finished cell and :func:`collect`
    rebuilds the report: each finished cell's result, config, per-image scores and loss
    curve, the scene groups, and fused thumbnails only of the gallery's cells (checkpoints
    and the other thumbnails stay out). Committing them (``git add -f``: the work folder is
    git-ignored) carries a long study from one machine or sitting to the next."""
    cells = expand(study) if cells is None else cells
    keep: list[Path] = [study.work_dir / GROUPS_JSON] if (study.work_dir / GROUPS_JSON).is_file() else []
    choice = _gallery_choice(study, cells)
    shown: dict[str, set[str] | None] = {}  # test set -> the images its strip shows (None: not known yet, keep all)
    if choice:
        metric = primary_metric(study)
        complete = "sptp" in choice[0] and "aptp" in choice[0]
        for test in study.test_sets:
            picks = _gallery_picks(study, choice[0], test, metric)
            shown[test] = {name for _, name in picks} if picks and complete else None
    gallery = {c.id for c in [*choice[0].values(), *choice[1]]} if choice else set()
    scenes = _scene_choice(study, cells)
    scene_ids, scene_picks = {c.id for c in scenes}, {}
    if scenes:
        metric = primary_metric(study)
        scene_picks = {test: {name for _, name in _scene_picks(study, scenes, test, metric)} for test in study.test_sets}
    for cell in cells:
        folder = cell_dir(study, cell)
        if not (folder / RESULT_FILE).is_file():
            continue
        keep += [
            path
            for path in (folder / RESULT_FILE, folder / CONFIG_FILE, folder / STARTS_FILE, folder / "run" / "loss.csv")
            if path.is_file()
        ]
        keep += sorted((folder / "scores").glob("*.csv"))
        if cell.id in gallery:
            for test in study.test_sets:
                names = shown.get(test)
                keep += [
                    path
                    for path in sorted((folder / "fused" / test).glob("*.png"))
                    if names is None or path.name.removesuffix(".png") in names
                ]
        if cell.id in scene_ids:
            for test, names in scene_picks.items():
                keep += [folder / "fused" / test / f"{name}.png" for name in sorted(names)
                         if (folder / "fused" / test / f"{name}.png").is_file()]  # fmt: skip
    return keep


def _n_key(n: str) -> float:
    return float("inf") if n == "all" else float(n)


def _scores(study: Study, cell: Cell, test: str, metric: str) -> dict[str, float]:
    path = cell_dir(study, cell) / "scores" / f"{test}.csv"
    with path.open(newline="") as fh:
        return {row["image"]: float(row[metric]) for row in csv.DictReader(fh)}


def _scored_names(study: Study, cell: Cell, test: str) -> list[str]:
    path = cell_dir(study, cell) / "scores" / f"{test}.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return [row["image"] for row in csv.DictReader(fh)]


def _strip(study: Study, test: str, picks, columns) -> bytes | None:
    """A grid: one row per picked image, IR | visible | each column's fusion, labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from ivif.data.cache import ImageCache
    from ivif.data.registry import TEST

    cache = ImageCache(study.cache_root / test / TEST)
    index = {name: i for i, name in enumerate(cache.names)}
    picks = [(why, name) for why, name in picks if name in index]
    if not picks:
        return None
    ncols = 2 + len(columns)
    fig, axes = plt.subplots(len(picks), ncols, figsize=(1.6 * ncols, 1.4 * len(picks)), squeeze=False)
    for row, (why, name) in enumerate(picks):
        tiles = [("IR", cache.ir(index[name])), ("visible", cache.vi(index[name]))]
        for title, cell in columns:
            path = cell_dir(study, cell) / "fused" / test / f"{name}.png"
            tiles.append((title, np.asarray(Image.open(path)) if path.is_file() else None))
        for col, (title, tile) in enumerate(tiles):
            ax = axes[row, col]
            ax.axis("off")
            if tile is not None:
                tile = tile[..., 0] if tile.ndim == 3 and tile.shape[-1] == 1 else tile
                ax.imshow(tile, cmap="gray" if tile.ndim == 2 else None, vmin=0, vmax=255)
            if row == 0:
                ax.set_title(title, fontsize=7)
        axes[row, 0].text(-0.05, 0.5, f"{name}\n({why})", transform=axes[row, 0].transAxes, fontsize=6, ha="right", va="center")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
