"""Safe extraction of zip and tar archives.

Every member is checked before anything is written, and all the offending members are
reported together. Rejected: absolute paths, ``..`` components, symbolic or hard links
that point outside the destination (or are absolute), device files and FIFOs. Tar
extraction additionally runs with Python's ``"data"`` filter as a second line of
defence.
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm

_DRIVE_PREFIX_LEN = 2  # "C:" in a Windows-style member name


class UnsafeArchiveError(ValueError):
    """An archive has members that would land outside the destination or are not files."""


def is_archive(path: str | Path) -> bool:
    path = Path(path)
    return path.is_file() and (zipfile.is_zipfile(path) or tarfile.is_tarfile(path))


def extract_archive(archive: str | Path, dest: str | Path, progress: bool = False) -> None:
    """Extract a zip or tar (any compression) into the existing folder ``dest``."""
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        _extract_zip(archive, dest, progress)
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, dest, progress)
    else:
        raise ValueError(f"{archive}: not a zip or tar archive; re-download it")


def member_problem(name: str) -> str | None:
    """Why a member *name* is unsafe, or None."""
    if name.startswith(("/", "\\")) or (len(name) >= _DRIVE_PREFIX_LEN and name[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "path goes up out of the destination ('..')"
    return None


def link_problem(member_name: str, target: str, *, relative_to_member: bool) -> str | None:
    """Why a link to ``target`` is unsafe, or None.

    Symbolic link targets are relative to the link's folder; tar hard-link targets are
    relative to the archive root.
    """
    if target.startswith("/") or (len(target) >= _DRIVE_PREFIX_LEN and target[1] == ":"):
        return f"link to absolute path {target!r}"
    base = posixpath.dirname(member_name) if relative_to_member else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        return f"link points outside the destination ({target!r})"
    return None


def _extract_tar(archive: Path, dest: Path, progress: bool) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        problems = [f"{m.name}: {why}" for m in members if (why := _tar_member_problem(m))]
        _raise_if(problems, archive)
        for member in tqdm(members, desc=f"extract {archive.name}", unit="file", disable=not progress):
            tar.extract(member, dest, filter="data")


def _tar_member_problem(member: tarfile.TarInfo) -> str | None:
    if why := member_problem(member.name):
        return why
    if member.ischr() or member.isblk() or member.isfifo():
        return "device file or FIFO"
    if member.issym():
        return link_problem(member.name, member.linkname, relative_to_member=True)
    if member.islnk():
        return link_problem(member.name, member.linkname, relative_to_member=False)
    if not (member.isfile() or member.isdir()):
        return "unsupported member type"
    return None


def _extract_zip(archive: Path, dest: Path, progress: bool) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        problems = [f"{info.filename}: {why}" for info in members if (why := _zip_member_problem(zf, info))]
        _raise_if(problems, archive)
        for info in tqdm(members, desc=f"extract {archive.name}", unit="file", disable=not progress):
            zf.extract(info, dest)


def _zip_member_problem(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    if why := member_problem(info.filename):
        return why
    mode = info.external_attr >> 16  # Unix mode bits, when the archiver stored them
    if stat.S_ISLNK(mode):
        return link_problem(info.filename, zf.read(info).decode("utf-8", "replace"), relative_to_member=True)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "device file or FIFO"
    return None


def _raise_if(problems: list[str], archive: Path) -> None:
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise UnsafeArchiveError(
            f"{archive}: refusing to extract {len(problems)} unsafe member(s):\n{listing}\n"
            "nothing was extracted; get the archive from the official source"
        )
