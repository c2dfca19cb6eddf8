"""The one image policy: every reader of image files or bytes in ivif goes through here.

Fusion, metrics, shard ingest, serving and evaluation all call :func:`read_image`, so an
image means the same pixels everywhere. The policy (README, "Image policy"):

- **Pixel limit.** ``width * height`` is checked from the header, before any pixel is
  decoded, against one limit: :data:`DEFAULT_MAX_PIXELS` (150 megapixels: a 12000×12000
  image passes, 30000×30000 does not), overridden by the environment variable
  ``IVIF_MAX_PIXELS`` or a ``max_pixels`` argument. Over the limit: :class:`ImageTooLarge`.
  PIL's own decompression-bomb check is switched off in favour of this one.
- **Formats.** PNG, JPEG, BMP, TIFF, WebP, PPM/PGM (:data:`SUPPORTED_FORMATS`).
- **Orientation.** The EXIF orientation tag is applied (as ``ImageOps.exif_transpose``).
- **Modes.** ``L`` and ``RGB`` as they are; palette images expanded to RGB; an alpha
  channel dropped when fully opaque and refused when not; bilevel ``1`` becomes 0/255;
  high bit depth (``I;16``, ``I;16B``, ``I;16L``, ``I``, ``F``) is stretched to 8 bits by
  :func:`stretch_to_uint8` (0.5-99.5 % percentiles, the thermal cameras' auto-gain);
  anything else (CMYK, LAB...) is refused.
- **Luma.** :func:`luma` is PIL's ``convert("L")``, ITU-R 601-2 in 8 bits, used for every
  gray view of an RGB image (training inputs, fusion, evaluation, serving).
- **Names.** :func:`images_by_stem` lists a folder's images by stem with one suffix set
  (:data:`IMAGE_SUFFIXES`), skipping hidden and temporary names (:func:`is_skipped_name`).

Every failure is an :class:`ImageError` (a ``ValueError``) whose message names the file
and the fix.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ivif.io.atomic import is_temp_name

DEFAULT_MAX_PIXELS = 150_000_000
MAX_PIXELS_ENV = "IVIF_MAX_PIXELS"
SUPPORTED_FORMATS = ("PNG", "JPEG", "MPO", "BMP", "TIFF", "WEBP", "PPM")
IMAGE_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".tif",
    ".tiff",
    ".webp",
    ".pgm",
    ".ppm",
)
STRETCH_PERCENTILES = (0.5, 99.5)
HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I", "F")
UINT8_MAX = 255
OPAQUE = UINT8_MAX
# PIL's RGB -> L: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, i.e. R*299/1000 +
# G*587/1000 + B*114/1000 in 16-bit fixed point, rounded half up.
LUMA_WEIGHTS_16 = (19595, 38470, 7471)
LUMA_SHIFT = 16
LUMA_ROUND = 1 << (LUMA_SHIFT - 1)
BAND_PIXELS = 1 << 22  # rows are converted in bands of about this many pixels (bounded temporaries)
EXIF_ORIENTATION = 0x0112
UINT16_LEVELS = 1 << 16

# ivif checks its own limit (above) from the header; PIL's fixed one would refuse a
# 12000x12000 image (it raises above 2 x 89 megapixels) with an error naming no file.
Image.MAX_IMAGE_PIXELS = None


class ImageError(ValueError):
    """An image ivif cannot use; the message names the file, the cause and the fix."""


class ImageTooLarge(ImageError):
    """An image over the pixel limit (checked from its header, before decoding)."""


@dataclass(frozen=True)
class DecodedImage:
    """Pixels after the policy, and what was done to get them.

    Attributes:
        pixels: (H, W) or (H, W, 3) uint8, RGB order.
        source_mode: the file's PIL mode before conversion (e.g. ``"RGB"``, ``"I;16"``).
        conversion: the steps applied, ``+``-joined (``"none"``, ``"exif-rotate"``,
            ``"palette-to-rgb"``, ``"drop-opaque-alpha"``, ``"stretch-16bit"``, ``"luma"``...).
    """

    pixels: np.ndarray
    source_mode: str
    conversion: str

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return 1 if self.pixels.ndim == 2 else int(self.pixels.shape[2])


def max_pixels(limit: int | None = None) -> int:
    """The pixel limit in force: ``limit`` if given, else ``$IVIF_MAX_PIXELS``, else the default."""
    if limit is None:
        raw = os.environ.get(MAX_PIXELS_ENV)
        if raw is None or not raw.strip():
            return DEFAULT_MAX_PIXELS
        try:
            limit = int(raw.replace("_", ""))
        except ValueError:
            raise ImageError(f"{MAX_PIXELS_ENV}={raw!r} is not a whole number of pixels; set it like {MAX_PIXELS_ENV}=200000000") from None
    if limit < 1:
        raise ImageError(f"the pixel limit must be positive, got {limit}; set {MAX_PIXELS_ENV} to a number of pixels")
    return limit


def check_pixels(width: int, height: int, source: str, limit: int | None = None) -> None:
    """Raise :class:`ImageTooLarge` when a ``width`` x ``height`` image is over the limit."""
    allowed = max_pixels(limit)
    if width * height > allowed:
        raise ImageTooLarge(
            f"{source}: {width}x{height} is {width * height / 1e6:.1f} megapixels, over the limit of "
            f"{allowed / 1e6:.1f} megapixels ({allowed} pixels); downscale the image, or raise the limit "
            f"with {MAX_PIXELS_ENV}=<pixels> if the machine has the memory"
        )


def is_skipped_name(name: str) -> bool:
    """Hidden files and temporaries (:func:`ivif.io.atomic.is_temp_name`, which are
    hidden too) are never read as images."""
    return name.startswith(".") or is_temp_name(name)


def is_image_file(path: Path) -> bool:
    """A regular file with an image suffix and a name that is not hidden or temporary."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not is_skipped_name(path.name) and path.is_file()


def images_by_stem(
    folder: str | Path,
) -> tuple[dict[str, Path], list[tuple[Path, Path]]]:
    """The images of ``folder`` by file stem, sorted by name, and any stem clashes.

    Returns ``(by_stem, duplicates)``: ``duplicates`` lists ``(kept, other)`` for every file
    whose stem an earlier file already has. Raises ``FileNotFoundError`` for a missing folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    by_stem: dict[str, Path] = {}
    duplicates: list[tuple[Path, Path]] = []
    for path in sorted(folder.iterdir()):
        if not is_image_file(path):
            continue
        if path.stem in by_stem:
            duplicates.append((by_stem[path.stem], path))
            continue
        by_stem[path.stem] = path
    return by_stem, duplicates


def image_size(source: str | Path | bytes, *, name: str | None = None) -> tuple[int, int]:
    """(width, height) from the header alone (no pixel is decoded), as stored (before EXIF rotation)."""
    label = name or (str(source) if not isinstance(source, bytes) else "image")
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise FileNotFoundError(f"image not found: {source}")
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            return img.width, img.height
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not a readable image; re-download or re-export it") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{label}: unreadable image header ({exc}); re-download or re-export it") from None


def read_image(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    gray: bool = False,
    max_pixels: int | None = None,
) -> DecodedImage:
    """Read an image file (or encoded bytes) under the image policy.

    Args:
        source: a path, or the encoded bytes of an image (then ``name`` is used in messages).
        name: how messages refer to ``source`` (default: the path).
        gray: return (H, W) luma (:func:`luma`) for colour images.
        max_pixels: the pixel limit (default :func:`max_pixels`).
    Returns:
        :class:`DecodedImage` with (H, W) or (H, W, 3) uint8 pixels.
    Raises:
        ImageError: unreadable, truncated, unsupported or over the limit (message names ``source``).
        FileNotFoundError: ``source`` is a path that does not exist.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "image")
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise FileNotFoundError(f"image not found: {source}")
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            if img.format not in SUPPORTED_FORMATS:
                raise ImageError(f"{label}: {img.format} files are not supported; convert it to PNG")
            check_pixels(img.width, img.height, label, max_pixels)
            orientation = _orientation(img)
            img.load()
            pixels, steps = _to_uint8(img, label)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not a readable image; re-download or re-export it") from None
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:  # PIL reports truncation/corruption as these
        raise ImageError(f"{label}: unreadable or truncated image ({exc}); re-download or re-export it") from None
    if orientation not in (None, 1):
        pixels = _apply_orientation(pixels, orientation)
        steps.append(f"exif-orientation-{orientation}")
    if gray and pixels.ndim == 3:
        pixels = luma(pixels)
        steps.append("luma")
    return DecodedImage(pixels, img.mode, "+".join(steps) if steps else "none")


def luma(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) uint8 luma, exactly PIL's ``convert("L")`` (ITU-R 601-2).

    L = R * 299/1000 + G * 587/1000 + B * 114/1000, rounded as PIL rounds (16-bit fixed
    point, half up). Computed in bands, so the temporaries stay small for huge images.
    """
    if rgb.dtype != np.uint8 or rgb.shape[-1] != 3:
        raise ValueError(f"luma expects (..., 3) uint8 RGB, got {rgb.dtype} {rgb.shape}")
    flat = rgb.reshape(-1, 3)
    out = np.empty(flat.shape[0], dtype=np.uint8)
    wr, wg, wb = LUMA_WEIGHTS_16
    for start in range(0, flat.shape[0], BAND_PIXELS):
        band = flat[start : start + BAND_PIXELS]
        acc = band[:, 0].astype(np.uint32) * wr
        acc += band[:, 1].astype(np.uint32) * wg
        acc += band[:, 2].astype(np.uint32) * wb
        acc += LUMA_ROUND
        out[start : start + BAND_PIXELS] = acc >> LUMA_SHIFT
    return out.reshape(rgb.shape[:-1])


def percentile_levels(values: np.ndarray, percentiles: tuple[float, float] = STRETCH_PERCENTILES) -> tuple[float, float]:
    """The low/high percentiles of ``values``, by the inverted CDF (a value that occurs).

    For p, the smallest value v with at least ceil(p/100 * n) values <= v (numpy's
    ``method="inverted_cdf"``). Integer images up to 16 bits use a histogram (exact,
    without sorting a copy of the image).
    """
    if values.dtype in (np.uint8, np.uint16):
        counts = np.zeros(UINT16_LEVELS, dtype=np.int64)
        flat = values.reshape(-1)
        for start in range(0, flat.size, BAND_PIXELS):
            counts += np.bincount(flat[start : start + BAND_PIXELS], minlength=UINT16_LEVELS)
        cumulative = np.cumsum(counts)
        ranks = [max(int(np.ceil(p / 100 * flat.size)), 1) for p in percentiles]
        low, high = (int(np.searchsorted(cumulative, rank, side="left")) for rank in ranks)
        return float(low), float(high)
    low, high = np.percentile(values, percentiles, method="inverted_cdf")
    return float(low), float(high)


def stretch_to_uint8(values: np.ndarray, percentiles: tuple[float, float] = STRETCH_PERCENTILES) -> np.ndarray:
    """High-bit-depth (H, W) samples -> (H, W) uint8 by a robust percentile stretch.

    ``lo``, ``hi`` = the 0.5 % and 99.5 % percentiles (:func:`percentile_levels`); output =
    round(255 * (clip(x, lo, hi) - lo) / (hi - lo)), half to even. When ``hi == lo`` the
    full min..max range is used instead, and a constant image becomes 0.
    """
    values = np.asarray(values)
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("="))
    low, high = percentile_levels(values, percentiles)
    if high <= low:
        low, high = float(values.min()), float(values.max())
    out = np.zeros(values.shape, dtype=np.uint8)
    if high <= low:
        return out
    scale = UINT8_MAX / (high - low)
    if values.dtype == np.uint16:  # a lookup table: exact and without float copies of the image
        levels = np.arange(UINT16_LEVELS, dtype=np.float64)
        table = np.round((np.clip(levels, low, high) - low) * scale).astype(np.uint8)
        return table[values]
    flat_in, flat_out = values.reshape(-1), out.reshape(-1)
    for start in range(0, flat_in.size, BAND_PIXELS):
        band = flat_in[start : start + BAND_PIXELS].astype(np.float64)
        flat_out[start : start + BAND_PIXELS] = np.round((np.clip(band, low, high) - low) * scale)
    return out


def encode_png(pixels: np.ndarray, compress_level: int | None = None) -> bytes:
    """Lossless PNG bytes of (H, W) or (H, W, 3) uint8 pixels."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"encode_png expects (H, W) or (H, W, 3) uint8, got {pixels.dtype} {pixels.shape}")
    buf = io.BytesIO()
    options = {} if compress_level is None else {"compress_level": compress_level}
    Image.fromarray(np.ascontiguousarray(pixels), "L" if pixels.ndim == 2 else "RGB").save(buf, format="PNG", **options)
    return buf.getvalue()


def _orientation(img: Image.Image) -> int | None:
    try:
        return img.getexif().get(EXIF_ORIENTATION)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not make the pixels unreadable
        return None


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The numpy form of ``ImageOps.exif_transpose`` for EXIF orientations 2-8."""
    steps = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: a.swapaxes(0, 1)[::-1],
    }
    step = steps.get(orientation)
    return pixels if step is None else np.ascontiguousarray(step(pixels))


def _rows(img: Image.Image) -> Iterator[tuple[int, int]]:
    band = max(BAND_PIXELS // max(img.width, 1), 1)
    for top in range(0, img.height, band):
        yield top, min(top + band, img.height)


def _as_array(img: Image.Image) -> np.ndarray:
    """``np.asarray(img)`` without PIL's whole-image bytes copy: filled band by band."""
    probe = np.asarray(img.crop((0, 0, img.width, min(1, img.height))))
    out = np.empty((img.height, img.width, *probe.shape[2:]), dtype=probe.dtype)
    for top, bottom in _rows(img):
        out[top:bottom] = np.asarray(img.crop((0, top, img.width, bottom)))
    return out


def _to_uint8(img: Image.Image, label: str) -> tuple[np.ndarray, list[str]]:
    mode = img.mode
    if mode in ("L", "RGB"):
        return _as_array(img), []
    if mode == "1":
        return _as_array(img.convert("L")), ["bilevel-to-gray"]
    if mode == "P":
        expanded = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        pixels, steps = _to_uint8(expanded, label)
        return pixels, ["palette-to-rgb", *steps]
    if mode in ("LA", "RGBA", "PA"):
        base = img.convert("RGBA") if mode == "PA" else img
        alpha = np.asarray(base.getchannel("A"))
        if alpha.min() != OPAQUE:
            raise ImageError(f"{label}: has transparent pixels ({mode}); flatten it onto a background and save without alpha")
        return _as_array(base.convert("RGB" if base.mode == "RGBA" else "L")), ["drop-opaque-alpha"]
    if mode in HIGH_DEPTH_MODES:
        return stretch_to_uint8(_as_array(img)), ["stretch-16bit" if mode.startswith("I;16") else f"stretch-{mode}"]
    raise ImageError(f"{label}: unsupported colour mode {mode}; convert it to 8-bit grayscale or RGB")


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS_ENV",
    "STRETCH_PERCENTILES",
    "SUPPORTED_FORMATS",
    "DecodedImage",
    "ImageError",
    "ImageTooLarge",
    "check_pixels",
    "encode_png",
    "image_size",
    "images_by_stem",
    "is_image_file",
    "is_skipped_name",
    "luma",
    "max_pixels",
    "percentile_levels",
    "read_image",
    "stretch_to_uint8",
]
