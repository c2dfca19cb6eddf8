"""Scene groups of a study's train split, and the per-group caches that pairing constraints use.

Groups come from (``groups.by``):

- ``dataset``: each listed dataset is a group (across = cross-dataset pairing);
- ``label_file``: a CSV ``name,group`` (one row per train image; header optional);
- ``brightness``: day/night from the visible image's mean luma (threshold given, or the
  train split's median);
- ``kmeans``: ``k`` clusters of simple descriptors (mean, spread and mean gradient of
  the IR and the visible luma, standardised), named k0.. in order of brightness.

A constraint is implemented by per-group subsets: group g's train images are written
to their own cache ``<cache_root>/<dataset>.<g>/train``; ``within`` pairs a group's IR with
the same group's visible images, ``across`` the IR of one group with the visible images
of another (cross-cache pairing, which manifests support). Test images are assigned with
the same rule, so the report shows per-group test scores.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ivif.data.cache import ImageCache, write_cache
from ivif.data.registry import TEST, TRAIN
from ivif.io.atomic import atomic_write_text
from ivif.study.spec import Study

log = logging.getLogger(__name__)

BRIGHT_NAMES = ("day", "night")
KMEANS_ITERATIONS = 50
GROUPS_FILE = "groups.json"
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)  # BT.601, as ivif.color


def declared_group_names(study: Study) -> tuple[str, ...]:
    """Group names, known from the study file alone."""
    groups = study.groups
    if groups is None:
        return ()
    if groups.by == "dataset":
        return tuple(groups.datasets)
    if groups.by == "brightness":
        return BRIGHT_NAMES
    if groups.by == "kmeans":
        return tuple(f"k{i}" for i in range(groups.k))
    return tuple(sorted(set(_read_labels(study).values())))


def groups_identity(study: Study) -> dict[str, Any]:
    """What decides the groups (part of a constrained cell's identity)."""
    groups = study.groups
    entry = {"by": groups.by, "k": groups.k, "threshold": groups.threshold, "datasets": list(groups.datasets), "seed": groups.seed}
    if groups.by == "label_file":
        entry["file_sha256"] = hashlib.sha256(_label_path(study).read_bytes()).hexdigest()
    return entry


def _label_path(study: Study) -> Path:
    path = study.root / study.groups.file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: groups.file not found; write a CSV with columns name,group")
    return path


def _read_labels(study: Study) -> dict[str, str]:
    labels: dict[str, str] = {}
    with _label_path(study).open(newline="") as fh:
        for row in csv.reader(fh):
            if not row or row[0].strip().lower() == "name":
                continue
            if len(row) < 2:
                raise ValueError(f"{_label_path(study)}: row {row!r} needs two columns name,group")
            labels[row[0].strip()] = row[1].strip()
    return labels


def _luma(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float64) / 255.0
    if image.ndim == 3 and image.shape[-1] == 3:
        return image @ LUMA
    return image.reshape(image.shape[:2])


def descriptors(cache: ImageCache) -> np.ndarray:
    """(N, 6) float64: mean, std and mean gradient magnitude of the IR and visible luma."""
    rows = []
    for i in range(len(cache)):
        row = []
        for plane in (_luma(cache.ir(i)), _luma(cache.vi(i))):
            gy, gx = np.gradient(plane)
            row += [plane.mean(), plane.std(), np.hypot(gx, gy).mean()]
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 6)


def kmeans(points: np.ndarray, k: int, seed: int = 0, iterations: int = KMEANS_ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with a seeded k-means++ start.

    Args:
        points: (N, D) float.
    Returns:
        labels (N,) int64 and centres (k, D).
    """
    if len(points) < k:
        raise ValueError(f"k-means needs at least k={k} images, got {len(points)}")
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
        probs = d2 / d2.sum() if d2.sum() > 0 else np.full(len(points), 1 / len(points))
        centres.append(points[rng.choice(len(points), p=probs)])
    centres = np.asarray(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(iterations):
        labels = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        new = np.array([points[labels == j].mean(axis=0) if np.any(labels == j) else centres[j] for j in range(k)])
        if np.allclose(new, centres):
            break
        centres = new
    return labels, centres


def _assign(study: Study) -> dict[str, Any]:
    """Group of every train image of the train dataset and of every test image."""
    groups = study.groups
    train_cache = ImageCache(study.cache_root / study.train_dataset / TRAIN)
    tests = {name: ImageCache(study.cache_root / name / TEST) for name in study.test_sets}
    rule: dict[str, Any] = {"by": groups.by}
    if groups.by == "dataset":
        train = {ds: {n: ds for n in ImageCache(study.cache_root / ds / TRAIN).names} for ds in groups.datasets}
        test = {name: {n: name if name in groups.datasets else "other" for n in cache.names} for name, cache in tests.items()}
        return {"rule": rule, "train": train, "test": test}
    if groups.by == "label_file":
        labels = _read_labels(study)
        missing = [n for n in train_cache.names if n not in labels]
        if missing:
            raise ValueError(f"{_label_path(study)}: no group for train image(s) {missing[:5]}; add a row name,group for each")
        label_of = lambda names: {n: labels.get(n, "unlabelled") for n in names}
        return {"rule": rule, "train": {study.train_dataset: label_of(train_cache.names)},
                "test": {name: label_of(cache.names) for name, cache in tests.items()}}  # fmt: skip
    train_desc = descriptors(train_cache)
    test_desc = {name: descriptors(cache) for name, cache in tests.items()}
    if groups.by == "brightness":
        vis_mean = 3  # column of the visible luma mean in descriptors()
        threshold = groups.threshold if groups.threshold is not None else float(np.median(train_desc[:, vis_mean]))
        rule["threshold"] = threshold
        name_of = lambda d: [BRIGHT_NAMES[0] if v >= threshold else BRIGHT_NAMES[1] for v in d[:, vis_mean]]
    else:
        mean, std = train_desc.mean(axis=0), train_desc.std(axis=0) + 1e-12
        labels, centres = kmeans((train_desc - mean) / std, groups.k, groups.seed)
        order = np.argsort(centres[:, 3])[::-1]  # k0 = brightest visible
        rank = {int(c): f"k{r}" for r, c in enumerate(order)}
        rule["centres"] = (centres * std + mean).tolist()

        def name_of(d):
            z = (d - mean) / std
            return [rank[int(j)] for j in np.argmin(((z[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)]

    train = {study.train_dataset: dict(zip(train_cache.names, name_of(train_desc)))}
    test = {name: dict(zip(tests[name].names, name_of(test_desc[name]))) for name in tests}
    return {"rule": rule, "train": train, "test": test}


def prepare_groups(study: Study) -> dict[str, Any]:
    """Assign groups (cached in ``<work_dir>/groups.json``) and write the per-group caches."""
    path = study.work_dir / GROUPS_FILE
    ident = groups_identity(study)
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("identity") == ident:
            return saved
    assignment = _assign(study)
    assignment["identity"] = ident
    assignment["summary"] = summarise(assignment)
    if study.groups.by != "dataset":
        source = ImageCache(study.cache_root / study.train_dataset / TRAIN)
        for group in declared_group_names(study):
            members = [i for i, n in enumerate(source.names) if assignment["train"][study.train_dataset][n] == group]
            if not members:
                raise ValueError(f"scene group {group!r} holds no train image; change groups (threshold, k or the label file)")
            write_cache(
                group_cache_root(study, study.train_dataset, group) / TRAIN,
                ((source.names[i], source.ir(i), source.vi(i)) for i in members),
                {"group": group, "of": study.train_dataset},
            )
    atomic_write_text(path, json.dumps(assignment, indent=2, sort_keys=True) + "\n")
    return assignment


def summarise(assignment: dict[str, Any]) -> dict[str, Any]:
    """Counts and example names of each group (train and test), for the report."""
    out: dict[str, Any] = {}
    for part in ("train", "test"):
        for dataset, names in assignment[part].items():
            for group in sorted(set(names.values())):
                members = sorted(n for n, g in names.items() if g == group)
                out.setdefault(part, {}).setdefault(dataset, {})[group] = {"count": len(members), "examples": members[:4]}
    return out


def group_dataset(study: Study, dataset: str, group: str | None) -> str:
    """The cache name a constrained side pairs: ``<dataset>.<group>`` (or the group's dataset)."""
    if group is None:
        return dataset
    if study.groups.by == "dataset":
        return group
    return f"{dataset}.{group}"


def group_cache_root(study: Study, dataset: str, group: str) -> Path:
    return study.cache_root / group_dataset(study, dataset, group)
