"""Metric conventions: each one is a small frozen table of choices, not a code path.

Published IVIF numbers disagree mostly because evaluators disagree on details (nats or
bits, how gradients are normalised, which intensity scale, which SSIM data range). A
``Convention`` names those choices; the metric functions take them as plain arguments,
so every convention runs through the same code.

``cddfuse`` (the default) is the Python evaluator of CDDFuse, which the seed paper's
authors used; ``matlab-tang`` is Tang's MATLAB evaluation toolbox. Where the MATLAB
sheet's SD, VIF, SSIM and Qabf cannot be reproduced, ``matlab-tang`` keeps the
``cddfuse`` formulas for them (see README "Metrics").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

AgNormalisation = Literal["pixels", "interior"]
"""``pixels``: mean over H·W; ``interior``: sum over H·W divided by (H−1)(W−1) (MATLAB)."""

INTENSITY_MAX = 255.0


@dataclass(frozen=True)
class Convention:
    """The choices that make one evaluator's numbers."""

    name: str
    description: str
    reader: str
    """How image files become gray 0..255 arrays (a key of ``ivif.metrics.reading.READERS``)."""
    mi_log_base: float
    """Logarithm base of MI: e gives nats, 2 gives bits."""
    mi_joint_offset: int
    """Added to the gray levels, saturating at 255, before the *joint* histogram only
    (Tang's MATLAB adds 1 to uint8 images for 1-based indexing, merging 254 and 255;
    its marginal entropies use the raw levels)."""
    ag_normalisation: AgNormalisation
    sf_scale: float
    """SF is multiplied by this (1/255: SF of the image scaled to 0..1)."""
    ssim_data_range: float
    """SSIM's L in C1=(0.01·L)², C2=(0.03·L)²; 2 is what scikit-image 0.19 silently used
    for float input, the value behind the published cddfuse numbers."""
    mse_intensity_scale: float
    """Images are multiplied by this before MSE (1/255: MSE on 0..1)."""
    psnr_peak: float | None
    """PSNR = 10·log10(peak² / MSE); None takes the fused image's maximum."""

    def __post_init__(self) -> None:
        if self.mi_log_base <= 1:
            raise ValueError(f"convention {self.name!r}: mi_log_base must be > 1, got {self.mi_log_base}")
        if not 0 <= self.mi_joint_offset < INTENSITY_MAX:
            raise ValueError(f"convention {self.name!r}: mi_joint_offset must be in [0, 255), got {self.mi_joint_offset}")
        if self.ag_normalisation not in ("pixels", "interior"):
            raise ValueError(f"convention {self.name!r}: ag_normalisation must be 'pixels' or 'interior'")
        for field in ("sf_scale", "ssim_data_range", "mse_intensity_scale"):
            if getattr(self, field) <= 0:
                raise ValueError(f"convention {self.name!r}: {field} must be > 0")
        if self.psnr_peak is not None and self.psnr_peak <= 0:
            raise ValueError(f"convention {self.name!r}: psnr_peak must be > 0 or None")


CDDFUSE = Convention(
    name="cddfuse",
    description="CDDFuse's Python evaluator (the seed paper's numbers), quirks included",
    reader="opencv",
    mi_log_base=math.e,
    mi_joint_offset=0,
    ag_normalisation="pixels",
    sf_scale=1.0,
    ssim_data_range=2.0,
    mse_intensity_scale=1.0,
    psnr_peak=None,
)

MATLAB_TANG = Convention(
    name="matlab-tang",
    description="Tang's MATLAB evaluation toolbox",
    reader="matlab",
    mi_log_base=2.0,
    mi_joint_offset=1,
    ag_normalisation="interior",
    sf_scale=1.0 / INTENSITY_MAX,
    ssim_data_range=2.0,
    mse_intensity_scale=1.0 / INTENSITY_MAX,
    # The toolbox divides 255² by an MSE computed on 0..1 images (a quirk kept as-is).
    psnr_peak=INTENSITY_MAX,
)

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (CDDFUSE, MATLAB_TANG)}
DEFAULT_CONVENTION = CDDFUSE.name


def get_convention(convention: str | Convention) -> Convention:
    """Look a convention up by name (a ``Convention`` passes through)."""
    if isinstance(convention, Convention):
        return convention
    try:
        return CONVENTIONS[convention]
    except KeyError:
        raise ValueError(f"unknown metric convention {convention!r}; choose one of {sorted(CONVENTIONS)}") from None
