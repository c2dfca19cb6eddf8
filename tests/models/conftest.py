"""Fixtures of the model tests: the released upstream checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

UPSTREAM_MODELS = ("cnn", "transformer", "gan")


@pytest.fixture(scope="session")
def upstream_weights(shared) -> dict[str, Path]:
    """Model name -> released upstream checkpoint in ../shared/weights/upstream."""
    return {name: shared / "weights" / "upstream" / f"{name}.model" for name in UPSTREAM_MODELS}
