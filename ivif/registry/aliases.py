"""Registered-model names, aliases and ``models:/`` URIs.

A trained model is registered as ``ivif-<model>-<manifest>`` (``ivif-cnn-aptp``,
``ivif-gan-uptp_25``: :func:`ivif.training.config.run_name`). A newly registered version
gets the alias ``candidate``; the champion gate moves ``champion`` onto the version it
was given when that beats the current one. Aliases are for people looking models up
(``models:/ivif-cnn-aptp@champion``); pipeline steps pass explicit versions.
"""

from __future__ import annotations

import re

REGISTERED_PREFIX = "ivif-"
CANDIDATE = "candidate"
CHAMPION = "champion"
MODELS_SCHEME = "models:/"

_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)$")


def registered_name(model: str) -> str:
    """Architecture name -> registered model name: ``"cnn"`` -> ``"ivif-cnn"``."""
    return model if model.startswith(REGISTERED_PREFIX) else f"{REGISTERED_PREFIX}{model}"


def architecture_of(name: str) -> str:
    """Registered model name -> architecture name: ``"ivif-cnn"`` -> ``"cnn"``."""
    return name[len(REGISTERED_PREFIX) :] if name.startswith(REGISTERED_PREFIX) else name


def alias_uri(name: str, alias: str) -> str:
    """``models:/ivif-cnn@champion`` for ``("cnn" or "ivif-cnn", "champion")``."""
    return f"{MODELS_SCHEME}{registered_name(name)}@{alias}"


def is_model_uri(spec: str) -> bool:
    """True for MLflow model URIs (``models:/...``, ``runs:/...``) as opposed to file paths."""
    return spec.startswith((MODELS_SCHEME, "runs:/"))


def parse_alias_uri(uri: str) -> tuple[str, str]:
    """``models:/NAME@ALIAS`` -> ``(NAME, ALIAS)``; ValueError for any other form."""
    match = _ALIAS_URI.match(uri)
    if not match:
        raise ValueError(f"{uri!r} is not a models:/NAME@ALIAS URI (e.g. models:/ivif-cnn@champion)")
    return match["name"], match["alias"]


def version_for_alias(client, name: str, alias: str):
    """The ModelVersion that ``alias`` points to, or None when unset (or no such model)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def move_alias(client, name: str, alias: str, version: str | int) -> None:
    """Point ``alias`` of registered model ``name`` at ``version`` (replacing any previous)."""
    client.set_registered_model_alias(name, alias, str(version))
