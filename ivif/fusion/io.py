"""Reading fusion inputs and writing fused images (atomically).

Inputs are read the way the upstream protocol does: ``PIL.Image.convert("L") / 255`` for
the IR image and for the visible luminance (so outputs match the reference outputs); a
colour visible image also yields its Cb/Cr to restore after fusion.

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

from ivif.data.images import IMAGE_SUFFIXES
from ivif.fusion.color import UINT8_MAX, chroma_of, is_colour, merge_luma_chroma, to_uint8
from ivif.io.atomic import atomic_path

FORMAT_SUFFIXES = {"png": ".png", "npy": ".npy"}


@dataclass(frozen=True)
class FusionPair:
    """One registered IR/visible pair, ready for a model.

    ``ir`` and ``vi_luma`` are (H, W) float32 in [0, 1]; ``chroma`` is (H, W, 2) Cb/Cr of
    a colour visible image, or None for grayscale.
    """

    name: str
    ir: np.ndarray
    vi_luma: np.ndarray
    chroma: np.ndarray | None

    def stacked(self) -> np.ndarray:
        """(2, H, W) float32 model input [IR, VIS luma]."""
        return np.stack((self.ir, self.vi_luma))


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        image = Image.open(path)
        image.load()
    except OSError as exc:
        raise ValueError(f"cannot read image {path}: {exc}") from exc
    return image


def _luma_unit(image: Image.Image) -> np.ndarray:
    """(H, W) float32 in [0, 1]: ``PIL convert("L") / 255``, the upstream convention."""
    return np.asarray(image.convert("L"), dtype=np.float32) / np.float32(UINT8_MAX)


def read_gray(path: str | Path) -> np.ndarray:
    """(H, W) float32 in [0, 1]: ``PIL convert("L") / 255``, the upstream convention."""
    return _luma_unit(_open(Path(path)))


def read_pair(ir_path: str | Path, vi_path: str | Path, name: str | None = None) -> FusionPair:
    """Read a pair; raises ``ValueError`` naming both files when their sizes differ."""
    ir_path, vi_path = Path(ir_path), Path(vi_path)
    ir_image, vi_image = _open(ir_path), _open(vi_path)
    if ir_image.size != vi_image.size:
        raise ValueError(
            f"size mismatch: IR {ir_path} is {ir_image.size[0]}x{ir_image.size[1]} but visible {vi_path} is "
            f"{vi_image.size[0]}x{vi_image.size[1]}; fusion needs registered pairs of equal size (resize or crop one)"
        )
    ir, vi_luma = _luma_unit(ir_image), _luma_unit(vi_image)
    rgb = np.asarray(vi_image.convert("RGB"))
    chroma = chroma_of(rgb) if is_colour(rgb) else None
    return FusionPair(name or ir_path.stem, ir, vi_luma, chroma)


def write_fused(path: str | Path, fused: np.ndarray, chroma: np.ndarray | None, fmt: str) -> Path:
    """Write the (H, W) fused luminance ``fused`` as ``fmt`` (``png`` or ``npy``), atomically."""
    path = Path(path)
    if fmt == "npy":
        with atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, fused.astype(np.float32, copy=False))
        return path
    if fmt != "png":
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMAT_SUFFIXES)}")
    image = to_uint8(merge_luma_chroma(fused, chroma) if chroma is not None else fused)
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(image, mode="RGB" if image.ndim == 3 else "L").save(tmp, format="PNG")
    return path


def list_images(folder: Path) -> dict[str, Path]:
    """Images in ``folder`` by stem (sorted); two files with one stem are an error."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        if path.stem in found:
            raise ValueError(f"two images share the stem {path.stem!r} in {folder}: {found[path.stem].name}, {path.name}")
        found[path.stem] = path
    return found


def match_pairs(ir_dir: str | Path, vi_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """(stem, IR path, VIS path) for every stem in both folders; an unmatched stem is an error."""
    ir_dir, vi_dir = Path(ir_dir), Path(vi_dir)
    for folder in (ir_dir, vi_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f"folder not found: {folder}")
    ir, vi = list_images(ir_dir), list_images(vi_dir)
    unmatched = sorted(set(ir) ^ set(vi))
    if unmatched:
        raise ValueError(
            f"{len(unmatched)} images have no partner (matched by file stem) between {ir_dir} and {vi_dir}, "
            f"e.g. {unmatched[:3]}; remove them or fix their names"
        )
    if not ir:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {ir_dir}")
    return [(stem, ir[stem], vi[stem]) for stem in sorted(ir)]
