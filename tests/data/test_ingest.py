"""Pair matching and validation on the real mixed datasets and on crafted bad folders."""

from __future__ import annotations

import pytest
from PIL import Image

from ivif.data.ingest import IngestError, match_pairs, validate_folder

MSRS_PICK = ["00004N", "00012N", "00016N", "00055D", "00081D"]


@pytest.mark.parametrize(("name", "pairs"), [("roadscene221", 221), ("vifb21", 21), ("msrs13", 13), ("tno42", 42)])
def test_real_datasets_validate_cleanly(shared, name, pairs):
    root = shared / "data" / name
    names, problems = validate_folder(root / "ir", root / "vi")
    assert problems == []
    assert len(names) == pairs
    assert names == sorted(names)


def test_stems_match_across_extensions(tmp_path, shared, copy_pairs):
    root = copy_pairs(shared / "data" / "msrs13", tmp_path / "set", MSRS_PICK[:2])
    png = root / "vi" / "00004N.png"
    Image.open(png).save(root / "vi" / "00004N.jpg", quality=95)
    png.unlink()
    pairs, problems = match_pairs(root / "ir", root / "vi")
    assert problems == []
    assert [(p.name, p.ir.name, p.vi.name) for p in pairs] == [
        ("00004N", "00004N.png", "00004N.jpg"),
        ("00012N", "00012N.png", "00012N.png"),
    ]


@pytest.fixture
def messy(tmp_path, shared, copy_pairs):
    """Five real MSRS pairs with one truncated IR, one missing VIS, one resized VIS."""
    root = copy_pairs(shared / "data" / "msrs13", tmp_path / "messy", MSRS_PICK)
    truncated = root / "ir" / "00012N.png"
    truncated.write_bytes(truncated.read_bytes()[:5000])
    (root / "vi" / "00016N.png").unlink()
    resized = root / "vi" / "00055D.png"
    Image.open(resized).resize((320, 240)).save(resized)
    (root / "ir" / "notes.txt").write_text("not an image")  # ignored, not a pair
    return root


def test_one_error_names_every_bad_file(messy):
    with pytest.raises(IngestError) as err:
        validate_folder(messy / "ir", messy / "vi")
    message = str(err.value)
    assert "3 problem(s)" in message
    assert f"{messy / 'ir' / '00012N.png'}: unreadable or truncated" in message
    assert f"{messy / 'ir' / '00016N.png'}: no visible counterpart" in message
    assert f"{messy / 'vi' / '00055D.png'}: size 320x240 differs from infrared" in message
    assert "--skip-bad" in message
    assert {p.path.name for p in err.value.problems} == {"00012N.png", "00016N.png", "00055D.png"}


def test_skip_bad_keeps_the_good_and_lists_the_bad(messy):
    names, problems = validate_folder(messy / "ir", messy / "vi", skip_bad=True)
    assert names == ["00004N", "00081D"]
    assert len(problems) == 3


def test_duplicate_stems_and_missing_folder(tmp_path, shared, copy_pairs):
    root = copy_pairs(shared / "data" / "msrs13", tmp_path / "dup", MSRS_PICK[:1])
    Image.open(root / "ir" / "00004N.png").save(root / "ir" / "00004N.bmp")
    _, problems = match_pairs(root / "ir", root / "vi")
    assert [p.path.name for p in problems] == ["00004N.png"]
    assert "same stem as 00004N.bmp" in problems[0].reason
    with pytest.raises(FileNotFoundError, match="visible image folder not found"):
        match_pairs(root / "ir", root / "nope")
