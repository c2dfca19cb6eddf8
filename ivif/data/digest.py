"""SHA-256 of files and of sets of files (content hashes recorded in metadata)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHUNK_BYTES = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def combined_sha256(file_hashes: Mapping[str, str]) -> str:
    """One hash for a set of files: SHA-256 of sorted ``"<name> <sha256>\\n"`` lines.

    Independent of the order the mapping was built in, sensitive to names and contents.
    """
    lines = "".join(f"{name} {file_hashes[name]}\n" for name in sorted(file_hashes))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def json_sha256(body: Mapping[str, Any], skip: str) -> str:
    """SHA-256 of a JSON document's content without its ``skip`` key (its own hash):
    canonical form (sorted keys, no whitespace), so re-indenting does not change it."""
    content = {key: value for key, value in body.items() if key != skip}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()
