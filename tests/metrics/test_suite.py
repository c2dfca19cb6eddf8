import math

import numpy as np
import pytest
import torch

from ivif.metrics import METRIC_NAMES, compute_metrics, compute_metrics_batch, filtering

from .conftest import smooth_image

STANDARD = ("EN", "SD", "SF", "AG", "MI", "SCD", "VIF", "Qabf", "SSIM")


@pytest.fixture
def triplets() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(3):
        ir, vi = smooth_image(rng, 48, 56), smooth_image(rng, 48, 56)
        out.append((ir, vi, np.round(0.5 * ir + 0.5 * vi)))
    return out


def test_suite_reports_every_metric_in_column_order(triplet):
    values = compute_metrics(*triplet)
    assert tuple(values)[: len(STANDARD)] == STANDARD
    assert set(values) == set(METRIC_NAMES) >= {"CC", "PSNR", "MSE"}
    assert all(math.isfinite(v) for v in values.values())


def test_names_select_a_subset_and_unknown_names_fail(triplet):
    assert list(compute_metrics(*triplet, names=["MI", "EN"])) == ["MI", "EN"]
    with pytest.raises(ValueError, match="unknown metric"):
        compute_metrics(*triplet, names=["EN", "FMI"])


def test_unknown_convention_fails_with_choices(triplet):
    with pytest.raises(ValueError, match="cddfuse"):
        compute_metrics(*triplet, convention="vifb")


def test_shape_mismatch_is_reported(triplet):
    ir, vi, fused = triplet
    with pytest.raises(ValueError, match="shape mismatch"):
        compute_metrics(ir, vi, fused[:-1])
    with pytest.raises(ValueError, match="shape mismatch"):
        compute_metrics_batch(*(torch.from_numpy(a)[None] for a in (ir, vi, fused[:, :-2])))


def test_suite_is_symmetric_in_the_sources(triplet):
    ir, vi, fused = triplet
    a, b = compute_metrics(ir, vi, fused), compute_metrics(vi, ir, fused)
    for name in METRIC_NAMES:
        assert a[name] == pytest.approx(b[name], rel=1e-10), name


def test_batch_gives_each_images_own_values(triplets):
    ir, vi, fused = (torch.from_numpy(np.stack(t)) for t in zip(*triplets))
    batched = compute_metrics_batch(ir, vi, fused)
    for i, single in enumerate(compute_metrics(*t) for t in triplets):
        for name in METRIC_NAMES:
            assert batched[name][i].item() == pytest.approx(single[name], rel=1e-10), name


def test_torch_conv_path_agrees_with_numpy_path(triplets, monkeypatch):
    """The conv2d path (used on GPU) gives the numbers of the OpenCV path (CPU)."""
    expected = [compute_metrics(*t) for t in triplets]
    monkeypatch.setattr(filtering, "_correlate_opencv", filtering._correlate_torch)
    ir, vi, fused = (torch.from_numpy(np.stack(t)) for t in zip(*triplets))
    got = compute_metrics_batch(ir, vi, fused)
    for i in range(len(triplets)):
        for name in METRIC_NAMES:
            assert got[name][i].item() == pytest.approx(expected[i][name], rel=1e-9), name


def test_float32_on_request_is_close_and_inputs_are_promoted(triplets):
    ir, vi, fused = (torch.from_numpy(np.stack(t)) for t in zip(*triplets))
    exact = compute_metrics_batch(ir, vi, fused)
    approx = compute_metrics_batch(ir.float(), vi.float(), fused.float(), dtype=None)
    promoted = compute_metrics_batch(ir.float(), vi.float(), fused.float())
    assert all(v.dtype == torch.float64 for v in promoted.values())
    as_uint8 = compute_metrics_batch(ir.to(torch.uint8), vi.to(torch.uint8), fused.to(torch.uint8))
    for name in METRIC_NAMES:
        assert approx[name].dtype == torch.float32 or name in ("EN", "MI")
        torch.testing.assert_close(approx[name].double(), exact[name], rtol=1e-3, atol=1e-4, msg=name)
        torch.testing.assert_close(as_uint8[name], exact[name], rtol=1e-12, atol=0, msg=name)


def test_batch_stays_on_the_input_device(triplets):
    ir, vi, fused = (torch.from_numpy(np.stack(t)) for t in zip(*triplets))
    out = compute_metrics_batch(ir, vi, fused, names=["VIF", "MI"])
    assert all(v.shape == (3,) and v.device == ir.device for v in out.values())


@pytest.mark.parametrize("convention", ["cddfuse", "matlab-tang"])
def test_metric_functions_batch_like_the_gpu_path(triplets, convention, monkeypatch):
    """The batched kernels (what runs on GPU, where the suite does not split batches)."""
    from ivif.metrics.conventions import get_convention
    from ivif.metrics.suite import METRICS

    monkeypatch.setattr(filtering, "_correlate_opencv", filtering._correlate_torch)
    conv = get_convention(convention)
    ir, vi, fused = (torch.from_numpy(np.stack(t)) for t in zip(*triplets))
    for name, fn in METRICS.items():
        batched = fn(ir, vi, fused, conv)
        singles = torch.cat([fn(ir[i : i + 1], vi[i : i + 1], fused[i : i + 1], conv) for i in range(len(triplets))])
        torch.testing.assert_close(batched, singles, rtol=1e-10, atol=0, msg=name)
