"""Model SPECs: one string naming where a fusion model's weights come from.

- ``upstream:<model>:<path>``: a released upstream state_dict (``cnn``, ``transformer``
  or ``gan``), converted on the fly (:mod:`ivif.models.upstream`).
- ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``runs:/RUN/PATH``: an MLflow model,
  loaded through :func:`ivif.registry.load_torch_model`.
- anything else: the path of an ivif checkpoint (:mod:`ivif.models.checkpoint`).
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

UPSTREAM_PREFIX = "upstream:"
MLFLOW_PREFIXES = ("models:/", "runs:/")


def load_model_from_spec(spec: str) -> nn.Module:
    """The fusion model ``spec`` names, weights loaded, on CPU, in eval mode.

    Raises ``FileNotFoundError`` / ``ValueError`` whose message names the spec and the fix.
    """
    if spec.startswith(UPSTREAM_PREFIX):
        return _load_upstream(spec)
    if spec.startswith(MLFLOW_PREFIXES):
        return _load_mlflow(spec)
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


def _load_mlflow(spec: str) -> nn.Module:
    try:
        from ivif.registry import load_torch_model
    except ImportError as exc:
        raise ValueError(f"model spec {spec!r} needs the MLflow registry support (ivif.registry), which failed to import: {exc}") from exc
    return load_torch_model(spec).eval()
