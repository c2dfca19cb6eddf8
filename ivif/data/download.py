"""Resumable HTTP(S) downloads with SHA-256 verification (stdlib ``urllib``).

Bytes go to ``<dest>.part``. An interrupted transfer keeps the ``.part`` file and the
next attempt (automatic, or the next run) asks the server for the rest with an HTTP
``Range`` request; a server that ignores ``Range`` gets a fresh download. The ``.part``
file becomes ``dest`` only once it is complete and, when a checksum is known, verified;
a checksum mismatch deletes it, so nothing corrupt is ever left behind.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ivif.data.digest import sha256_file

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_ATTEMPTS = 3
DEFAULT_TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 16
HTTP_PARTIAL_CONTENT = 206
HTTP_RANGE_NOT_SATISFIABLE = 416
USER_AGENT = "ivif-data-fetch"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


class DownloadError(RuntimeError):
    """A download failed for good (HTTP error, retries exhausted, bad URL)."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not have the expected SHA-256."""


class _Interrupted(ConnectionError):
    """The server closed the connection before sending every byte."""


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    progress: bool = True,
    attempts: int = DEFAULT_ATTEMPTS,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Download ``url`` to ``dest`` (resuming a previous ``.part``); returns ``dest``.

    An existing ``dest`` whose checksum matches (or with no checksum to check) is
    reused without contacting the server.
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ALLOWED_SCHEMES:
        raise DownloadError(f"{url}: only {'/'.join(ALLOWED_SCHEMES)} URLs are downloaded; use --from for local files")
    dest = Path(dest)
    if dest.is_file() and (sha256 is None or sha256_file(dest) == sha256):
        return dest
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for _ in range(attempts):
        try:
            _transfer(url, part, timeout=timeout, progress=progress)
            break
        except (_Interrupted, http.client.IncompleteRead, ConnectionError, TimeoutError, urllib.error.URLError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; check the URL or try later") from None
            last_error = exc
    else:
        have = part.stat().st_size if part.exists() else 0
        raise DownloadError(
            f"{url}: interrupted after {have} bytes ({last_error}); run the same command again to resume from {part}"
        )
    _verify(part, sha256, url)
    os.replace(part, dest)
    return dest


def _transfer(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)  # noqa: S310 (scheme checked)
    except urllib.error.HTTPError as exc:
        if exc.code == HTTP_RANGE_NOT_SATISFIABLE and offset:
            return  # the .part already holds every byte; the checksum decides
        raise
    with response:
        resumed = offset > 0 and response.status == HTTP_PARTIAL_CONTENT and _range_start(response) == offset
        if not resumed:
            offset = 0  # server ignored the Range request: start over
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with part.open("ab" if resumed else "wb") as fh, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, desc=part.name.removesuffix(".part"), disable=not progress
        ) as bar:
            while chunk := response.read(CHUNK_BYTES):
                fh.write(chunk)
                bar.update(len(chunk))
    if total is not None and part.stat().st_size < total:
        raise _Interrupted(f"got {part.stat().st_size} of {total} bytes")


def _range_start(response) -> int | None:
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _verify(part: Path, sha256: str | None, url: str) -> None:
    if sha256 is None:
        return
    actual = sha256_file(part)
    if actual != sha256.lower():
        part.unlink()
        raise ChecksumError(
            f"{url}: sha256 {actual} does not match the expected {sha256}; the corrupt download was deleted. "
            "Run again to re-download; if it persists the source changed: check the registry entry"
        )
