"""Atomic writes: all or nothing, usual permissions, old tree kept on failure."""

from __future__ import annotations

import os
import stat

import pytest

from ivif.io.atomic import (
    atomic_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_stream,
    atomic_write_text,
)


class Boom(RuntimeError):
    pass


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_bytes_and_text(tmp_path):
    atomic_write_bytes(tmp_path / "sub" / "a.bin", b"\x00\x01")
    atomic_write_text(tmp_path / "b.txt", "héllo")
    assert (tmp_path / "sub" / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "héllo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt", "sub"]  # no temp files left


def test_failed_write_keeps_the_old_file(tmp_path):
    dest = tmp_path / "a.txt"
    dest.write_text("old")
    with pytest.raises(Boom), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise Boom
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_stream_writes_are_atomic_too(tmp_path):
    dest = tmp_path / "a.bin"
    atomic_write_stream(dest, lambda stream: stream.write(b"new"))
    assert dest.read_bytes() == b"new"

    def fail(stream):
        stream.write(b"half")
        raise Boom

    with pytest.raises(Boom):
        atomic_write_stream(dest, fail)
    assert dest.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_suffix_is_visible_to_writers(tmp_path):
    with atomic_path(tmp_path / "x.npy") as tmp:
        assert tmp.suffix == ".tmp" and tmp.name.endswith(".npy.tmp")
        tmp.write_bytes(b"")
    with atomic_path(tmp_path / "y.npy", suffix=".npy") as tmp:
        assert tmp.suffix == ".npy"
        tmp.write_bytes(b"")


def test_results_get_usual_permissions(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "x")
    assert _mode(tmp_path / "a.txt") == 0o666 & ~_umask()
    with atomic_dir(tmp_path / "d") as tmp:
        (tmp / "f").write_text("x")
    assert _mode(tmp_path / "d") == 0o777 & ~_umask()


def test_dir_appears_whole_and_replaces_old(tmp_path):
    dest = tmp_path / "out"
    with atomic_dir(dest) as tmp:
        (tmp / "one").write_text("1")
        assert not dest.exists()
    with atomic_dir(dest) as tmp:
        (tmp / "two").write_text("2")
    assert [p.name for p in dest.iterdir()] == ["two"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_dir_keeps_old_tree(tmp_path):
    dest = tmp_path / "out"
    with atomic_dir(dest) as tmp:
        (tmp / "old").write_text("old")
    with pytest.raises(Boom), atomic_dir(dest) as tmp:
        (tmp / "new").write_text("new")
        raise Boom
    assert [p.name for p in dest.iterdir()] == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_stale_leftovers_do_not_block_a_replace(tmp_path):
    dest = tmp_path / "out"
    with atomic_dir(dest) as tmp:
        (tmp / "a").write_text("a")
    # leftovers of a crashed earlier run, named like the old implementation's aside dir
    stale = tmp_path / f".out.old-{os.getpid()}"
    stale.mkdir()
    (stale / "junk").write_text("junk")
    with atomic_dir(dest) as tmp:
        (tmp / "b").write_text("b")
    assert [p.name for p in dest.iterdir()] == ["b"]
