"""``ivif train`` argument handling and its one-line errors."""

from __future__ import annotations

import shutil

import pytest

from ivif.cli import main
from ivif.training.run import apply_overrides


def test_overrides_parse_yaml_values():
    params = apply_overrides(
        {"train": {"lr": 0.1}}, ["train.lr=1e-3", "train.max_steps=null", "train.loss.beta=0.5", "train.model=gan", "train.gan.lr=2E-4"]
    )
    assert params["train"] == {"lr": 0.001, "max_steps": None, "loss": {"beta": 0.5}, "model": "gan", "gan": {"lr": 0.0002}}


@pytest.mark.parametrize("bad", ["lr=1", "train.lr", "=3"])
def test_malformed_override(bad):
    with pytest.raises(ValueError, match="section.key=value"):
        apply_overrides({}, [bad])


def test_cli_trains_and_reports(tiny_project, capsys):
    out = tiny_project.parent / "cli-run"
    assert main(["train", "--params", str(tiny_project), "--out", str(out), "--no-track", "--no-progress", "train.max_steps=2"]) == 0
    assert "done at step 2/2" in capsys.readouterr().out
    assert (out / "model.pt").is_file()


def test_missing_manifest_is_one_clear_line(tiny_project, capsys):
    shutil.rmtree(tiny_project.parent / "data" / "pairs" / "sptp")
    assert main(["train", "--params", str(tiny_project), "--no-track", "train.manifest=sptp"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sptp" in err and "dvc repro pairs" in err


def test_unknown_train_key_is_named(tiny_project, capsys):
    assert main(["train", "--params", str(tiny_project), "--no-track", "train.learning_rate=0.1"]) == 1
    assert "learning_rate" in capsys.readouterr().err
