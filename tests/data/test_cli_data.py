"""`ivif data ...` end to end through the real dispatcher."""

from __future__ import annotations

import pytest
import yaml

from ivif.cli import main
from ivif.data.cache import ImageCache


@pytest.fixture
def params(tmp_path, sample_dir):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({
        "data": {
            "datasets": ["sample"], "sample_dir": str(sample_dir), "raw_root": str(tmp_path / "raw"),
            "download_dir": str(tmp_path / "dl"), "shard_root": str(tmp_path / "shards"),
            "cache_root": str(tmp_path / "cache"), "import_from": {},
        },
        "shard": {"test_fraction": 0.25, "seed": 0, "samples_per_tar": 1000, "skip_bad": False},
    }))
    return path


def test_fetch_shard_cache_with_params_defaults(params, tmp_path, capsys):
    for action in ("fetch", "shard", "cache"):
        assert main(["data", action, "sample", "--params", str(params), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "train 12, test 4 pairs" in out
    assert len(ImageCache(tmp_path / "cache" / "sample" / "train")) == 12
    assert len(ImageCache(tmp_path / "cache" / "sample" / "test")) == 4


def test_validate_reports_each_bad_file(tmp_path, shared, copy_pairs, capsys):
    root = copy_pairs(shared / "data" / "msrs13", tmp_path / "set", ["00004N", "00012N"])
    (root / "vi" / "00012N.png").unlink()
    assert main(["data", "validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert "1 problem(s)" in err and "00012N.png: no visible counterpart" in err
    assert main(["data", "validate", str(root), "--skip-bad"]) == 0
    assert "1 valid pair(s), 1 problem(s)" in capsys.readouterr().out


def test_errors_are_one_clear_message(params, capsys):
    assert main(["data", "fetch", "llvip", "--params", str(params)]) == 1  # not registered, no --from
    assert "'llvip' is not a registered dataset" in (err := capsys.readouterr().err) and "--from DIR" in err
    assert main(["data", "fetch", "../evil", "--params", str(params)]) == 1
    assert "dataset name '../evil' is not allowed" in capsys.readouterr().err
    assert main(["data", "fetch", "m3fd", "--params", str(params)]) == 1
    assert "--from PATH" in capsys.readouterr().err
    assert main(["data", "cache", "sample", "--params", str(params)]) == 1
    assert "ivif data shard" in capsys.readouterr().err


def test_list_shows_every_dataset(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("sample", "msrs", "m3fd", "tno", "roadscene"):
        assert f"\n{name} " in f"\n{out}"
