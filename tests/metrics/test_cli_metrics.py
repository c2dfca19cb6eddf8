import csv
import json

import cv2
import numpy as np
import pytest

from ivif.cli import main
from ivif.metrics import compute_metrics
from ivif.metrics.folders import match_by_stem

from .conftest import smooth_image


@pytest.fixture
def folders(tmp_path):
    """IR as .png, VI as .bmp, fused as .png: matched by stem."""
    rng = np.random.default_rng(3)
    for d in ("ir", "vi", "fused"):
        (tmp_path / d).mkdir()
    images = {}
    for stem in ("b", "a"):
        ir, vi = smooth_image(rng, 48, 52), smooth_image(rng, 48, 52)
        fused = np.round(0.5 * ir + 0.5 * vi)
        cv2.imwrite(str(tmp_path / "ir" / f"{stem}.png"), ir.astype(np.uint8))
        cv2.imwrite(str(tmp_path / "vi" / f"{stem}.bmp"), vi.astype(np.uint8))
        cv2.imwrite(str(tmp_path / "fused" / f"{stem}.png"), fused.astype(np.uint8))
        images[f"{stem}.png"] = (ir, vi, fused)
    (tmp_path / "fused" / "notes.txt").write_text("ignored")
    return tmp_path, images


def _args(root, *extra):
    return ["metrics", "--ir", str(root / "ir"), "--vi", str(root / "vi"), "--fused", str(root / "fused"), *extra]


def test_cli_writes_csv_json_and_prints_mean(folders, capsys):
    root, images = folders
    assert main(_args(root, "--out", str(root / "m.csv"), "--json", str(root / "m.json"))) == 0
    with open(root / "m.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:10] == ["image", "EN", "SD", "SF", "AG", "MI", "SCD", "VIF", "Qabf", "SSIM"]
    assert [r["image"] for r in rows] == ["a.png", "b.png"]
    for row in rows:
        expected = compute_metrics(*images[row["image"]])
        for name, value in expected.items():
            assert float(row[name]) == pytest.approx(value, rel=1e-12)
    summary = json.loads((root / "m.json").read_text())
    assert summary["images"] == 2 and summary["convention"] == "cddfuse"
    assert summary["EN"] == pytest.approx(np.mean([float(r["EN"]) for r in rows]))
    out = capsys.readouterr().out
    assert "mean" in out and "Qabf" in out
    assert not list(root.glob(".m.*"))  # no temporary files left behind


def test_cli_convention_and_names(folders, capsys):
    root, _ = folders
    assert main(_args(root, "--convention", "matlab-tang", "--names", "SF,MI", "--out", str(root / "t.csv"))) == 0
    header = (root / "t.csv").read_text().splitlines()[0]
    assert header == "image,SF,MI"


def test_missing_counterpart_is_named(folders, capsys):
    root, _ = folders
    (root / "vi" / "a.bmp").unlink()
    assert main(_args(root)) == 1
    err = capsys.readouterr().err
    assert "no VI image" in err and "a.png" in err


def test_shape_mismatch_names_the_files(folders, capsys):
    root, _ = folders
    cv2.imwrite(str(root / "fused" / "a.png"), np.zeros((40, 52), np.uint8))
    assert main(_args(root)) == 1
    err = capsys.readouterr().err
    assert "shape mismatch for a.png" in err and "fused" in err


def test_unreadable_image_is_named(folders, capsys):
    root, _ = folders
    (root / "fused" / "b.png").write_bytes(b"garbage")
    assert main(_args(root)) == 1
    assert "b.png: not a readable image" in capsys.readouterr().err


def test_hidden_and_temporary_leftovers_are_not_images(folders):
    root, _ = folders
    expected = match_by_stem(root / "ir", root / "vi", root / "fused")
    (root / "fused" / ".b.png.x1y2z3.png").write_bytes(b"")  # what a killed `ivif fuse` left before
    (root / "fused" / "c.png.tmp").write_bytes(b"")
    (root / "ir" / ".hidden.png").write_bytes(b"")
    assert match_by_stem(root / "ir", root / "vi", root / "fused") == expected


def test_empty_or_missing_folders(tmp_path):
    (tmp_path / "ir").mkdir()
    (tmp_path / "vi").mkdir()
    (tmp_path / "fused").mkdir()
    with pytest.raises(FileNotFoundError, match="no images in fused folder"):
        match_by_stem(tmp_path / "ir", tmp_path / "vi", tmp_path / "fused")
    with pytest.raises(FileNotFoundError, match="IR folder not found"):
        match_by_stem(tmp_path / "nope", tmp_path / "vi", tmp_path / "fused")


def test_duplicate_stems_are_ambiguous(folders):
    root, _ = folders
    cv2.imwrite(str(root / "ir" / "a.jpg"), np.zeros((48, 52), np.uint8))
    with pytest.raises(ValueError, match="two images with stem 'a'"):
        match_by_stem(root / "ir", root / "vi", root / "fused")


def test_unknown_metric_name_fails_before_reading(folders, capsys):
    root, _ = folders
    assert main(_args(root, "--names", "EN,FMI")) == 1
    assert "unknown metric(s) ['FMI']" in capsys.readouterr().err
