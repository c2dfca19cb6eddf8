"""A model SPEC as users write it -> the torch model.

``models:/NAME@ALIAS`` (or any MLflow model URI) -> the registry;
``upstream:<model>:<path>`` -> the paper's released state_dict; anything else -> an ivif
checkpoint file.
"""

from __future__ import annotations

UPSTREAM_PREFIX = "upstream:"


def load_model_spec(spec: str, map_location: str = "cpu"):
    """The eval-mode ``nn.Module`` named by ``spec`` (see module docstring)."""
    from ivif.models.checkpoint import load_model
    from ivif.registry import is_model_uri, load_torch_model

    if is_model_uri(spec):
        return load_torch_model(spec, map_location=map_location)
    if spec.startswith(UPSTREAM_PREFIX):
        from ivif.models.upstream import load_upstream_model

        model_name, sep, path = spec[len(UPSTREAM_PREFIX):].partition(":")
        if not sep or not path:
            raise ValueError(f"{spec!r}: write upstream specs as upstream:<cnn|transformer|gan>:<path>")
        return load_upstream_model(model_name, path).eval()
    return load_model(spec, map_location=map_location)
