"""The paper's adaptive fusion losses, as pure functions plus thin ``nn.Module`` wrappers.

Every pixel term weights the two sources with W(a; a, b) = a / (a + b + eps)
(:mod:`ivif.losses.weights`), which is what lets any IR image be paired with any visible
image: the target is built per pixel from whatever the two inputs are, so no registered
ground truth is needed.

Image range convention: sources are (B, 1, H, W) tensors in [0, 1]; the fused image is
the model's tanh output used **as is** (no ``(x + 1) / 2`` rescaling). This is how the
released checkpoints were trained: their raw outputs on the reference pairs lie in
[0.005, 0.97] and match the inputs' [0, 1] scale (``../shared/reference/upstream_outputs``),
so fusion writes the output unstretched and the losses compare it to [0, 1] sources.
"""

from ivif.losses.config import LossConfig
from ivif.losses.gradient import GradientLoss, gradient_loss, sobel_magnitude
from ivif.losses.intensity import IntensityLoss, intensity_loss
from ivif.losses.ssim import SSIMLoss, gaussian_window, ssim, ssim_loss, ssim_map, ssim_weights
from ivif.losses.total import FusionLoss, LossTerms, fusion_loss
from ivif.losses.weights import adaptive_weight, adaptive_weights, weighted_target

__all__ = [
    "FusionLoss",
    "GradientLoss",
    "IntensityLoss",
    "LossConfig",
    "LossTerms",
    "SSIMLoss",
    "adaptive_weight",
    "adaptive_weights",
    "fusion_loss",
    "gaussian_window",
    "gradient_loss",
    "intensity_loss",
    "sobel_magnitude",
    "ssim",
    "ssim_loss",
    "ssim_map",
    "ssim_weights",
    "weighted_target",
]
