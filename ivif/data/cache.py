"""The decoded random-access image cache that training reads.

Pairing needs any IR image next to any visible image, so the trainer cannot stream
tars; it reads this cache instead, built from the shards. One cache directory holds one
(dataset, split) and contains::

    meta.json        {"format": "ivif-cache/1", "names": [...], ...provenance}
    ir.u8            IR pixels of every image, uint8, C-order (H, W), concatenated
    ir.index.npy     int64 (N, 4): byte offset, height, width, channels (=1)
    vi.u8            visible pixels, uint8, C-order (H, W, C), C in {1, 3}
    vi.index.npy     int64 (N, 4)

Reads are zero-copy ``np.memmap`` views, opened lazily so a reader can be pickled into
DataLoader workers without shipping pixel data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ivif.io.atomic import atomic_dir

CACHE_FORMAT = "ivif-cache/1"
MODALITIES = ("ir", "vi")
RESERVED_META_KEYS = frozenset({"format", "names"})


class CacheError(ValueError):
    """A cache directory is missing, incomplete or of another format."""


def write_cache(
    dest: str | Path,
    records: Iterable[tuple[str, np.ndarray, np.ndarray]],
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``(name, ir, vi)`` records to a cache directory, atomically.

    ``ir`` is (H, W) uint8; ``vi`` is (H, W) or (H, W, C) uint8. The whole directory
    appears at ``dest`` only when every record is written.
    """
    dest = Path(dest)
    reserved = sorted(set(meta or {}) & RESERVED_META_KEYS)
    if reserved:
        # Letting provenance overwrite these would make the cache unreadable or lie about its contents.
        raise CacheError(f"meta keys {reserved} are reserved by the cache format; rename them")
    names: list[str] = []
    with atomic_dir(dest) as tmp:
        index = {m: [] for m in MODALITIES}
        files = {m: (tmp / f"{m}.u8").open("wb") for m in MODALITIES}
        try:
            offsets = dict.fromkeys(MODALITIES, 0)
            for name, ir, vi in records:
                for modality, img in (("ir", ir), ("vi", vi)):
                    arr = _as_hwc(img, f"{name} ({modality})")
                    if modality == "ir" and arr.shape[2] != 1:
                        raise CacheError(f"{name}: IR must have one channel, got {arr.shape[2]}")
                    files[modality].write(arr.tobytes())
                    index[modality].append((offsets[modality], *arr.shape))
                    offsets[modality] += arr.nbytes
                names.append(name)
        finally:
            for fh in files.values():
                fh.close()
        if len(set(names)) != len(names):
            raise CacheError("duplicate image names in cache records")
        for modality in MODALITIES:
            np.save(tmp / f"{modality}.index.npy", np.asarray(index[modality], dtype=np.int64).reshape(-1, 4))
        body = {"format": CACHE_FORMAT, **dict(meta or {}), "names": names}
        (tmp / "meta.json").write_text(json.dumps(body, indent=2, sort_keys=True))
    return dest


def _as_hwc(img: np.ndarray, what: str) -> np.ndarray:
    arr = np.ascontiguousarray(img)
    if arr.dtype != np.uint8:
        raise CacheError(f"{what}: expected uint8 pixels, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise CacheError(f"{what}: expected (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
    return arr


class ImageCache:
    """Read-only view of a cache directory written by :func:`write_cache`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        meta_path = self.root / "meta.json"
        if not meta_path.is_file():
            raise CacheError(f"{self.root}: not an ivif cache (no meta.json); build it with `ivif data cache`")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        if self.meta.get("format") != CACHE_FORMAT:
            raise CacheError(f"{meta_path}: format {self.meta.get('format')!r}, expected {CACHE_FORMAT!r}; rebuild the cache")
        self.names: list[str] = list(self.meta["names"])
        self._index = {m: np.load(self.root / f"{m}.index.npy") for m in MODALITIES}
        for m in MODALITIES:
            if len(self._index[m]) != len(self.names):
                raise CacheError(f"{self.root}: {m}.index.npy has {len(self._index[m])} rows for {len(self.names)} names")
        self._data: dict[str, np.memmap] | None = None

    def __len__(self) -> int:
        return len(self.names)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_data"] = None  # reopened lazily in the worker
        return state

    def _buffers(self) -> dict[str, np.ndarray]:
        if self._data is None:
            self._data = {}
            for m in MODALITIES:
                path = self.root / f"{m}.u8"
                # np.memmap refuses empty files; an empty cache has nothing to read anyway.
                self._data[m] = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.empty(0, np.uint8)
        return self._data

    def shape(self, modality: str, i: int) -> tuple[int, int, int]:
        """(H, W, C) of image ``i`` without touching its pixels."""
        _, h, w, c = self._index[modality][i]
        return int(h), int(w), int(c)

    def image(self, modality: str, i: int) -> np.ndarray:
        """Image ``i`` of ``modality`` ('ir' or 'vi') as a read-only (H, W, C) uint8 view."""
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        offset, h, w, c = (int(v) for v in self._index[modality][i])
        flat = self._buffers()[modality][offset : offset + h * w * c]
        return flat.reshape(h, w, c)

    def ir(self, i: int) -> np.ndarray:
        """IR image ``i``, (H, W) uint8."""
        return self.image("ir", i)[:, :, 0]

    def vi(self, i: int) -> np.ndarray:
        """Visible image ``i``, (H, W, C) uint8 with C in {1, 3}."""
        return self.image("vi", i)
