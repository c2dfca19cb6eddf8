"""Fixtures of the fusion tests: upstream models (loaded once) and reference outputs."""

from __future__ import annotations

import numpy as np
import pytest

from ivif.models.upstream import load_upstream_model

# Reference pair key -> (dataset folder, file name), as in ../shared/README.md.
REFERENCE_PAIRS = {
    "msrs_00004N": ("msrs13", "00004N.png"),
    "tno_01": ("tno42", "01.png"),
    "roadscene_FLIR_00006": ("roadscene221", "FLIR_00006.jpg"),
}


@pytest.fixture(scope="session")
def upstream_model(shared):
    """Model name -> upstream-weighted ivif model (eval), loaded once per session."""
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_upstream_model(name, shared / "weights" / "upstream" / f"{name}.model")
        return cache[name]

    return get


@pytest.fixture(scope="session")
def reference_output(shared):
    """(model, pair key, protocol) -> the upstream output array."""
    archives = {}

    def get(model: str, pair: str, protocol: str) -> np.ndarray:
        if model not in archives:
            archives[model] = np.load(shared / "reference" / "upstream_outputs" / f"{model}.npz")
        return archives[model][f"{pair}.{protocol}"]

    return get
