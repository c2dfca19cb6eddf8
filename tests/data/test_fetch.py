"""Fetching datasets end to end: download + extract + place, or import from a path."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile

import pytest

from ivif.data.archive import UnsafeArchiveError
from ivif.data.download import ChecksumError
from ivif.data.fetch import PROVENANCE_NAME, fetch_dataset
from ivif.data.registry import DatasetSpec, Source, get_dataset

ROAD_PICK = ["FLIR_00006", "FLIR_00018", "FLIR_00060"]


def _road_zip(shared, wrapper="RoadScene-master") -> bytes:
    """A GitHub-style archive of real RoadScene pairs in their upstream layout."""
    src = shared / "data" / "roadscene221"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for stem in ROAD_PICK:
            zf.write(src / "ir" / f"{stem}.jpg", f"{wrapper}/cropinfrared/{stem}.jpg")
            zf.write(src / "vi" / f"{stem}.jpg", f"{wrapper}/crop_LR_visible/{stem}.jpg")
        zf.writestr(f"{wrapper}/README.md", "RoadScene")
    return buf.getvalue()


def _spec(url: str, sha256: str | None) -> DatasetSpec:
    road = get_dataset("roadscene")
    return DatasetSpec(
        name="roadscene", title=road.title, homepage=road.homepage, splits=road.splits,
        expected_pairs=road.expected_pairs, file_pattern=road.file_pattern, licence=road.licence,
        sources=(Source(url=url, filename="RoadScene-master.zip", sha256=sha256),),
    )


def _listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_download_extract_unwrap(file_server, shared, tmp_path):
    data = _road_zip(shared)
    file_server.files["/road.zip"] = data
    file_server.cut_after["/road.zip"] = 1000  # and the transfer is interrupted once
    spec = _spec(file_server.url("/road.zip"), hashlib.sha256(data).hexdigest())
    record = fetch_dataset(spec, tmp_path / "raw" / "roadscene", download_dir=tmp_path / "dl", progress=False, log=lambda _: None)
    dest = tmp_path / "raw" / "roadscene"
    assert sorted(p.name for p in (dest / "cropinfrared").iterdir()) == [f"{s}.jpg" for s in ROAD_PICK]
    assert (dest / "crop_LR_visible").is_dir()
    assert json.loads((dest / PROVENANCE_NAME).read_text()) == record
    assert record["sources"][0]["verified"] is True
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["roadscene"]  # no staging leftovers


def test_unknown_checksum_is_computed_and_reported(file_server, shared, tmp_path):
    data = _road_zip(shared)
    file_server.files["/road.zip"] = data
    messages = []
    record = fetch_dataset(_spec(file_server.url("/road.zip"), None), tmp_path / "raw" / "roadscene",
                           download_dir=tmp_path / "dl", progress=False, log=messages.append)
    assert record["sources"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["sources"][0]["verified"] is False
    assert any("no published sha256" in m and hashlib.sha256(data).hexdigest() in m for m in messages)


def test_checksum_failure_leaves_data_folder_untouched(file_server, shared, tmp_path):
    file_server.files["/road.zip"] = _road_zip(shared)
    (tmp_path / "raw").mkdir()
    with pytest.raises(ChecksumError):
        fetch_dataset(_spec(file_server.url("/road.zip"), "0" * 64), tmp_path / "raw" / "roadscene",
                      download_dir=tmp_path / "dl", progress=False)
    assert _listing(tmp_path / "raw") == []
    assert _listing(tmp_path / "dl") == []


def _hostile_tar(tmp_path, member: tarfile.TarInfo) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ok = tarfile.TarInfo("set/cropinfrared/a.jpg")
        ok.size = 3
        tar.addfile(ok, io.BytesIO(b"jpg"))
        tar.addfile(member, io.BytesIO(b"evil") if member.size else None)
    return buf.getvalue()


def _evil_file(name):
    info = tarfile.TarInfo(name)
    info.size = 4
    return info


def _evil_link(target):
    info = tarfile.TarInfo("set/cropinfrared/link")
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.mark.parametrize("member", [_evil_file("../evil"), _evil_file("/tmp/evil"), _evil_link("../../../evil")])
def test_hostile_download_leaves_nothing(file_server, tmp_path, member):
    data = _hostile_tar(tmp_path, member)
    file_server.files["/bad.tar"] = data
    (tmp_path / "raw").mkdir()
    with pytest.raises(UnsafeArchiveError):
        fetch_dataset(_spec(file_server.url("/bad.tar"), hashlib.sha256(data).hexdigest()), tmp_path / "raw" / "roadscene",
                      download_dir=tmp_path / "dl", progress=False)
    assert _listing(tmp_path / "raw") == []
    assert not (tmp_path / "evil").exists()


def test_import_folder_and_archive(shared, tmp_path, copy_pairs):
    m3fd = get_dataset("m3fd")
    folder = copy_pairs(shared / "data" / "m3fd6", tmp_path / "M3FD_Fusion", ["00000", "00001"])
    (folder / "ir").rename(folder / "Ir")
    (folder / "vi").rename(folder / "Vis")
    record = fetch_dataset(m3fd, tmp_path / "raw" / "m3fd", local_source=folder, download_dir=tmp_path / "dl", log=lambda _: None)
    assert record["sources"] == [{"kind": "folder", "path": str(folder)}]
    assert sorted(p.name for p in (tmp_path / "raw" / "m3fd" / "Ir").iterdir()) == ["00000.png", "00001.png"]

    archive = tmp_path / "M3FD_Fusion.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="M3FD_Fusion")
    fetch_dataset(m3fd, tmp_path / "raw2" / "m3fd", local_source=archive, download_dir=tmp_path / "dl", log=lambda _: None)
    assert (tmp_path / "raw2" / "m3fd" / "Vis" / "00001.png").is_file()  # wrapper folder unwrapped


def test_import_only_dataset_needs_a_path(tmp_path):
    with pytest.raises(ValueError, match="--from"):
        fetch_dataset(get_dataset("m3fd"), tmp_path / "m3fd", download_dir=tmp_path / "dl")
    with pytest.raises(FileNotFoundError, match="check the --from path"):
        fetch_dataset(get_dataset("m3fd"), tmp_path / "m3fd", local_source=tmp_path / "nope.zip", download_dir=tmp_path)


def test_sample_import_copies_the_embedded_folder(sample_dir, tmp_path):
    fetch_dataset(get_dataset("sample"), tmp_path / "sample", local_source=sample_dir, download_dir=tmp_path, log=lambda _: None)
    assert sorted(p.name for p in (tmp_path / "sample" / "ir").iterdir()) == sorted(p.name for p in (sample_dir / "ir").iterdir())
    assert (tmp_path / "sample" / PROVENANCE_NAME).is_file()
