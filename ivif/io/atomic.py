"""Atomic file and directory writes: write to a temporary name, then rename.

Readers never see a half-written file, and a failure leaves whatever was there before
untouched. Temporary names live in the destination's directory so ``os.replace`` is a
same-filesystem rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_DEFAULT_FILE_MODE = 0o666  # what open() would create, before the umask
_DEFAULT_DIR_MODE = 0o777


@contextlib.contextmanager
def atomic_path(dest: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; rename it onto ``dest`` on success.

    On an exception the temporary file is removed and ``dest`` is left as it was.
    ``suffix`` lets writers that infer the format from the extension (``np.save``,
    ``cv2.imwrite``) see the right one.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix or dest.suffix + ".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp creates 0600; give the result the usual permissions
            os.chmod(tmp, _DEFAULT_FILE_MODE & ~_current_umask())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_stream(dest: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` with a binary file object whose bytes atomically become ``dest``.

    For writers that would otherwise be handed the temporary *path* and let its random
    name leak into the content (``torch.save`` names its zip records after the file).
    """
    with atomic_path(dest) as tmp, open(tmp, "wb") as stream:
        write(stream)


def atomic_write_bytes(dest: str | Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(dest: str | Path, text: str) -> None:
    atomic_write_bytes(dest, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(dest: str | Path) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``dest`` whole.

    An existing ``dest`` is moved aside first and deleted only after the new one is in
    place, so a failure at any point leaves either the old or the new tree, never a mix.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
        os.chmod(tmp, _DEFAULT_DIR_MODE & ~_current_umask())  # mkdtemp creates 0700
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if dest.exists():
        # A fresh empty directory as the target: rename() replaces an empty directory,
        # and a unique name cannot collide with leftovers of an earlier crashed run.
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)  # put the previous tree back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _current_umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask
