"""Fusion networks behind a timm-style registry, and loading of their weights.

>>> from ivif.models import create_model, list_models
>>> list_models()
['cnn', 'gan', 'transformer']
>>> model = create_model("cnn")  # (B, 2, H, W) [IR, VIS luma] in [0,1] -> (B, 1, H, W) tanh

See :mod:`ivif.models.contract` for the input/output contract,
:mod:`ivif.models.checkpoint` for ivif's checkpoint format and
:mod:`ivif.models.upstream` for importing the paper's released weights.
"""

from ivif.models.registry import create_model, is_model, list_models, register_model

# Importing the architectures registers them.
from ivif.models import cnn, gan, transformer  # noqa: E402,F401  isort: skip
from ivif.models.gan import Discriminator, create_discriminator  # noqa: E402

__all__ = ["Discriminator", "create_discriminator", "create_model", "is_model", "list_models", "register_model"]
