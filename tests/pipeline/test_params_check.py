"""`ivif params check` (the DVC stage `validate`): every section built, the links between
sections checked, errors naming the key, the bad value and the valid choices."""

from __future__ import annotations

import json

import pytest
import yaml

from ivif.cli import main
from ivif.cli.params import check_params
from ivif.params import ParamsError, load_params


def test_the_projects_params_are_valid(project_root):
    configs = check_params(load_params(project_root / "params.yaml"))
    assert configs["train"].manifest in configs["pairs"].manifests


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "train",
            {"manifest": "nope"},
            "train.manifest: 'nope' is not a manifest in pairs.manifests; choose one of ['aptp', 'sptp', 'uptp']",
        ),
        (
            "train",
            {"model": "cnnn"},
            "train.model: 'cnnn' is not a registered model; choose one of ['cnn', 'gan', ",
        ),  # tests may register more
        ("train", {"max_step": 5}, "params section 'train' has unknown key(s) ['max_step']; valid keys are"),
        ("evaluate", {"dataset": "msrs"}, "evaluate.dataset: 'msrs' is not in data.datasets; choose one of ['sample']"),
        ("gate", {"metrics": ["EN", "PSNR"]}, "gate.metrics: ['PSNR'] are not in evaluate.metrics"),
        ("trian", {"lr": 1}, "params has unknown section(s) ['trian']"),
    ],
)
def test_bad_params_name_key_value_and_choices(project_root, section, values, message):
    params = load_params(project_root / "params.yaml")
    params.setdefault(section, {}).update(values)
    with pytest.raises(ParamsError) as error:
        check_params(params)
    assert message in str(error.value)


def test_cli_writes_a_value_independent_record(project_root, tmp_path, capsys):
    params = yaml.safe_load((project_root / "params.yaml").read_text())
    outs = []
    for lr in (1.0e-3, 2.0e-3):
        params["train"]["lr"] = lr
        path = tmp_path / f"params-{lr}.yaml"
        path.write_text(yaml.safe_dump(params))
        out = tmp_path / f"checked-{lr}.json"
        assert main(["params", "check", "--params", str(path), "--out", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == (project_root / "data" / "params.checked.json").read_bytes()
    assert json.loads(outs[0])["checked"][0] == "data"
    params["train"]["manifest"] = "nope"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(params))
    assert main(["params", "check", "--params", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "bad.json")]) == 1
    assert "'nope' is not a manifest" in capsys.readouterr().err and not (tmp_path / "bad.json").exists()
