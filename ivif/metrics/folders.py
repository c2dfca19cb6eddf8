"""Evaluate folders of fused images against their sources, and write the reports.

Files are matched by stem (``01.png`` fused ↔ ``01.jpg`` IR ↔ ``01.bmp`` VI) with the one
suffix set of :mod:`ivif.io.images`, skipping hidden and temporary names (a killed
``ivif fuse`` leaves ``.01.png.XXXX.png``); the fused folder defines which images are evaluated. Reports are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ivif.io.atomic import atomic_write_text
from ivif.io.images import IMAGE_SUFFIXES, images_by_stem
from ivif.metrics.conventions import DEFAULT_CONVENTION, Convention, get_convention
from ivif.metrics.reading import read_gray
from ivif.metrics.suite import compute_metrics, resolve_names

MAX_NAMES_IN_ERROR = 5


@dataclass(frozen=True)
class ImageTriplet:
    """One fused image and the two sources it came from."""

    name: str
    ir: Path
    vi: Path
    fused: Path


def _images_by_stem(folder: Path, role: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{role} folder not found: {folder}")
    by_stem, duplicates = images_by_stem(folder)  # hidden and temporary names are skipped
    if duplicates:
        kept, other = duplicates[0]
        raise ValueError(f"{role} folder {folder} has two images with stem {kept.stem!r}: {kept.name} and {other.name}; keep one")
    return by_stem


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES_IN_ERROR])
    more = len(names) - MAX_NAMES_IN_ERROR
    return shown + (f" and {more} more" if more > 0 else "")


def match_by_stem(ir_dir: str | Path, vi_dir: str | Path, fused_dir: str | Path) -> list[ImageTriplet]:
    """Pair every fused image with the IR and VI images of the same stem, sorted by name.

    Raises:
        FileNotFoundError: a folder is missing, empty of images, or a fused image has no
            IR or VI counterpart (the message names them).
    """
    ir, vi, fused = _images_by_stem(Path(ir_dir), "IR"), _images_by_stem(Path(vi_dir), "VI"), _images_by_stem(Path(fused_dir), "fused")
    if not fused:
        raise FileNotFoundError(f"no images in fused folder {fused_dir} (looked for {sorted(IMAGE_SUFFIXES)})")
    for role, sources, folder in (("IR", ir, ir_dir), ("VI", vi, vi_dir)):
        missing = sorted(set(fused) - set(sources))
        if missing:
            raise FileNotFoundError(
                f"no {role} image in {folder} for fused image(s) {_listed([fused[s].name for s in missing])}; "
                "sources are matched by file stem"
            )
    return [ImageTriplet(fused[s].name, ir[s], vi[s], fused[s]) for s in sorted(fused)]


def evaluate_triplet(triplet: ImageTriplet, convention: Convention, names: Sequence[str]) -> dict[str, float]:
    """Read one triplet as the convention does and compute its metrics."""
    images = [read_gray(p, convention.reader) for p in (triplet.ir, triplet.vi, triplet.fused)]
    shapes = {img.shape for img in images}
    if len(shapes) != 1:
        sizes = ", ".join(f"{p} is {img.shape[1]}x{img.shape[0]}" for p, img in zip((triplet.ir, triplet.vi, triplet.fused), images))
        raise ValueError(f"shape mismatch for {triplet.name}: {sizes}; fused images must keep the sources' size")
    return compute_metrics(*images, convention=convention, names=names)


def evaluate_folders(
    ir_dir: str | Path,
    vi_dir: str | Path,
    fused_dir: str | Path,
    convention: str | Convention = DEFAULT_CONVENTION,
    names: Iterable[str] | None = None,
    progress: bool = True,
) -> list[dict[str, float | str]]:
    """Metrics of every fused image in ``fused_dir``: one row per image, ``image`` first."""
    conv = get_convention(convention)
    selected = resolve_names(names)
    triplets = match_by_stem(ir_dir, vi_dir, fused_dir)
    rows: list[dict[str, float | str]] = []
    for triplet in tqdm(triplets, desc=f"metrics ({conv.name})", unit="image", disable=not progress):
        rows.append({"image": triplet.name, **evaluate_triplet(triplet, conv, selected)})
    return rows


def mean_row(rows: Sequence[dict[str, float | str]]) -> dict[str, float]:
    """Column means over images (NaN where any image is NaN, e.g. CC of a flat image)."""
    columns = [k for k in rows[0] if k != "image"]
    return {k: math.fsum(float(r[k]) for r in rows) / len(rows) for k in columns}


def write_csv(rows: Sequence[dict[str, float | str]], path: str | Path) -> None:
    """CSV with one row per image; floats at full precision."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()} for row in rows)
    atomic_write_text(path, buffer.getvalue())


def write_json(summary: dict[str, object], path: str | Path) -> None:
    """JSON (DVC metrics); non-finite numbers become null, which JSON can represent."""

    def finite(value: object) -> object:
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    atomic_write_text(path, json.dumps(finite(summary), indent=2) + "\n")
