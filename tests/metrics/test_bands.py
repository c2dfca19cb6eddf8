import pytest
import torch

from ivif.metrics import bands
from ivif.metrics.qabf import qabf
from ivif.metrics.ssim import ssim_sum
from ivif.metrics.vif import visual_information_fidelity

from .conftest import batch


def _row_and_total_sums(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return (a * b).sum(dim=(-2, -1)), a.sum(dim=(-2, -1))


def test_band_sums_equal_whole_image_sums(monkeypatch):
    a = torch.rand(2, 3, 37, 16, dtype=torch.float64)
    b = torch.rand(2, 1, 37, 16, dtype=torch.float64)
    monkeypatch.setattr(bands, "CPU_BAND_BYTES", 5 * 16 * 8)  # 5 rows: 8 bands, the last one partial
    assert bands.band_rows(a) == 5
    weighted, total = bands.band_sums(_row_and_total_sums, (a, b))
    torch.testing.assert_close(weighted, (a * b).sum(dim=(-2, -1)), rtol=1e-13, atol=0)
    torch.testing.assert_close(total, a.sum(dim=(-2, -1)), rtol=1e-13, atol=0)


def test_one_band_off_the_cpu_and_at_least_one_row():
    assert bands.band_rows(torch.empty(1, 480, 640, device="meta")) == 480
    assert bands.band_rows(torch.empty(1, 4, bands.CPU_BAND_BYTES, dtype=torch.float64)) == 1


def test_band_sums_reject_planes_of_different_sizes():
    with pytest.raises(ValueError, match="last two dims"):
        bands.band_sums(_row_and_total_sums, (torch.zeros(1, 8, 8), torch.zeros(1, 8, 9)))


@pytest.mark.parametrize("metric", [visual_information_fidelity, qabf, ssim_sum], ids=["VIF", "Qabf", "SSIM"])
def test_metrics_do_not_depend_on_the_band_height(metric, triplet, monkeypatch):
    images = [batch(x) for x in triplet]
    whole = metric(*images)
    monkeypatch.setattr(bands, "CPU_BAND_BYTES", 1)  # one row per band
    torch.testing.assert_close(metric(*images), whole, rtol=1e-12, atol=0)
