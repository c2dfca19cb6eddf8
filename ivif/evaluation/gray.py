"""uint8 images in memory -> the gray 0..255 arrays a metric convention scores.

The conversion :mod:`ivif.metrics.reading` applies to files after decoding them, so
scoring an image in memory equals scoring it after writing it as PNG and reading it back.
"""

from __future__ import annotations

import numpy as np

from ivif.metrics.reading import gray_for_reader


def to_metric_gray(image: np.ndarray, reader: str) -> np.ndarray:
    """(H, W) or (H, W, 3) RGB uint8 -> (H, W) float64 gray as ``reader`` sees it."""
    return gray_for_reader(image, reader)
