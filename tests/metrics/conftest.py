"""Fixtures for the metric tests: the tno42 reference sheets and small synthetic images."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from ivif.metrics.folders import evaluate_folders

REFERENCE_RTOL = 1e-4
SHEETS = {"cddfuse": "densefuse_tno42.csv", "matlab-tang": "densefuse_tno42.matlab_tang.csv"}
# Columns each convention must reproduce (the MATLAB sheet's SD and VIF cannot be, its
# Qabf is off by up to ~1e-2; see README "Metrics").
REPRODUCED = {
    "cddfuse": ("EN", "SD", "SF", "AG", "MI", "SCD", "VIF", "Qabf", "SSIM"),
    "matlab-tang": ("EN", "MI", "AG", "SCD", "CC", "SF", "PSNR", "MSE"),
}


@pytest.fixture(autouse=True, scope="package")
def single_torch_thread():
    """Per-image tensors are small: intra-op threads only add spin-wait contention on 2 busy cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@dataclass
class SheetComparison:
    ours: dict[str, dict[str, float]]
    reference: dict[str, dict[str, str]]

    def mismatches(self, column: str, rtol: float = REFERENCE_RTOL) -> list[str]:
        """Images whose value differs from the sheet by more than ``rtol`` (relative)."""
        assert set(self.ours) == set(self.reference), "evaluated images differ from the sheet's"
        bad = []
        for image, row in self.reference.items():
            expected, got = float(row[column]), self.ours[image][column]
            if abs(got - expected) > rtol * abs(expected):
                bad.append(f"{image}: {got!r} vs {expected!r}")
        return bad


@pytest.fixture(scope="package")
def tno42_sheets(shared: Path, single_torch_thread) -> dict[str, SheetComparison]:
    """Our metrics of densefuse on all 42 tno42 images, next to each reference sheet."""
    comparisons = {}
    for convention, sheet in SHEETS.items():
        with open(shared / "reference" / "metrics" / sheet, newline="") as f:
            reference = {row["image"]: row for row in csv.DictReader(f)}
        rows = evaluate_folders(
            shared / "data/tno42/ir",
            shared / "data/tno42/vi",
            shared / "reference/fused_tno42/densefuse",
            convention=convention,
            names=REPRODUCED[convention],
            progress=False,
        )
        comparisons[convention] = SheetComparison({r["image"]: r for r in rows}, reference)
    return comparisons


def smooth_image(rng: np.random.Generator, height: int = 60, width: int = 72) -> np.ndarray:
    """A rounded 0..255 image with both texture and smooth regions. (H, W) float64."""
    noise = rng.normal(size=(height // 4 + 2, width // 4 + 2))
    coarse = np.kron(noise, np.ones((4, 4)))[:height, :width]
    ramp = np.linspace(0, 1, width)[None, :] * np.linspace(0.5, 1, height)[:, None]
    img = 128 + 50 * coarse + 60 * ramp + rng.normal(scale=8, size=(height, width))
    return np.clip(np.round(img), 0, 255)


@pytest.fixture
def triplet() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ir, vi, fused) synthetic 60x72 images; fused is a blend plus noise."""
    rng = np.random.default_rng(5)
    ir, vi = smooth_image(rng), smooth_image(rng)
    fused = np.clip(np.round(0.6 * ir + 0.4 * vi + rng.normal(scale=3, size=ir.shape)), 0, 255)
    return ir, vi, fused


def batch(*images: np.ndarray) -> torch.Tensor:
    """Stack (H, W) arrays into a (B, H, W) float64 tensor."""
    return torch.from_numpy(np.stack(images).astype(np.float64))
