"""Device errors suggest a fix the user's command accepts."""

from __future__ import annotations

import pytest
import torch

from ivif.fusion.device import resolve_device

needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="the message is about a machine without CUDA")


@needs_no_gpu
@pytest.mark.parametrize(
    ("setting", "fix"),
    [("--device", "use --device cpu or --device auto"), ("train.device", "use train.device=cpu or train.device=auto")],
)
def test_cuda_without_gpu_names_the_setting_the_user_has(setting, fix):
    with pytest.raises(ValueError) as caught:
        resolve_device("cuda", setting=setting)
    assert fix in str(caught.value)


def test_unknown_device_lists_the_choices():
    with pytest.raises(ValueError, match="train.device: unknown device 'gpu'; choose one of auto, cpu, cuda"):
        resolve_device("gpu", setting="train.device")
