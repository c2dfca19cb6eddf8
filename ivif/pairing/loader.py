"""The pair loader: (IR_i, visible_j) training patches for a pairing manifest.

API::

    from torch.utils.data import DataLoader
    from ivif.data.cache import ImageCache
    from ivif.pairing import load_manifest
    from ivif.pairing.loader import PairDataset

    manifest = load_manifest("data/pairs/aptp")
    cache = ImageCache("data/cache/sample/train")
    data = PairDataset(manifest, cache, cache, patch_size=128, rank=rank, world_size=world)
    for epoch in range(start_epoch, epochs):
        data.set_epoch(epoch, start_index=resume_at if epoch == start_epoch else 0)
        for batch in DataLoader(data, batch_size=32, num_workers=2):  # shuffle=False: the order is the manifest's
            ir, vis_y = batch[:, 0:1], batch[:, 1:2]   # batch: (B, 2, P, P) float32 in [0, 1]

Each sample is a (2, P, P) float32 tensor in [0, 1]: channel 0 the IR patch, channel 1
the luma (BT.601 Y) of the visible patch — the ``[IR, VIS]`` input of the fusion models.

Behaviour:

- **Order** — sample t of an epoch is the pair at epoch position t of the manifest
  (:meth:`ivif.pairing.PairManifest.at`), reshuffled per (manifest seed, epoch). Use
  ``shuffle=False`` in the DataLoader (the dataset is already in shuffled order).
- **Augmentation** — a random P×P crop and random horizontal/vertical flips (the same
  flips for both images). A strict pair (i, i) from one cache with equal image sizes is
  registered, so it gets the *same* window in both images; any other pair gets
  independent windows (the images are not aligned anyway). Images smaller than P are
  reflect-padded. Every random number is a pure function of (``seed``, epoch, epoch
  position), so output is identical for any number of workers, any batch size, and
  after a resume.
- **DDP** — ``rank``/``world_size`` select positions ``rank, rank + world_size, ...``:
  disjoint shares that together cover the epoch. With ``drop_last=False`` (default)
  every rank gets ``ceil(M / world_size)`` samples, the last ranks wrapping around to the
  start of the epoch (as ``DistributedSampler`` pads); ``drop_last=True`` gives
  ``floor(M / world_size)`` and drops the tail.
- **Workers** — a map-style dataset: DataLoader workers fetch disjoint batches. The
  epoch is read when the DataLoader's iterator starts, so call :meth:`set_epoch` before
  iterating and keep ``persistent_workers=False``.
- **Resume** — ``start_index=k`` (or ``set_epoch(e, start_index=k)``) skips the first k
  samples of this rank's share; the rest are exactly those an uninterrupted epoch would
  have served next.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ivif.data.cache import ImageCache
from ivif.pairing.hashing import derive_key, hashed_below
from ivif.pairing.manifest import PairManifest
from ivif.pairing.patches import UINT8_MAX, crop, crop_origin_bounds, flip_batch, gray_plane

DEFAULT_PATCH_SIZE = 128
# Independent random streams per sample, keyed by (seed, epoch, position).
_LOADER_STREAM = 2
_IR_TOP, _IR_LEFT, _VIS_TOP, _VIS_LEFT, _FLIP_H, _FLIP_V = range(6)


class PairDataset(Dataset):
    """Serve (2, P, P) float32 [IR, visible-Y] patches of a manifest's pairs (see module doc).

    Args:
        manifest: the pairing manifest (:func:`ivif.pairing.load_manifest`).
        ir_cache, vis_cache: the caches it was built from (checked unless ``check=False``).
        patch_size: P, the side of the square patches.
        seed: augmentation seed; None uses the manifest's seed.
        epoch: the initial epoch (see :meth:`set_epoch`).
        rank, world_size: this process's DDP share.
        start_index: skip the first k samples of this rank's share (resume mid-epoch).
        flips: random horizontal and vertical flips.
        drop_last: how DDP shares handle an epoch not divisible by world_size (module doc).
    """

    def __init__(
        self,
        manifest: PairManifest,
        ir_cache: ImageCache,
        vis_cache: ImageCache,
        patch_size: int = DEFAULT_PATCH_SIZE,
        seed: int | None = None,
        epoch: int = 0,
        rank: int = 0,
        world_size: int = 1,
        start_index: int = 0,
        flips: bool = True,
        drop_last: bool = False,
        check: bool = True,
    ):
        if patch_size < 1:
            raise ValueError(f"patch_size must be >= 1, got {patch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        if check:
            manifest.check_caches(ir_cache, vis_cache)
        self.manifest = manifest
        self.ir_cache, self.vis_cache = ir_cache, vis_cache
        self.patch_size = int(patch_size)
        self.seed = manifest.seed if seed is None else int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.flips, self.drop_last = flips, drop_last
        self._ir_hw = _image_sizes(ir_cache, "ir")
        self._vis_hw = _image_sizes(vis_cache, "vi")
        self.set_epoch(epoch, start_index)

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        """Serve ``epoch`` (reshuffled, new crops), from sample ``start_index`` of this rank's share."""
        self.epoch = int(epoch)
        self._pairs = self.manifest.epoch(self.epoch)
        self._key = derive_key(self.seed, _LOADER_STREAM, self.epoch)
        if not 0 <= start_index <= self.share_size:
            raise ValueError(f"start_index must be in [0, {self.share_size}] (this rank's share), got {start_index}")
        self.start_index = int(start_index)

    @property
    def epoch_size(self) -> int:
        """Pairs in a whole epoch, all ranks together."""
        return len(self._pairs)

    @property
    def share_size(self) -> int:
        """Samples of this rank's share of an epoch, before ``start_index``."""
        if self.drop_last:
            return self.epoch_size // self.world_size
        return -(-self.epoch_size // self.world_size)

    def __len__(self) -> int:
        return self.share_size - self.start_index

    def positions(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Epoch positions served at dataset indices ``indices`` (int64)."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"index out of range for a dataset of length {len(self)}")
        return ((self.start_index + indices) * self.world_size + self.rank) % self.epoch_size

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[torch.Tensor]:
        """A batch of samples in one vectorised step (DataLoader calls this per batch)."""
        pairs, windows = self.layout(indices)
        batch = np.empty((len(pairs), 2, self.patch_size, self.patch_size), dtype=np.float32)
        for row, ((ir_id, vis_id), (ir_top, ir_left, vis_top, vis_left)) in enumerate(zip(pairs, windows[:, :4])):
            batch[row, 0] = gray_plane(crop(self.ir_cache.ir(int(ir_id)), ir_top, ir_left, self.patch_size))
            batch[row, 1] = gray_plane(crop(self.vis_cache.vi(int(vis_id)), vis_top, vis_left, self.patch_size))
        batch *= np.float32(1.0 / UINT8_MAX)
        flip_batch(batch, windows[:, 4], windows[:, 5])
        return list(torch.from_numpy(batch).unbind(0))

    def layout(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What samples ``indices`` are made of, without reading pixels.

        Returns:
            pairs: (n, 2) int64 (IR cache index, visible cache index).
            windows: (n, 6) int64 (IR top, IR left, visible top, visible left, flip
            horizontal, flip vertical), crop origins in the (padded) images.
        """
        positions = self.positions(indices)
        pairs = self.manifest.at(self.epoch, positions, self._pairs)
        return pairs, self._windows(positions, pairs)

    def _windows(self, positions: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        ir_hw, vis_hw = self._ir_hw[pairs[:, 0]], self._vis_hw[pairs[:, 1]]
        ir_rows, ir_cols = crop_origin_bounds(ir_hw[:, 0], ir_hw[:, 1], self.patch_size)
        vis_rows, vis_cols = crop_origin_bounds(vis_hw[:, 0], vis_hw[:, 1], self.patch_size)
        flip_bound = 2 if self.flips else 1  # a draw below 1 is always 0: never flip
        bounds = {
            _IR_TOP: ir_rows,
            _IR_LEFT: ir_cols,
            _VIS_TOP: vis_rows,
            _VIS_LEFT: vis_cols,
            _FLIP_H: flip_bound,
            _FLIP_V: flip_bound,
        }
        windows = np.stack([hashed_below(self._key, positions, bound, stream) for stream, bound in bounds.items()], axis=1)
        registered = self.manifest.same_source & (pairs[:, 0] == pairs[:, 1]) & np.all(ir_hw == vis_hw, axis=1)
        windows[registered, 2:4] = windows[registered, 0:2]
        return windows


def _image_sizes(cache: ImageCache, modality: str) -> np.ndarray:
    """(N, 2) int64 (H, W) of every image, read from the cache index without touching pixels."""
    return np.array([cache.shape(modality, i)[:2] for i in range(len(cache))], dtype=np.int64).reshape(-1, 2)
