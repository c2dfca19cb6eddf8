"""Images as JSON-safe strings: base64-encoded PNG (or any format Pillow reads).

The served model's wire format. A string column carries an image of any height, width
and channel count, so one request may batch pairs of different sizes, and
``mlflow models serve`` accepts it as plain ``dataframe_records`` JSON.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from PIL import Image, UnidentifiedImageError

PNG = "PNG"


class ImageCodecError(ValueError):
    """A request field is not a base64-encoded image."""


def encode_png(image: np.ndarray) -> str:
    """(H, W) or (H, W, 3) uint8 -> base64 PNG string."""
    if image.dtype != np.uint8:
        raise ImageCodecError(f"encode_png expects uint8 pixels, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=PNG)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_image(data: str | bytes, field: str, grayscale: bool = False) -> np.ndarray:
    """Base64 image string -> uint8 (H, W) if ``grayscale`` or single-channel, else (H, W, 3).

    ``field`` names the request column in error messages.
    """
    try:
        # not validate=True: line-wrapped base64 (what the `base64` tool prints) is fine
        raw = base64.b64decode(data)
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            mode = "L" if grayscale or img.mode in ("L", "I", "I;16", "1") else "RGB"
            return np.asarray(img.convert(mode))
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as exc:
        raise ImageCodecError(
            f"column '{field}': expected a base64-encoded image (PNG/JPEG), could not decode it ({exc})"
        ) from exc
