"""The dataset registry and the data config built from params.yaml."""

from __future__ import annotations

import pytest

from ivif.data.config import DataConfig, ShardConfig
from ivif.data.registry import DATASETS, POOLED, UnknownDatasetError, get_dataset
from ivif.params import ParamsError, load_params, section


def test_known_datasets():
    assert set(DATASETS) == {"sample", "msrs", "m3fd", "tno", "roadscene"}
    assert get_dataset("msrs").has_official_split
    assert dict(get_dataset("msrs").expected_pairs) == {"train": 1083, "test": 361}
    assert get_dataset("m3fd").import_only and "--from" in get_dataset("m3fd").import_hint
    assert get_dataset("roadscene").splits[POOLED].vi == ("crop_LR_visible", "vi")  # upstream layout, then plain
    for spec in DATASETS.values():
        assert spec.licence and spec.homepage.startswith("https://")
        for source in spec.sources:
            assert source.url.startswith("https://")


def test_unknown_dataset_lists_known_names():
    with pytest.raises(UnknownDatasetError, match="known datasets: sample, msrs"):
        get_dataset("llvip")


def test_specs_are_read_only():
    with pytest.raises(TypeError):
        get_dataset("msrs").splits["val"] = None  # type: ignore[index]


def test_sample_matches_its_spec(sample_dir):
    ir = sorted(p.stem for p in (sample_dir / "ir").glob("*.png"))
    vi = sorted(p.stem for p in (sample_dir / "vi").glob("*.png"))
    assert ir == vi and len(ir) == get_dataset("sample").expected_pairs[POOLED]
    assert sum(p.stat().st_size for p in sample_dir.rglob("*")) < 10 * 2**20


def test_params_yaml_sections_build(project_root):
    params = load_params(project_root / "params.yaml")
    data = section(params, "data", DataConfig)
    assert "sample" in data.datasets
    assert data.local_source("sample") is not None
    section(params, "shard", ShardConfig)


def test_config_rejects_unknown_dataset_and_keys():
    with pytest.raises(ParamsError, match="unknown dataset 'nope'"):
        section({"data": {"datasets": ["nope"]}}, "data", DataConfig)
    with pytest.raises(ParamsError, match="unknown key"):
        section({"shard": {"test_fraktion": 0.2}}, "shard", ShardConfig)
    assert DataConfig(import_from={"m3fd": "/x/M3FD.zip"}).local_source("m3fd").name == "M3FD.zip"
    assert DataConfig().local_source("msrs") is None
