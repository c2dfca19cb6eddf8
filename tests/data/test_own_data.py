"""Your own data is first-class: any ir/ + vi/ folder imports under a name you choose,
registered datasets accept that layout too, and a dataset can be scored whole."""

from __future__ import annotations

import pytest
import yaml

from ivif.cli import main
from ivif.data.cache import ImageCache
from ivif.data.layout import plan_splits
from ivif.data.registry import POOLED, get_dataset, layout_for
from ivif.data.split import SplitRule

TNO_PAIRS = 42


def _params(tmp_path, **overrides):
    path = tmp_path / "params.yaml"
    data = {
        "datasets": ["sample"],
        "raw_root": str(tmp_path / "raw"),
        "download_dir": str(tmp_path / "dl"),
        "shard_root": str(tmp_path / "shards"),
        "cache_root": str(tmp_path / "cache"),
        "import_from": {},
        **overrides.pop("data", {}),
    }
    path.write_text(yaml.safe_dump({"data": data, **overrides}))
    return str(path)


def test_own_folder_imports_under_a_chosen_name_and_scores_whole(
    tmp_path, shared, capsys
):
    params = _params(tmp_path, shard={"test_fraction": 1.0})
    tno42 = shared / "data" / "tno42"
    assert (
        main(
            [
                "data",
                "fetch",
                "mytno",
                "--from",
                str(tno42),
                "--params",
                params,
                "--no-progress",
            ]
        )
        == 0
    )
    assert main(["data", "shard", "mytno", "--params", params, "--no-progress"]) == 0
    assert main(["data", "cache", "mytno", "--params", params, "--no-progress"]) == 0
    assert (
        f"mytno: shards in {tmp_path / 'shards' / 'mytno'} (train 0, test {TNO_PAIRS} pairs)"
        in capsys.readouterr().out
    )
    test = ImageCache(tmp_path / "cache" / "mytno" / "test")
    assert len(test) == TNO_PAIRS and test.meta["dataset"] == "mytno"
    assert sorted(test.names) == sorted(p.stem for p in (tno42 / "ir").iterdir())
    assert len(ImageCache(tmp_path / "cache" / "mytno" / "train")) == 0
    assert main(["data", "verify", "mytno", "--params", params]) == 0


def test_params_import_from_names_your_own_dataset(tmp_path, shared, sample_dir):
    # what the DVC fetch stage runs: `ivif data fetch ${item}` with data.import_from in params
    params = _params(
        tmp_path, data={"datasets": ["mine"], "import_from": {"mine": str(sample_dir)}}
    )
    assert main(["data", "fetch", "mine", "--params", params, "--no-progress"]) == 0
    assert {".ivif-source.json", "ir", "vi"} <= {
        p.name for p in (tmp_path / "raw" / "mine").iterdir()
    }


def test_a_dataset_of_your_own_needs_a_source(tmp_path, capsys):
    params = _params(tmp_path, data={"datasets": ["mine"]})
    assert main(["data", "fetch", "mine", "--params", params]) == 1
    assert "add data.import_from: {mine: DIR}" in capsys.readouterr().err


def test_a_folder_without_ir_and_vi_is_refused_before_anything_is_placed(
    tmp_path, capsys
):
    params = _params(tmp_path)
    (tmp_path / "src" / "images").mkdir(parents=True)
    (tmp_path / "src" / "notes").mkdir()
    assert (
        main(
            [
                "data",
                "fetch",
                "mine",
                "--from",
                str(tmp_path / "src"),
                "--params",
                params,
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'src'}: no image folders for mine" in err
        and "['images', 'notes']" in err
    )
    assert not (tmp_path / "raw" / "mine").exists()


def test_registry_dataset_accepts_plain_ir_vi_layout(tmp_path, shared):
    params = _params(tmp_path)
    assert (
        main(
            [
                "data",
                "fetch",
                "roadscene",
                "--from",
                str(shared / "data" / "roadscene221"),
                "--params",
                params,
                "--no-progress",
            ]
        )
        == 0
    )
    raw = tmp_path / "raw" / "roadscene"
    spec = layout_for(get_dataset("roadscene"), raw)
    plan = plan_splits(spec, raw, SplitRule())
    assert sum(len(pairs) for pairs in plan.pairs.values()) == 221 and not plan.problems


def test_official_split_dataset_in_plain_layout_is_pooled(tmp_path, shared, copy_pairs):
    raw = copy_pairs(shared / "data" / "msrs13", tmp_path / "msrs")
    spec = layout_for(get_dataset("msrs"), raw)
    assert list(spec.splits) == [POOLED] and dict(spec.expected_pairs) == {
        POOLED: 1083 + 361
    }
    plan = plan_splits(spec, raw, SplitRule(test_fraction=1.0))
    assert len(plan.pairs["test"]) == 13 and plan.pairs["train"] == []
    assert layout_for(get_dataset("sample"), raw) == get_dataset(
        "sample"
    )  # its own layout: unchanged


@pytest.mark.parametrize("name", ["../x", "a b", "", "x" * 65])
def test_bad_dataset_names_are_refused(tmp_path, name, capsys):
    assert (
        main(
            [
                "data",
                "fetch",
                name,
                "--from",
                str(tmp_path),
                "--params",
                _params(tmp_path),
            ]
        )
        == 1
    )
    assert "is not allowed" in capsys.readouterr().err


def test_pairing_a_dataset_scored_whole_says_why_there_is_no_train_split(
    tmp_path, sample_dir
):
    from ivif.data.cache_build import build_caches
    from ivif.data.registry import get_dataset as spec_of
    from ivif.data.shard import write_shards
    from ivif.pairing.manifest import PairingError, plan_manifest

    plan = plan_splits(spec_of("sample"), sample_dir, SplitRule(test_fraction=1.0))
    write_shards(
        "sample", plan, tmp_path / "shards", samples_per_tar=100, progress=False
    )
    caches = build_caches(tmp_path / "shards", tmp_path / "cache", progress=False)
    train = ImageCache(caches["train"])
    with pytest.raises(
        PairingError, match=r"shard.test_fraction 1.0 .* a manifest needs a train split"
    ):
        plan_manifest(
            "aptp",
            train,
            train,
            "arbitrary",
            ir_dataset="sample",
            vis_dataset="sample",
            split="train",
        )


def test_test_fractions_score_one_dataset_whole_and_leave_the_others():
    from ivif.data.config import ShardConfig
    from ivif.params import ParamsError, section

    config = section(
        {"shard": {"test_fraction": 0.25, "test_fractions": {"mytno": 1.0}}},
        "shard",
        ShardConfig,
    )
    assert config.split_rule("mytno").test_fraction == 1.0
    assert (
        config.split_rule("sample").test_fraction
        == config.split_rule().test_fraction
        == 0.25
    )
    with pytest.raises(ParamsError, match="test_fraction must be in"):
        section({"shard": {"test_fractions": {"mytno": 1.5}}}, "shard", ShardConfig)
