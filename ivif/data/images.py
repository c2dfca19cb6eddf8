"""Reading one source image into the pixel layout ivif stores (shards and caches).

The file is read under the one image policy (:mod:`ivif.io.images`: pixel limit from the
header, EXIF orientation, palette/alpha/16-bit rules, one suffix set). On top of it the
stored layout is: IR as one channel (H, W); visible as (H, W) when it is gray and
(H, W, 3) RGB when it has colour (the fusion later works on its luma and restores
colour). An RGB file whose three channels are equal (TNO ships gray images that way) is
stored gray.

IR with real colour (unequal channels, e.g. a pseudo-coloured thermal image) becomes
gray with :func:`ivif.io.images.luma` (PIL's BT.601 ``convert("L")``), the luma every
other reader uses.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ivif.io.images import (
    IMAGE_SUFFIXES,
    SUPPORTED_FORMATS,
    DecodedImage,
    ImageError,
    check_pixels,
    luma,
    read_image,
)
from ivif.io.images import encode_png as _encode_png

# PNG re-encoding for shards (deterministic for a given zlib). Level 1 encodes a 640x480
# RGB image ~4.5x faster than PIL's default 6 for ~18% larger tars (measured on MSRS);
# it never changes the pixels.
PNG_COMPRESS_LEVEL = 1
ImageProblem = ImageError  # the name ingest and older callers use

__all__ = [
    "IMAGE_SUFFIXES",
    "SUPPORTED_FORMATS",
    "DecodedImage",
    "ImageProblem",
    "decode_png",
    "encode_png",
    "read_ir",
    "read_vi",
]


def read_ir(path) -> DecodedImage:
    """Read an infrared image as one channel, (H, W) uint8."""
    image = read_image(path)
    if image.pixels.ndim == 3:
        if _channels_equal(image.pixels):
            return DecodedImage(
                np.ascontiguousarray(image.pixels[:, :, 0]),
                image.source_mode,
                _join(image.conversion, "equal-channels-to-gray"),
            )
        return DecodedImage(
            luma(image.pixels), image.source_mode, _join(image.conversion, "luma")
        )
    return image


def read_vi(path) -> DecodedImage:
    """Read a visible image: (H, W) uint8 when gray, (H, W, 3) RGB when coloured."""
    image = read_image(path)
    if image.pixels.ndim == 3 and _channels_equal(image.pixels):
        return DecodedImage(
            np.ascontiguousarray(image.pixels[:, :, 0]),
            image.source_mode,
            _join(image.conversion, "equal-channels-to-gray"),
        )
    return image


def encode_png(pixels: np.ndarray) -> bytes:
    """Lossless PNG bytes of (H, W) or (H, W, 3) uint8 pixels, at the shards' compression level."""
    return _encode_png(pixels, PNG_COMPRESS_LEVEL)


def decode_png(data: bytes, name: str = "shard image") -> np.ndarray:
    """Inverse of :func:`encode_png`: (H, W) or (H, W, 3) uint8; ``name`` is used in errors.

    The pixel limit is checked from the header first, like every other reader.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            check_pixels(img.width, img.height, name)
            if img.mode not in ("L", "RGB"):
                raise ImageProblem(
                    f"{name}: has mode {img.mode}, expected L or RGB; rebuild the shards"
                )
            return np.asarray(img)
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageProblem(
            f"{name}: unreadable or corrupt PNG ({exc}); rebuild the shards"
        ) from None


def _channels_equal(rgb: np.ndarray) -> bool:
    return bool(
        np.array_equal(rgb[:, :, 0], rgb[:, :, 1])
        and np.array_equal(rgb[:, :, 0], rgb[:, :, 2])
    )


def _join(previous: str, step: str) -> str:
    return step if previous == "none" else f"{previous}+{step}"
