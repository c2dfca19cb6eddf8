"""Getting a dataset into ``data/raw/<dataset>/``: download or import, then place.

A download goes to the downloads folder first (resumable, checksum-verified, see
:mod:`ivif.data.download`); archives are extracted safely (:mod:`ivif.data.archive`)
into a temporary folder beside the destination, and the destination appears only when
everything is in place. A single wrapping folder (``MSRS-main/`` of a GitHub archive)
is unwrapped so the registry's layout applies at the top. ``.ivif-source.json`` in the
result records what it was made from.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ivif.data.archive import extract_archive, is_archive
from ivif.data.digest import sha256_file
from ivif.data.download import download
from ivif.data.registry import PLAIN_IR, PLAIN_VI, DatasetSpec
from ivif.io.atomic import atomic_dir, sweep_stale_temps, temp_name

PROVENANCE_NAME = ".ivif-source.json"


def fetch_dataset(
    spec: DatasetSpec,
    dest: str | Path,
    *,
    local_source: str | Path | None = None,
    download_dir: str | Path,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fetch ``spec`` into ``dest`` (replaced whole); returns the provenance record.

    ``local_source`` (an archive or a folder) is imported instead of downloading; it is
    required for import-only datasets (M3FD).
    """
    dest = Path(dest)
    if local_source is not None:
        return _place(spec, dest, [_local_entry(Path(local_source))], log, progress)
    if spec.import_only:
        raise ValueError(f"{spec.name} cannot be downloaded by ivif: {spec.import_hint}")
    entries = []
    for source in spec.sources:
        archive = download(source.url, Path(download_dir) / source.filename, sha256=source.sha256, progress=progress)
        digest = sha256_file(archive)
        if source.sha256 is None:
            log(
                f"note: {spec.name} has no published sha256 for {source.url}; computed {digest} "
                f"(recorded in {dest / PROVENANCE_NAME}; add it to ivif/data/registry.py to pin it)"
            )
        entries.append(
            {"kind": "download", "url": source.url, "path": str(archive), "sha256": digest, "verified": source.sha256 is not None}
        )
    return _place(spec, dest, entries, log, progress)


def _local_entry(path: Path) -> dict[str, Any]:
    if path.is_dir():
        return {"kind": "folder", "path": str(path)}
    if path.is_file():
        if not is_archive(path):
            raise ValueError(f"{path}: not a zip or tar archive; pass the archive as downloaded or an extracted folder")
        return {"kind": "archive", "path": str(path), "sha256": sha256_file(path)}
    raise FileNotFoundError(f"{path}: no such archive or folder; check the --from path")


def _place(
    spec: DatasetSpec, dest: Path, entries: list[dict[str, Any]], log: Callable[[str], None], progress: bool
) -> dict[str, Any]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(dest.parent)  # what a killed earlier fetch left
    staging = temp_name(dest, ".staging")
    staging.mkdir()
    try:
        for entry in entries:
            _unpack(Path(entry["path"]), staging, entry["kind"], progress)
        content = _unwrap_single_folder(staging, spec)
        _check_layout(spec, content, entries)
        record = {"dataset": spec.name, "sources": entries}
        with atomic_dir(dest) as out:
            for child in sorted(content.iterdir()):
                os.replace(child, out / child.name)
            (out / PROVENANCE_NAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"{spec.name}: ready in {dest}")
    return record


def _check_layout(spec: DatasetSpec, content: Path, entries: list[dict[str, Any]]) -> None:
    """Refuse, before anything is placed, a source that has neither the dataset's
    upstream folders nor the plain ``ir/`` + ``vi/`` layout."""
    candidates = {c for folders in spec.splits.values() for c in (*folders.ir, *folders.vi)} | {PLAIN_IR, PLAIN_VI}
    if any((content / c).is_dir() for c in candidates):
        return
    expected = " + ".join(f"{'|'.join(f.ir)}/ and {'|'.join(f.vi)}/" for f in spec.splits.values())
    found = sorted(p.name for p in content.iterdir() if not p.name.startswith("."))[:10]
    source = ", ".join(entry["path"] for entry in entries)
    raise ValueError(
        f"{source}: no image folders for {spec.name}: expected {expected} (or {PLAIN_IR}/ + {PLAIN_VI}/ with the "
        f"same file stems), found {found}; point --from at the folder that holds them"
    )


def _unpack(path: Path, staging: Path, kind: str, progress: bool) -> None:
    if kind == "folder":
        shutil.copytree(path, staging, dirs_exist_ok=True)
    else:
        extract_archive(path, staging, progress=progress)


def _unwrap_single_folder(root: Path, spec: DatasetSpec) -> Path:
    """Descend through lone wrapping folders until the registry's layout is at the top."""
    expected_tops = {candidate.split("/")[0] for folders in spec.splits.values() for candidate in (*folders.ir, *folders.vi)}
    expected_tops |= {PLAIN_IR, PLAIN_VI}
    while not any((root / top).is_dir() for top in expected_tops):
        visible = [p for p in root.iterdir() if not p.name.startswith(".")]
        if len(visible) != 1 or not visible[0].is_dir():
            break
        root = visible[0]
    return root
