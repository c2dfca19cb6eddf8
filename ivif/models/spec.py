"""Model SPECs: one string naming where a fusion model's weights come from.

- ``upstream:<model>:<path>``: a released upstream state_dict (``cnn``, ``transformer``
  or ``gan``), converted on the fly (:mod:`ivif.models.upstream`).
- ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``runs:/RUN/PATH``: an MLflow model.
  Resolving those needs the registry, a layer above this one: entry points enable them
  with :func:`ivif.registry.loading.enable_model_uris`, which registers a loader here
  (:func:`register_spec_loader`) bound to the store they resolved.
- anything else: the path of an ivif checkpoint (:mod:`ivif.models.checkpoint`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

UPSTREAM_PREFIX = "upstream:"
MLFLOW_PREFIXES = ("models:/", "runs:/")

# URI prefix -> loader(spec) -> nn.Module, registered by higher layers.
_LOADERS: dict[str, Callable[[str], nn.Module]] = {}


def register_spec_loader(prefix: str, loader: Callable[[str], nn.Module]) -> None:
    """Load specs starting with ``prefix`` with ``loader`` (replacing any earlier one)."""
    _LOADERS[prefix] = loader


def load_model_from_spec(spec: str) -> nn.Module:
    """The fusion model ``spec`` names, weights loaded, on CPU, in eval mode.

    Raises ``FileNotFoundError`` / ``ValueError`` whose message names the spec and the fix.
    """
    if spec.startswith(UPSTREAM_PREFIX):
        return _load_upstream(spec)
    for prefix, loader in _LOADERS.items():
        if spec.startswith(prefix):
            return loader(spec).eval()
    if spec.startswith(MLFLOW_PREFIXES):
        raise ValueError(
            f"model spec {spec!r} is an MLflow URI, which this entry point does not resolve; "
            "call ivif.registry.loading.enable_model_uris(tracking_uri) first"
        )
    from ivif.models.checkpoint import load_model

    return load_model(Path(spec))


def _load_upstream(spec: str) -> nn.Module:
    from ivif.models.upstream import load_upstream_model, supported_models

    model_name, sep, path = spec[len(UPSTREAM_PREFIX) :].partition(":")
    if not sep or not path:
        raise ValueError(f"malformed model spec {spec!r}: expected upstream:<model>:<path>, e.g. upstream:cnn:weights/cnn.model")
    if model_name not in supported_models():
        raise ValueError(f"model spec {spec!r}: unknown upstream model {model_name!r}; choose one of {', '.join(supported_models())}")
    return load_upstream_model(model_name, Path(path))
