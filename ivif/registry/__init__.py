"""MLflow tracking and model registry for ivif: where runs go, how a fusion model is
logged, registered, aliased (``candidate``/``champion``), looked up and promoted.

>>> from ivif.registry import register_model_file, load_torch_model
>>> version = register_model_file("models/cnn-aptp/model.pt", run_id=run_id)   # -> ivif-cnn-aptp, tagged with its sha256
>>> model = load_torch_model("models:/ivif-cnn-aptp@champion")
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
from ivif.registry.register import log_and_register, register_model_file
from ivif.tracking.store import TrackingConfig, configure_tracking, resolve_tracking_uri

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
    "register_model_file",
    "registered_name",
    "resolve_tracking_uri",
    "version_for_alias",
]
