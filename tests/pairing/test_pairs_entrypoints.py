"""The ``pairs:`` params section, ``ivif pairs`` and the Prefect flow ``flows/pairing.py``."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from ivif.cli import main
from ivif.pairing.config import PairsConfig
from ivif.pairing.manifest import load_manifest, read_summary, read_table
from ivif.params import ParamsError, from_mapping, load_params, section

MANIFESTS = {
    "sptp5": {"policy": "SPTP", "ir": "tno42", "vis": "tno42", "split": "train", "subset": 5},
    "uptp": {"policy": "unpaired", "ir": "msrs13", "vis": "msrs13", "split": "train", "samples": 20, "seed": 4},
    "cross": {"policy": "APTP", "ir": "m3fd6", "vis": "msrs13", "split": "train"},
}


@pytest.fixture
def params_file(tmp_path, msrs_cache, tno_cache, m3fd_cache, cache_root):
    path = tmp_path / "params.yaml"
    path.write_text(
        yaml.safe_dump({"data": {"cache_root": str(cache_root)}, "pairs": {"out_dir": str(tmp_path / "pairs"), "manifests": MANIFESTS}})
    )
    return path


def test_project_params_define_the_three_sample_manifests(project_root):
    config = section(load_params(project_root / "params.yaml"), "pairs", PairsConfig)
    assert {name: spec.policy for name, spec in config.manifests.items()} == {"sptp": "strict", "uptp": "unpaired", "aptp": "arbitrary"}


def test_params_section_rejects_typos_and_bad_values():
    with pytest.raises(ParamsError, match=r"unknown key\(s\) \['sample'\]"):
        from_mapping(PairsConfig, {"manifests": {"a": {"policy": "aptp", "ir": "x", "sample": 3}}}, "pairs")
    with pytest.raises(ParamsError, match="unknown pairing policy"):
        from_mapping(PairsConfig, {"manifests": {"a": {"policy": "loose", "ir": "x"}}}, "pairs")
    with pytest.raises(ParamsError, match="subset must be >= 1"):
        from_mapping(PairsConfig, {"manifests": {"a": {"policy": "aptp", "ir": "x", "subset": 0}}}, "pairs")
    with pytest.raises(ParamsError, match="names a folder"):
        from_mapping(PairsConfig, {"manifests": {"../a": {"policy": "aptp", "ir": "x"}}}, "pairs")


def test_cli_builds_the_params_manifests_and_shows_them(params_file, tmp_path, capsys):
    assert main(["pairs", "build", "--params", str(params_file), "--no-progress"]) == 0
    pairs = tmp_path / "pairs"
    assert sorted(p.name for p in pairs.iterdir()) == ["cross", "sptp5", "uptp"]
    assert len(read_table(pairs / "sptp5", verify=True)) == 5
    assert read_summary(pairs / "uptp")["counts"]["pairs_per_epoch"] == 20
    cross = read_table(pairs / "cross")
    assert len(cross) == 6 * 8 and cross[:, 0].max() == 5 and cross[:, 1].max() == 7

    capsys.readouterr()
    assert main(["pairs", "show", str(pairs / "uptp"), "--head", "3", "--epoch", "2"]) == 0
    out = capsys.readouterr().out
    assert "unpaired (20 sampled, seed 4): 20 pairs/epoch of 56 combinations" in out
    listed = [line for line in out.splitlines() if "epoch 2 #" in line]
    assert len(listed) == 3 and "(000" in listed[0]  # MSRS names like 00004N next to the indices


def test_cli_make_and_its_errors(msrs_cache, m3fd_cache, tmp_path, capsys):
    out = tmp_path / "x"
    argv = ["pairs", "make", str(out), "--policy", "uptp", "--ir-cache", str(m3fd_cache.root), "--vis-cache", str(msrs_cache.root)]
    assert main([*argv, "--samples", "7", "--seed", "1", "--no-progress"]) == 0
    manifest = load_manifest(out)
    assert len(manifest) == 7 and manifest.ir.dataset == "m3fd6" and manifest.vis.dataset == "msrs13"
    assert main([*argv, "--samples", "100", "--no-progress"]) == 1
    assert "only 42 exist" in capsys.readouterr().err
    assert main(["pairs", "build", "nope", "--params", str(tmp_path / "missing.yaml")]) == 1


@pytest.mark.slow  # ~35 s: a fresh Prefect home migrates its database before the flow runs
def test_prefect_flow_builds_what_the_cli_builds(params_file, tmp_path, project_root):
    assert main(["pairs", "build", "uptp", "--params", str(params_file), "--out", str(tmp_path / "cli"), "--no-progress"]) == 0
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),  # a throwaway API database, not the user's
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # The default 20 s is too short to migrate a fresh database on a busy 2-core machine.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    command = [sys.executable, "-m", "flows.pairing", "--params", str(params_file), "uptp", "cross"]
    result = subprocess.run(command, cwd=project_root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    flow_dir = tmp_path / "pairs"
    assert sorted(p.name for p in flow_dir.iterdir()) == ["cross", "uptp"]
    for name in ("manifest.json", "pairs.npy"):
        assert (flow_dir / "uptp" / name).read_bytes() == (tmp_path / "cli" / "uptp" / name).read_bytes()
    assert np.array_equal(read_table(flow_dir / "cross")[:3], load_manifest(flow_dir / "cross").at(0, np.arange(3)))
