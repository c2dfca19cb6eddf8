"""``ivif fuse`` end to end on real pairs: folders, colour/gray, formats and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ivif.cli import main
from ivif.fusion import fuse_array, read_pair

ROADSCENE_PAIRS = 4  # a handful of odd-sized colour pairs keeps the test fast


@pytest.fixture(scope="module")
def roadscene_subset(shared, tmp_path_factory):
    """ir/ and vi/ folders linking the first few RoadScene pairs (odd sizes, colour visible)."""
    root = tmp_path_factory.mktemp("roadscene")
    source = shared / "data" / "roadscene221"
    names = sorted(p.name for p in (source / "ir").iterdir())[:ROADSCENE_PAIRS]
    for modality in ("ir", "vi"):
        (root / modality).mkdir()
        for name in names:
            os.symlink(source / modality / name, root / modality / name)
    return root, names


@pytest.fixture(scope="module")
def cnn_spec(shared):
    return f"upstream:cnn:{shared / 'weights' / 'upstream' / 'cnn.model'}"


def test_folder_fusion_writes_one_rgb_image_per_pair(roadscene_subset, cnn_spec, tmp_path, capsys):
    root, names = roadscene_subset
    out = tmp_path / "fused"
    assert (
        main(["fuse", "--model", cnn_spec, "--ir", str(root / "ir"), "--vi", str(root / "vi"), "--out", str(out), "--device", "cpu"]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{name.rsplit('.', 1)[0]}.png" for name in names)
    for name in names:
        source = Image.open(root / "vi" / name)
        fused = Image.open(out / f"{name.rsplit('.', 1)[0]}.png")
        assert fused.size == source.size and fused.mode == "RGB"
    assert f"fused {ROADSCENE_PAIRS} pair(s)" in capsys.readouterr().out


def test_colour_is_restored_and_luminance_is_the_fused_one(roadscene_subset, cnn_spec, upstream_model, tmp_path):
    root, names = roadscene_subset
    ir, vi = root / "ir" / names[0], root / "vi" / names[0]
    assert main(["fuse", "--model", cnn_spec, "--ir", str(ir), "--vi", str(vi), "--out", str(tmp_path / "f.npy"), "--format", "npy"]) == 0
    assert main(["fuse", "--model", cnn_spec, "--ir", str(ir), "--vi", str(vi), "--out", str(tmp_path / "f.png")]) == 0
    raw = np.load(tmp_path / "f.npy")
    pair = read_pair(ir, vi)
    assert raw.dtype == np.float32 and raw.shape == pair.ir.shape
    assert np.allclose(raw, fuse_array(upstream_model("cnn"), pair.stacked()), atol=1e-6)  # raw, unstretched output
    rgb = np.asarray(Image.open(tmp_path / "f.png"), dtype=np.float32) / 255
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    assert np.abs(luma - np.clip(raw, 0, 1)).mean() < 0.01  # Y of the written RGB is the fused luminance
    source_rgb = np.asarray(Image.open(vi).convert("RGB"), dtype=np.float32) / 255
    chroma = lambda img: img - img.mean(axis=-1, keepdims=True)
    assert np.corrcoef(chroma(rgb).ravel(), chroma(source_rgb).ravel())[0, 1] > 0.9  # colour kept


def test_grayscale_stays_grayscale_in_tiled_mode(shared, cnn_spec, tmp_path):
    # TNO stores grayscale as RGB with three equal channels.
    ir, vi = (shared / "data" / "tno42" / modality / "05.png" for modality in ("ir", "vi"))
    assert main(["fuse", "--model", cnn_spec, "--ir", str(ir), "--vi", str(vi), "--out", str(tmp_path), "--mode", "tiled"]) == 0
    fused = Image.open(tmp_path / "05.png")
    assert fused.mode == "L" and fused.size == Image.open(vi).size


def test_ivif_checkpoint_spec(shared, roadscene_subset, tmp_path):
    root, names = roadscene_subset
    checkpoint = tmp_path / "transformer.pt"
    assert (
        main(
            [
                "import-upstream",
                "--model",
                "transformer",
                "--src",
                str(shared / "weights" / "upstream" / "transformer.model"),
                "--out",
                str(checkpoint),
            ]
        )
        == 0
    )
    out = tmp_path / "single.png"
    assert (
        main(
            [
                "fuse",
                "--model",
                str(checkpoint),
                "--ir",
                str(root / "ir" / names[1]),
                "--vi",
                str(root / "vi" / names[1]),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert Image.open(out).size == Image.open(root / "vi" / names[1]).size


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def test_wrong_checkpoint_is_one_clear_error(shared, roadscene_subset, tmp_path, capsys):
    root, _ = roadscene_subset
    spec = f"upstream:transformer:{shared / 'weights' / 'upstream' / 'gan.model'}"
    assert main(["fuse", "--model", spec, "--ir", str(root / "ir"), "--vi", str(root / "vi"), "--out", str(tmp_path / "out")]) == 1
    err = one_line_error(capsys)
    assert "gan.model" in err and "inchange.0.weight" in err and "transformer" in err
    assert not (tmp_path / "out").exists()
    assert (
        main(
            [
                "fuse",
                "--model",
                str(shared / "weights" / "upstream" / "cnn.model"),
                "--ir",
                str(root / "ir"),
                "--vi",
                str(root / "vi"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 1
    )
    assert "upstream:<cnn|transformer|gan>:PATH" in one_line_error(capsys)


def test_missing_file_is_one_clear_error(roadscene_subset, cnn_spec, tmp_path, capsys):
    root, names = roadscene_subset
    assert (
        main(
            [
                "fuse",
                "--model",
                cnn_spec,
                "--ir",
                str(root / "ir" / "missing.jpg"),
                "--vi",
                str(root / "vi" / names[0]),
                "--out",
                str(tmp_path / "x.png"),
            ]
        )
        == 1
    )
    assert "input not found" in one_line_error(capsys)
    assert (
        main(
            [
                "fuse",
                "--model",
                str(tmp_path / "nope.pt"),
                "--ir",
                str(root / "ir" / names[0]),
                "--vi",
                str(root / "vi" / names[0]),
                "--out",
                str(tmp_path / "x.png"),
            ]
        )
        == 1
    )
    assert "checkpoint not found" in one_line_error(capsys)


def test_size_mismatch_is_one_clear_error(roadscene_subset, cnn_spec, tmp_path, capsys):
    root, names = roadscene_subset
    sizes = {name: Image.open(root / "ir" / name).size for name in names}
    first, other = names[0], next(name for name in names[1:] if sizes[name] != sizes[names[0]])
    assert (
        main(
            [
                "fuse",
                "--model",
                cnn_spec,
                "--ir",
                str(root / "ir" / first),
                "--vi",
                str(root / "vi" / other),
                "--out",
                str(tmp_path / "x.png"),
            ]
        )
        == 1
    )
    err = one_line_error(capsys)
    assert "size mismatch" in err and first in err and other in err
    assert not (tmp_path / "x.png").exists()


def test_unmatched_folder_stems_and_bad_suffix(roadscene_subset, cnn_spec, tmp_path, capsys):
    root, names = roadscene_subset
    vi = tmp_path / "vi"
    vi.mkdir()
    os.symlink(root / "vi" / names[0], vi / names[0])
    assert main(["fuse", "--model", cnn_spec, "--ir", str(root / "ir"), "--vi", str(vi), "--out", str(tmp_path / "o")]) == 1
    assert "no partner" in one_line_error(capsys)
    assert (
        main(
            ["fuse", "--model", cnn_spec, "--ir", str(root / "ir" / names[0]), "--vi", str(vi / names[0]), "--out", str(tmp_path / "x.npy")]
        )
        == 1
    )
    assert "--format png writes .png" in one_line_error(capsys)


def test_exif_rotated_jpeg_pair_reads_the_same_in_fuse_and_metrics(roadscene_subset, cnn_spec, tmp_path):
    from ivif.io.images import read_image
    from ivif.metrics.folders import evaluate_folders

    root, names = roadscene_subset
    stem = names[0].rsplit(".", 1)[0]
    exif_root, upright_root = tmp_path / "exif", tmp_path / "upright"
    for modality in ("ir", "vi"):
        source = Image.open(root / modality / names[0])
        stored = source.transpose(Image.Transpose.ROTATE_90)  # a camera held sideways...
        exif = stored.getexif()
        exif[0x0112] = 6  # ...says: turn me 90 degrees clockwise to display
        (exif_root / modality).mkdir(parents=True)
        stored.save(exif_root / modality / f"{stem}.jpg", quality=95, exif=exif.tobytes())
        upright = read_image(exif_root / modality / f"{stem}.jpg").pixels
        assert upright.shape[:2] == (source.height, source.width) != (stored.height, stored.width)  # non-square
        (upright_root / modality).mkdir(parents=True)
        Image.fromarray(upright).save(upright_root / modality / f"{stem}.png")
    for folder in (exif_root, upright_root):
        assert (
            main(
                [
                    "fuse",
                    "--model",
                    cnn_spec,
                    "--ir",
                    str(folder / "ir"),
                    "--vi",
                    str(folder / "vi"),
                    "--out",
                    str(folder / "fused"),
                    "--device",
                    "cpu",
                ]
            )
            == 0
        )
    fused = np.asarray(Image.open(exif_root / "fused" / f"{stem}.png"))
    assert np.array_equal(fused, np.asarray(Image.open(upright_root / "fused" / f"{stem}.png")))
    from_exif = evaluate_folders(exif_root / "ir", exif_root / "vi", exif_root / "fused", progress=False)
    from_upright = evaluate_folders(upright_root / "ir", upright_root / "vi", upright_root / "fused", progress=False)
    assert from_exif == from_upright
    assert from_exif[0]["SSIM"] > 0.5  # fused and sources are aligned, not transposed


def test_skip_bad_lists_unreadable_pairs_and_a_rerun_resumes(roadscene_subset, cnn_spec, tmp_path, capsys, monkeypatch):
    from ivif_testkit import flat_png

    root, names = roadscene_subset
    data = tmp_path / "data"
    for modality in ("ir", "vi"):
        (data / modality).mkdir(parents=True)
        for name in names[:2]:
            os.symlink(root / modality / name, data / modality / name)
        (data / modality / "huge.png").write_bytes(flat_png(700, 700))
    (data / "ir" / "bad.png").write_bytes(b"not an image")
    os.symlink(root / "vi" / names[0], data / "vi" / "bad.jpg")
    monkeypatch.setenv("IVIF_MAX_PIXELS", "300000")  # the RoadScene pairs are ~0.16 MP, huge.png 0.49 MP
    out = tmp_path / "fused"
    args = ["fuse", "--model", cnn_spec, "--ir", str(data / "ir"), "--vi", str(data / "vi"), "--out", str(out), "--device", "cpu"]

    assert main(args) == 1  # stops at bad.png; the pairs sorted before it are written (atomically)
    assert "bad.png: not a readable image" in capsys.readouterr().err
    written = sorted(out.iterdir())
    assert [p.name for p in written] == sorted(f"{n.rsplit('.', 1)[0]}.png" for n in names[:2])
    stamps = {p.name: p.stat().st_mtime_ns for p in written}

    assert main([*args, "--skip-bad"]) == 0
    printed = capsys.readouterr().out
    assert "fused 0 pair(s)" in printed and "kept 2 complete output(s)" in printed
    assert "skipped 2 unreadable pair(s)" in printed
    assert "bad.png: not a readable image" in printed and "huge.png: 700x700 is 0.5 megapixels, over the limit" in printed

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    leftover = out / f".{written[0].name}.ivif-tmp-{dead}-0badf00d.png"  # what a killed run leaves
    leftover.write_bytes(b"")
    assert main([*args, "--skip-bad", "--overwrite"]) == 0
    printed = capsys.readouterr().out
    assert "fused 2 pair(s)" in printed and "skipped 2" in printed
    assert not leftover.exists() and sorted(p.name for p in out.iterdir()) == sorted(stamps)
    assert main([*args, "--skip-bad"]) == 0
    printed = capsys.readouterr().out
    assert "fused 0 pair(s)" in printed and "kept 2 complete output(s)" in printed
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    leftover.write_bytes(b"")
    assert main([*args, "--skip-bad"]) == 0
    assert not leftover.exists() and {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
