"""MLflow tracking and model registry for ivif: where runs go, how a fusion model is
logged, registered, aliased (``candidate``/``champion``), looked up and promoted.

>>> from ivif.registry import log_and_register, load_torch_model
>>> version = log_and_register(model, "cnn", run, model_kwargs={})   # -> ivif-cnn@candidate
>>> model = load_torch_model("models:/ivif-cnn@champion")
"""

from ivif.registry.aliases import (
    CANDIDATE,
    CHAMPION,
    alias_uri,
    is_model_uri,
    move_alias,
    parse_alias_uri,
    registered_name,
    version_for_alias,
)
from ivif.registry.loading import load_torch_model
from ivif.registry.register import log_and_register
from ivif.registry.tracking import TrackingConfig, configure_tracking, resolve_tracking_uri

__all__ = [
    "CANDIDATE",
    "CHAMPION",
    "TrackingConfig",
    "alias_uri",
    "configure_tracking",
    "is_model_uri",
    "load_torch_model",
    "log_and_register",
    "move_alias",
    "parse_alias_uri",
    "registered_name",
    "resolve_tracking_uri",
    "version_for_alias",
]
