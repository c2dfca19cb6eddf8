"""Atomic file and directory writes: write to a temporary name, then rename.

Readers never see a half-written file, and a failure leaves whatever was there before
untouched. Temporary names live in the destination's directory so ``os.replace`` is a
same-filesystem rename.

Every temporary name has one shape, ``.<dest name>.ivif-tmp-<pid>-<random><suffix>``
(``ivif-old`` for a tree moved aside while its replacement goes in): hidden, so readers
that skip dot-files never see it; matched by the repository's ``.dvcignore``, so a
leftover never changes a DVC hash; and carrying the writer's pid, so
:func:`sweep_stale_temps` can remove what a killed writer left without touching the
temporaries of a writer still running. Each writing command sweeps its destination's
folder when it starts.

A full disk is reported as :class:`DiskFullError` naming the file being written, instead
of whatever the writer raised (``torch.save`` says ``inline_container.cc: unexpected pos``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

_DEFAULT_FILE_MODE = 0o666  # what open() would create, before the umask
_DEFAULT_DIR_MODE = 0o777
TEMP_MARK = "ivif-tmp"
OLD_MARK = "ivif-old"
# .<name>.<mark>-<pid>-<token><suffix>; the name may itself contain dots.
_TEMP_NAME = re.compile(rf"^\..+\.(?:{TEMP_MARK}|{OLD_MARK})-(?P<pid>\d+)-[0-9a-f]+")
_TOKEN_BYTES = 4
# Below this much free space a failed write is blamed on the disk even when the writer
# did not say ENOSPC (torch's zip writer reports a short write as "unexpected pos").
_NEARLY_FULL_BYTES = 1 << 20


class DiskFullError(OSError):
    """The file system filled up while writing ``path``; nothing at ``path`` changed."""

    def __init__(self, path: Path, free_bytes: int | None):
        free = "" if free_bytes is None else f" ({free_bytes} bytes free)"
        super().__init__(
            errno.ENOSPC,
            f"no space left writing {path}{free}; free some space on that disk (or write elsewhere) and run again",
        )
        self.path = path


def temp_name(dest: str | Path, suffix: str = "", mark: str = TEMP_MARK) -> Path:
    """A fresh temporary path beside ``dest`` in the one naming scheme (not created)."""
    dest = Path(dest)
    return dest.parent / f".{dest.name}.{mark}-{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}{suffix}"


def is_temp_name(name: str) -> bool:
    """True for names made by :func:`temp_name` (what readers and DVC must skip)."""
    return _TEMP_NAME.match(name) is not None


def sweep_stale_temps(folder: str | Path) -> list[Path]:
    """Remove the temporaries in ``folder`` whose writer process is gone; return them.

    Only names of this module's scheme are touched; a temporary of a live process (a
    writer running in parallel) is kept. A missing folder has nothing to sweep.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.iterdir()):
        match = _TEMP_NAME.match(path.name)
        if match is None or _alive(int(match["pid"])):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
        log.info("removed %s, left by an interrupted write", path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


@contextlib.contextmanager
def atomic_path(dest: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; rename it onto ``dest`` on success.

    On an exception the temporary file is removed and ``dest`` is left as it was; a
    failure caused by a full disk is re-raised as :class:`DiskFullError` naming ``dest``.
    ``suffix`` lets writers that infer the format from the extension (``np.save``,
    ``cv2.imwrite``) see the right one.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest, suffix or dest.suffix + ".tmp")
    with open(tmp, "xb"):  # claim the name (x: never reuse an existing file)
        pass
    try:
        yield tmp
        if tmp.exists():  # give the result the usual permissions
            os.chmod(tmp, _DEFAULT_FILE_MODE & ~_current_umask())
        os.replace(tmp, dest)
    except BaseException as exc:
        full = _disk_full(exc, dest.parent)
        tmp.unlink(missing_ok=True)
        if full is not None:
            raise DiskFullError(dest, full) from exc
        raise


def _disk_full(exc: BaseException, folder: Path) -> int | None:
    """Free bytes on ``folder``'s disk if ``exc`` came from the disk filling up, else None."""
    if not isinstance(exc, (OSError, RuntimeError)) or isinstance(exc, DiskFullError):
        return None
    chain, seen = exc, 0
    said_enospc = False
    while chain is not None and seen < 8:  # the cause may be wrapped (torch: RuntimeError from OSError)
        if isinstance(chain, OSError) and chain.errno == errno.ENOSPC:
            said_enospc = True
        chain, seen = chain.__cause__ or chain.__context__, seen + 1
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if said_enospc or (isinstance(exc, RuntimeError) and free is not None and free < _NEARLY_FULL_BYTES):
        return free
    return None


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
    A full disk is re-raised as :class:`DiskFullError` naming ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    tmp.mkdir()
    try:
        yield tmp
        os.chmod(tmp, _DEFAULT_DIR_MODE & ~_current_umask())
    except BaseException as exc:
        full = _disk_full(exc, dest.parent)
        shutil.rmtree(tmp, ignore_errors=True)
        if full is not None:
            raise DiskFullError(dest, full) from exc
        raise
    old = None
    if dest.exists():
        # A fresh name for the previous tree: a unique name cannot collide with
        # leftovers of an earlier crashed run (and those are swept by name).
        old = temp_name(dest, mark=OLD_MARK)
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
