"""Images as JSON-safe strings: base64-encoded PNG (or any format the image policy reads).

The served model's wire format. A string column carries an image of any height, width
and channel count, so one request may batch pairs of different sizes, and
``mlflow models serve`` accepts it as plain ``dataframe_records`` JSON. Decoding follows
the one image policy (:mod:`ivif.io.images`): the pixel limit is checked from the header
before any pixel is decoded, EXIF orientation is applied, 16-bit is stretched.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np

from ivif.io.images import ImageError, image_size, read_image
from ivif.io.images import encode_png as _encode_png


class ImageCodecError(ImageError):
    """A request field is not a usable base64-encoded image (the message names the column)."""


def encode_png(image: np.ndarray) -> str:
    """(H, W) or (H, W, 3) uint8 -> base64 PNG string."""
    if image.dtype != np.uint8:
        raise ImageCodecError(f"encode_png expects uint8 pixels, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return base64.b64encode(_encode_png(image)).decode("ascii")


def _raw(data: str | bytes, field: str) -> bytes:
    try:
        # not validate=True: line-wrapped base64 (what the `base64` tool prints) is fine
        return base64.b64decode(data)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ImageCodecError(f"column '{field}': expected a base64-encoded image (PNG/JPEG), could not decode it ({exc})") from None


def decoded_size(data: str | bytes, field: str, row: int | None = None) -> tuple[int, int]:
    """(width, height) of a base64 image from its header alone; ``row`` goes into messages."""
    where = f"column '{field}'" + ("" if row is None else f" (row {row})")
    try:
        return image_size(_raw(data, field), name=where)
    except ImageCodecError:
        raise
    except ImageError as exc:
        raise ImageCodecError(f"{exc} (expected a base64-encoded image, PNG/JPEG)") from None


def decode_image(
    data: str | bytes,
    field: str,
    grayscale: bool = False,
    max_pixels: int | None = None,
) -> np.ndarray:
    """Base64 image string -> uint8 (H, W) if ``grayscale`` or single-channel, else (H, W, 3).

    ``field`` names the request column in error messages.
    """
    try:
        return read_image(
            _raw(data, field),
            name=f"column '{field}'",
            gray=grayscale,
            max_pixels=max_pixels,
        ).pixels
    except ImageCodecError:
        raise
    except ImageError as exc:
        raise ImageCodecError(f"{exc} (expected a base64-encoded image, PNG/JPEG)") from None
