"""Row-band reductions: per-pixel arithmetic done a band of rows at a time, in cache.

VIF's information terms, Qabf's edge preservation and SSIM's map are long chains of
elementwise operations over image-sized planes, ending in sums. On CPU every operation
of such a chain streams full-image temporaries through main memory; on bands of a few
dozen rows the same chain stays in cache, about twice as fast. Sums are additive over
rows, so the result only changes by the order of rounding. On other devices (GPU)
one band covers the whole image: there kernel launches, not memory traffic, cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

CPU_BAND_BYTES = 256 * 1024
"""Bytes of one plane's band on CPU: with a dozen live temporaries, L2-sized chains."""

BandReducer = Callable[..., tuple[torch.Tensor, ...]]
"""Maps row bands (..., h, W) of the planes, in order, to a tuple of sums over them."""


def band_rows(plane: torch.Tensor) -> int:
    """Rows per band for planes like ``plane`` (..., H, W): all of them off the CPU."""
    height, width = plane.shape[-2:]
    if plane.device.type != "cpu":
        return height
    return max(1, CPU_BAND_BYTES // (width * plane.element_size()))


def band_sums(reduce_band: BandReducer, planes: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """``reduce_band(*planes)``, computed band by band of rows and the sums added up.

    ``reduce_band`` must return sums over the band's rows and columns (anything
    additive over rows) and must not modify its inputs in place (they are views).

    Args:
        reduce_band: see ``BandReducer``.
        planes: (..., H, W) tensors sharing H and W (leading dims may differ).
    Returns:
        what ``reduce_band`` returns, summed over all bands.
    """
    height = planes[0].shape[-2]
    if any(p.shape[-2:] != planes[0].shape[-2:] for p in planes):
        raise ValueError(f"planes must share their last two dims, got {[tuple(p.shape) for p in planes]}")
    rows = band_rows(planes[0])
    totals: tuple[torch.Tensor, ...] | None = None
    for start in range(0, height, rows):
        sums = reduce_band(*(p[..., start : start + rows, :] for p in planes))
        totals = sums if totals is None else tuple(t.add_(s) for t, s in zip(totals, sums))
    assert totals is not None  # height ≥ 1
    return totals
