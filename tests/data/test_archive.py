"""Safe extraction: hostile archives are refused whole, before anything is written."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from ivif.data.archive import UnsafeArchiveError, extract_archive, is_archive


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"pixels") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _special(name: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


def _zip(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(zipfile.ZipInfo(name), b"pixels")
    return path


def test_safe_tar_with_inside_link_extracts(tmp_path):
    archive = _tar(tmp_path / "ok.tar.gz", [_file("set/ir/a.png"), _link("set/ir/b.png", "a.png")])
    out = tmp_path / "out"
    out.mkdir()
    extract_archive(archive, out)
    assert (out / "set/ir/a.png").read_bytes() == b"pixels"
    assert (out / "set/ir/b.png").read_bytes() == b"pixels"


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (_file("../evil"), "'..'"),
        (_file("set/../../evil"), "'..'"),
        (_file("/abs/evil"), "absolute path"),
        (_link("set/link", "../../outside"), "outside the destination"),
        (_link("set/link", "/etc/passwd"), "absolute path"),
        (_link("set/hard", "../outside", tarfile.LNKTYPE), "outside the destination"),
        (_special("set/fifo", tarfile.FIFOTYPE), "device file or FIFO"),
        (_special("set/tty", tarfile.CHRTYPE), "device file or FIFO"),
    ],
)
def test_hostile_tar_member_is_refused_and_nothing_written(tmp_path, member, reason):
    archive = _tar(tmp_path / "bad.tar.gz", [_file("set/ir/a.png"), member])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafeArchiveError, match=reason) as err:
        extract_archive(archive, out)
    assert member[0].name in str(err.value)
    assert list(out.iterdir()) == []
    assert not (tmp_path / "evil").exists()


def test_every_bad_member_is_listed(tmp_path):
    archive = _tar(tmp_path / "bad.tar", [_file("../evil"), _file("/abs"), _link("l", "/etc")])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafeArchiveError, match="3 unsafe member"):
        extract_archive(archive, out)


@pytest.mark.parametrize("name", ["../evil", "/abs/evil", "ok/../../evil"])
def test_hostile_zip_member_is_refused(tmp_path, name):
    archive = _zip(tmp_path / "bad.zip", ["set/ir/a.png", name])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafeArchiveError, match="refusing to extract"):
        extract_archive(archive, out)
    assert list(out.iterdir()) == []


def test_zip_symlink_out_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("set/link")
        info.external_attr = (0o120777 << 16)  # S_IFLNK: how zip stores a symlink
        zf.writestr(info, "../../outside")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafeArchiveError, match="outside the destination"):
        extract_archive(archive, out)


def test_safe_zip_extracts(tmp_path):
    archive = _zip(tmp_path / "ok.zip", ["set/ir/a.png", "set/vi/a.png"])
    out = tmp_path / "out"
    out.mkdir()
    extract_archive(archive, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["set/ir/a.png", "set/vi/a.png"]


def test_non_archive_is_rejected(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not an archive")
    assert not is_archive(path)
    with pytest.raises(ValueError, match="not a zip or tar"):
        extract_archive(path, tmp_path)
