"""timm-style model registry: ``@register_model`` factories, ``create_model(name, **kwargs)``.

A factory is any callable returning an ``nn.Module``; its keyword arguments are the
model's configuration (they are stored in checkpoints as ``model_kwargs`` so a
checkpoint rebuilds its model without code changes). Factories register themselves
when their module is imported; ``ivif.models`` imports every built-in model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from torch import nn

ModelFactory = TypeVar("ModelFactory", bound=Callable[..., nn.Module])

_FACTORIES: dict[str, Callable[..., nn.Module]] = {}


def register_model(factory: ModelFactory | None = None, *, name: str | None = None):
    """Register ``factory`` under ``name`` (default: the function's name).

    Usable bare (``@register_model``) or with a name (``@register_model(name="gan")``).
    Registering a taken name is an error: two models must never share one.
    """

    def register(fn: ModelFactory) -> ModelFactory:
        key = name or fn.__name__
        if key in _FACTORIES:
            raise ValueError(f"model {key!r} is already registered (by {_FACTORIES[key].__module__})")
        _FACTORIES[key] = fn
        return fn

    return register(factory) if factory is not None else register


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    _load_builtin_models()
    return sorted(_FACTORIES)


def is_model(name: str) -> bool:
    _load_builtin_models()
    return name in _FACTORIES


def create_model(name: str, **kwargs) -> nn.Module:
    """Build the registered model ``name`` with configuration ``kwargs`` (freshly initialised)."""
    _load_builtin_models()
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(_FACTORIES))}") from None
    return factory(**kwargs)


def _load_builtin_models() -> None:
    # Importing the package registers the built-in architectures (idempotent).
    import ivif.models  # noqa: F401
