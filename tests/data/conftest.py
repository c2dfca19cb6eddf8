"""Fixtures for the data tests: a local HTTP server and small real-image folders."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class FileServer(ThreadingHTTPServer):
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1 with optional Range support.

    ``cut_after[path] = n`` makes the next request for ``path`` send its headers with the
    full length but only ``n`` bytes of body, then drop the connection (once).
    ``requests`` records ``(path, Range header or None)`` for every request.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.cut_after: dict[str, int] = {}
        self.supports_range = True
        self.requests: list[tuple[str, str | None]] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: FileServer

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        range_header = self.headers.get("Range")
        self.server.requests.append((self.path, range_header))
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404, "not found")
            return
        start = 0
        if range_header and self.server.supports_range:
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = self.server.cut_after.pop(self.path, None)
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _copy_pairs(src: Path, dest: Path, names: list[str] | None = None, ir: str = "ir", vi: str = "vi") -> Path:
    """Copy the named pairs (stems; all when None) of ``src/{ir,vi}`` to ``dest/{ir,vi}``."""
    for sub in (ir, vi):
        (dest / sub).mkdir(parents=True, exist_ok=True)
        for path in sorted((src / sub).iterdir()):
            if names is None or path.stem in names:
                shutil.copy2(path, dest / sub / path.name)
    return dest


@pytest.fixture
def copy_pairs():
    """``copy_pairs(src, dest, names=None)``: copy real pairs into a scratch folder."""
    return _copy_pairs
