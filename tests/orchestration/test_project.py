"""What a retrain run may change: the override allow-list and the project binding."""

from __future__ import annotations

import pytest

from ivif.orchestration.project import (
    OVERRIDES_ENV,
    PROJECT_ENV,
    ProjectError,
    bind_project,
    bound_project,
    check_run_overrides,
)


def test_hyperparameters_may_be_overridden():
    overrides = ["train.lr=1e-3", "train.max_steps=500", "train.loss.alpha=2", "train.gan.lr=0.1", "train.model=gan"]
    assert check_run_overrides(overrides, environ={}) == overrides


@pytest.mark.parametrize(
    "override",
    [
        "retrain.data_stages=[data/raw/tno/dvc.yaml:pwn]",
        "retrain.out_dir=/etc",
        "data.cache_root=/tmp",
        "pairs.out_dir=/tmp",
        "tracking.store=http://evil:5000",
        "evaluate.metrics_file=/tmp/x.json",
        "gate.tolerance=1.0",
        "train.paradigm=../../x",
        "train.loss=x",
        "train.loss.*=1",
        "scripted.quality=strong",
    ],
)
def test_everything_else_is_refused_naming_the_key(override):
    key = override.partition("=")[0]
    with pytest.raises(ProjectError, match=f"{key!r} may not be changed by a run"):
        check_run_overrides([override], environ={})


def test_operator_may_allow_more_keys_but_never_protected_sections():
    assert check_run_overrides(["scripted.quality=weak"], environ={OVERRIDES_ENV: "scripted.*"}) == ["scripted.quality=weak"]
    with pytest.raises(ProjectError, match="protected section"):
        check_run_overrides(["train.lr=1"], environ={OVERRIDES_ENV: "retrain.*"})


def test_binding_is_read_back_and_required(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train: {}\n")
    env: dict[str, str] = {}
    assert bind_project(params, environ=env).root == tmp_path.resolve()
    assert bound_project(env).params == params.resolve() and env[PROJECT_ENV] == str(params.resolve())
    with pytest.raises(ProjectError, match="bound to no project"):
        bound_project({})
    with pytest.raises(ProjectError, match="no such params file"):
        bind_project(tmp_path / "missing.yaml", environ={})
