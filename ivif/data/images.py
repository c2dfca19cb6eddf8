"""Reading one source image into the pixel layout ivif stores.

ivif stores 8-bit pixels only: IR as one channel (H, W); visible as (H, W) when it is
gray and (H, W, 3) RGB when it has colour (the fusion later works on its Y channel and
restores colour). Everything else is converted when the conversion loses nothing that
matters, or rejected with a message that says how to fix the file:

=============  ===========================================================
source mode    result
=============  ===========================================================
L              as is
RGB            gray if the three channels are equal, else colour
P (palette)    expanded to RGB, then as RGB
LA / RGBA      alpha dropped when fully opaque; rejected when transparent
1, I, I;16, F  rejected: not 8-bit
other          rejected (e.g. CMYK)
=============  ===========================================================

IR with real colour (unequal channels, e.g. a pseudo-coloured thermal image) becomes
gray with PIL's BT.601 luma, the same conversion the upstream evaluation uses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

SUPPORTED_FORMATS = ("PNG", "JPEG", "BMP", "TIFF")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
OPAQUE = 255
# PNG re-encoding for shards (deterministic for a given zlib). Level 1 encodes a 640x480
# RGB image ~4.5x faster than PIL's default 6 for ~18% larger tars (measured on MSRS);
# it never changes the pixels.
PNG_COMPRESS_LEVEL = 1


class ImageProblem(ValueError):
    """A source image ivif cannot use; the message says why and how to fix it."""


@dataclass(frozen=True)
class DecodedImage:
    """Pixels in ivif's layout plus where they came from.

    Attributes:
        pixels: (H, W) or (H, W, 3) uint8.
        source_mode: the file's PIL mode before conversion (e.g. ``"RGB"``).
        conversion: what was done to it (``"none"``, ``"equal-channels-to-gray"``,
            ``"luma"``, ``"palette-to-rgb"``, ``"drop-opaque-alpha"``...).
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


def read_ir(path: str | Path) -> DecodedImage:
    """Read an infrared image as one channel, (H, W) uint8."""
    pixels, mode, steps = _read_8bit(Path(path))
    if pixels.ndim == 3:
        if _channels_equal(pixels):
            return DecodedImage(np.ascontiguousarray(pixels[:, :, 0]), mode, _join(steps, "equal-channels-to-gray"))
        luma = np.asarray(Image.fromarray(pixels, "RGB").convert("L"))
        return DecodedImage(luma, mode, _join(steps, "luma"))
    return DecodedImage(pixels, mode, _join(steps))


def read_vi(path: str | Path) -> DecodedImage:
    """Read a visible image: (H, W) uint8 when gray, (H, W, 3) RGB when coloured."""
    pixels, mode, steps = _read_8bit(Path(path))
    if pixels.ndim == 3 and _channels_equal(pixels):
        return DecodedImage(np.ascontiguousarray(pixels[:, :, 0]), mode, _join(steps, "equal-channels-to-gray"))
    return DecodedImage(pixels, mode, _join(steps))


def encode_png(pixels: np.ndarray) -> bytes:
    """Lossless PNG bytes of (H, W) or (H, W, 3) uint8 pixels."""
    mode = "L" if pixels.ndim == 2 else "RGB"
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), mode).save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """Inverse of :func:`encode_png`: (H, W) or (H, W, 3) uint8."""
    with Image.open(io.BytesIO(data)) as img:
        if img.mode not in ("L", "RGB"):
            raise ImageProblem(f"shard image has mode {img.mode}, expected L or RGB; rebuild the shards")
        return np.asarray(img)


def _read_8bit(path: Path) -> tuple[np.ndarray, str, list[str]]:
    """Decode fully (so truncation shows up here) into L or RGB pixels."""
    try:
        with Image.open(path) as img:
            fmt, mode = img.format, img.mode
            if fmt not in SUPPORTED_FORMATS:
                raise ImageProblem(f"{path}: {fmt} files are not supported; convert it to PNG")
            img.load()
            pixels, steps = _to_l_or_rgb(img, path)
    except ImageProblem:
        raise
    except UnidentifiedImageError:
        raise ImageProblem(f"{path}: not a readable image; re-download or re-export it") from None
    except (OSError, SyntaxError, ValueError) as exc:  # PIL reports truncation/corruption as these
        raise ImageProblem(f"{path}: unreadable or truncated image ({exc}); re-download or re-export it") from None
    return pixels, mode, steps


def _to_l_or_rgb(img: Image.Image, path: Path) -> tuple[np.ndarray, list[str]]:
    mode = img.mode
    if mode in ("L", "RGB"):
        return np.asarray(img), []
    if mode == "P":
        rgb = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        return _to_l_or_rgb(rgb, path)[0], ["palette-to-rgb"]
    if mode in ("LA", "RGBA"):
        alpha = np.asarray(img.getchannel("A"))
        if alpha.min() != OPAQUE:
            raise ImageProblem(f"{path}: has transparent pixels ({mode}); flatten it onto a background and save without alpha")
        return np.asarray(img.convert(mode[:-1])), ["drop-opaque-alpha"]
    if mode in ("1", "I", "I;16", "I;16B", "I;16L", "F"):
        raise ImageProblem(f"{path}: mode {mode} is not 8-bit; convert it to 8-bit grayscale or RGB")
    raise ImageProblem(f"{path}: unsupported colour mode {mode}; convert it to 8-bit grayscale or RGB")


def _channels_equal(rgb: np.ndarray) -> bool:
    return bool(np.array_equal(rgb[:, :, 0], rgb[:, :, 1]) and np.array_equal(rgb[:, :, 0], rgb[:, :, 2]))


def _join(steps: list[str], last: str | None = None) -> str:
    parts = [*steps, *([last] if last else [])]
    return "+".join(parts) if parts else "none"
