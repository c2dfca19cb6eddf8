"""Resumable, verified downloads against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os

import pytest

from ivif.data.download import ChecksumError, DownloadError, download

PAYLOAD = os.urandom(200_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()
CUT = 70_000


@pytest.fixture
def served(file_server):
    file_server.files["/data.zip"] = PAYLOAD
    return file_server


def test_interrupted_transfer_resumes_with_range(served, tmp_path):
    served.cut_after["/data.zip"] = CUT
    dest = download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert served.requests == [("/data.zip", None), ("/data.zip", f"bytes={CUT}-")]
    assert not (tmp_path / "data.zip.part").exists()


def test_interruption_keeps_part_and_next_run_resumes(served, tmp_path):
    served.cut_after["/data.zip"] = CUT
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False, attempts=1)
    assert (tmp_path / "data.zip.part").stat().st_size == CUT
    assert not (tmp_path / "data.zip").exists()

    download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    assert (tmp_path / "data.zip").read_bytes() == PAYLOAD
    assert served.requests[-1] == ("/data.zip", f"bytes={CUT}-")


def test_checksum_failure_deletes_everything(served, tmp_path):
    with pytest.raises(ChecksumError, match="does not match"):
        download(served.url("/data.zip"), tmp_path / "data.zip", sha256="0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_corrupted_resume_is_rejected(served, tmp_path):
    # A stale .part from another file: resuming appends the right tail to wrong bytes.
    (tmp_path / "data.zip.part").write_bytes(b"x" * CUT)
    with pytest.raises(ChecksumError):
        download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_server_without_range_support_restarts(served, tmp_path):
    served.supports_range = False
    (tmp_path / "data.zip.part").write_bytes(b"x" * CUT)
    download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    assert (tmp_path / "data.zip").read_bytes() == PAYLOAD


def test_complete_part_is_finished_without_refetching_bytes(served, tmp_path):
    (tmp_path / "data.zip.part").write_bytes(PAYLOAD)
    download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    assert (tmp_path / "data.zip").read_bytes() == PAYLOAD
    assert served.requests == [("/data.zip", f"bytes={len(PAYLOAD)}-")]  # answered 416


def test_verified_download_is_reused(served, tmp_path):
    download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    download(served.url("/data.zip"), tmp_path / "data.zip", sha256=SHA, progress=False)
    assert len(served.requests) == 1


def test_unknown_checksum_downloads_unverified(served, tmp_path):
    dest = download(served.url("/data.zip"), tmp_path / "data.zip", sha256=None, progress=False)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == SHA


def test_http_error_is_reported_with_status(served, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(served.url("/missing.zip"), tmp_path / "missing.zip", progress=False)
    assert len(served.requests) == 1  # not retried
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.zip"])
def test_only_http_urls(url, tmp_path):
    with pytest.raises(DownloadError, match="only http/https"):
        download(url, tmp_path / "x.zip", progress=False)
