"""Loading ``params.yaml`` into frozen, validated config dataclasses.

There is no global config object: entry points call :func:`load_params` once and pass
the section dataclasses they need explicitly to library code. Each concern defines its
own dataclass next to the code that uses it (e.g. ``ivif.data.config.ShardConfig``) and
builds it with :func:`from_mapping`, which rejects unknown keys by name so that a typo
in ``params.yaml`` is an error rather than a silently ignored knob.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

DEFAULT_PARAMS = "params.yaml"  # relative to the project root, where entry points run


class ParamsError(ValueError):
    """A ``params.yaml`` section is missing, has unknown keys or invalid values."""


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Read a params file into a plain dict (sections as top-level keys)."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found; run from the project root or pass --params PATH")
    with path.open() as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    return data


def section(params: Mapping[str, Any], name: str, cls: type[T]) -> T:
    """Build dataclass ``cls`` from ``params[name]`` (a missing section uses the defaults)."""
    return from_mapping(cls, params.get(name) or {}, where=name)


def from_mapping(cls: type[T], values: Mapping[str, Any], where: str = "") -> T:
    """Construct a (possibly nested) dataclass from a mapping, validating keys.

    Nested dataclass fields are built recursively; tuples are converted from lists.
    ``__post_init__`` of the dataclass does value validation.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(values, Mapping):
        raise ParamsError(f"params section '{where}' must be a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ParamsError(f"params section '{where}' has unknown key(s) {unknown}; valid keys are {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        kwargs[key] = _coerce(hints[key], value, f"{where}.{key}" if where else key)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"params section '{where}': {exc}") from exc


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return from_mapping(hint, value, where)
    origin = typing.get_origin(hint)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    return value


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to dotted keys (for MLflow params)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out
