"""Reading fusion inputs and writing fused images (atomically).

Inputs are read under the one image policy (:func:`ivif.io.images.read_image`: pixel
limit from the header, EXIF orientation, 16-bit stretch) and kept as uint8: the IR image
as its luma, the visible image as its luma plus, when it has colour, its RGB pixels to
restore colour from. The model sees ``luma / 255`` (PIL's ``convert("L")``, the upstream
convention), so outputs match the reference outputs.

Outputs: ``png`` is 8-bit, the fused luminance clipped to [0, 1] (values are never
stretched), RGB when the visible image is colour, else grayscale; ``npy`` is the raw
float32 (H, W) fused luminance exactly as the model produced it (tanh range, [0, 1] in
practice for the released checkpoints).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ivif.fusion.color import UINT8_MAX, fused_to_uint8, is_colour
from ivif.fusion.streamed import WindowReader, padded_reader
from ivif.io.atomic import atomic_path
from ivif.io.images import ImageError, images_by_stem, luma, read_image

FORMAT_SUFFIXES = {"png": ".png", "npy": ".npy"}


@dataclass(frozen=True)
class FusionPair:
    """One registered IR/visible pair, ready for a model.

    ``ir`` is the (H, W) uint8 IR luma; ``vi`` the visible image, (H, W) uint8 when gray or
    (H, W, 3) uint8 RGB when it has colour (its Cb/Cr are restored after fusion).
    """

    name: str
    ir: np.ndarray
    vi: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.ir.shape

    @property
    def vi_rgb(self) -> np.ndarray | None:
        """The colour visible image, or None when it is gray."""
        return self.vi if self.vi.ndim == 3 else None

    @property
    def vi_luma(self) -> np.ndarray:
        """(H, W) uint8 visible luma (:func:`ivif.io.images.luma`)."""
        return luma(self.vi) if self.vi.ndim == 3 else self.vi

    def stacked(self) -> np.ndarray:
        """(2, H, W) float32 model input [IR, VIS luma] in [0, 1] (whole-image: small images)."""
        return np.stack((self.ir, self.vi_luma)).astype(np.float32) / np.float32(UINT8_MAX)

    def window_reader(self) -> WindowReader:
        """Windows of the model input, converted to float one window at a time (huge images)."""
        return uint8_pair_reader(self.ir, self.vi)


def uint8_pair_reader(ir: np.ndarray, vi: np.ndarray) -> WindowReader:
    """A window reader over (H, W) uint8 IR and (H, W) / (H, W, 3) uint8 visible pixels,
    the visible luma and the [0, 1] scaling computed per window."""

    def planes(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        index = (rows[:, None], cols[None, :])
        window = vi[index]
        vi_luma = luma(window) if window.ndim == 3 else window
        return np.stack((ir[index], vi_luma)).astype(np.float32) / np.float32(UINT8_MAX)

    return padded_reader(planes, *ir.shape)


def split_visible(vi: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 visible -> itself, or its one channel when its channels are equal."""
    if vi.ndim == 3 and not is_colour(vi):
        return np.ascontiguousarray(vi[:, :, 0])
    return vi


def read_gray(path: str | Path) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the file's luma / 255 (PIL ``convert("L")``), the upstream convention."""
    return read_image(path, gray=True).pixels.astype(np.float32) / np.float32(UINT8_MAX)


def read_pair(ir_path: str | Path, vi_path: str | Path, name: str | None = None) -> FusionPair:
    """Read a pair; raises ``ValueError`` naming both files when their sizes differ."""
    ir_path, vi_path = Path(ir_path), Path(vi_path)
    ir = read_image(ir_path, gray=True).pixels
    vi = read_image(vi_path).pixels
    if ir.shape[:2] != vi.shape[:2]:
        raise ImageError(
            f"size mismatch: IR {ir_path} is {ir.shape[1]}x{ir.shape[0]} but visible {vi_path} is "
            f"{vi.shape[1]}x{vi.shape[0]}; fusion needs registered pairs of equal size (resize or crop one)"
        )
    return FusionPair(name or ir_path.stem, ir, split_visible(vi))


def write_fused(path: str | Path, fused: np.ndarray, vi_rgb: np.ndarray | None, fmt: str) -> Path:
    """Write the (H, W) fused luminance ``fused`` as ``fmt`` (``png`` or ``npy``), atomically.

    For ``png``, a colour ``vi_rgb`` gives back its Cb/Cr (an RGB image); else grayscale.
    """
    path = Path(path)
    if fmt == "npy":
        with atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, fused.astype(np.float32, copy=False))
        return path
    if fmt != "png":
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMAT_SUFFIXES)}")
    return write_png(path, fused_to_uint8(fused, vi_rgb))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write (H, W) or (H, W, 3) uint8 ``image`` as PNG, atomically."""
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(image, mode="RGB" if image.ndim == 3 else "L").save(tmp, format="PNG")
    return path


def match_pairs(ir_dir: str | Path, vi_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """(stem, IR path, VIS path) for every stem in both folders; an unmatched stem is an error."""
    ir_dir, vi_dir = Path(ir_dir), Path(vi_dir)
    listed = {}
    for folder in (ir_dir, vi_dir):
        by_stem, duplicates = images_by_stem(folder)
        if duplicates:
            kept, other = duplicates[0]
            raise ValueError(f"two images share the stem {kept.stem!r} in {folder}: {kept.name}, {other.name}; keep one")
        listed[folder] = by_stem
    ir, vi = listed[ir_dir], listed[vi_dir]
    unmatched = sorted(set(ir) ^ set(vi))
    if unmatched:
        raise ValueError(
            f"{len(unmatched)} images have no partner (matched by file stem) between {ir_dir} and {vi_dir}, "
            f"e.g. {unmatched[:3]}; remove them or fix their names"
        )
    if not ir:
        raise ValueError(f"no images found in {ir_dir}")
    return [(stem, ir[stem], vi[stem]) for stem in sorted(ir)]
