"""Atomic writes: all or nothing, usual permissions, old tree kept on failure."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys

import pytest

from ivif.io.atomic import (
    DiskFullError,
    atomic_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_stream,
    atomic_write_text,
    is_temp_name,
    sweep_stale_temps,
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


def test_temporaries_have_one_hidden_name_with_the_writers_pid(tmp_path):
    with atomic_path(tmp_path / "last.pt") as tmp:
        assert tmp.name.startswith(f".last.pt.ivif-tmp-{os.getpid()}-") and is_temp_name(tmp.name)
    with atomic_dir(tmp_path / "cache") as tmp:
        assert tmp.name.startswith(f".cache.ivif-tmp-{os.getpid()}-") and is_temp_name(tmp.name)
    assert not is_temp_name("last.pt") and not is_temp_name(".hidden") and not is_temp_name(".x.tmp")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_sweep_removes_temporaries_of_dead_writers_only(tmp_path):
    dead = _dead_pid()
    stale_file = tmp_path / f".last.pt.ivif-tmp-{dead}-abcd1234.pt.tmp"
    stale_file.write_bytes(b"half")
    stale_dir = tmp_path / f".sample.ivif-tmp-{dead}-0badf00d"
    stale_dir.mkdir()
    (stale_dir / "ir.u8").write_bytes(b"half")
    stale_old = tmp_path / f".sample.ivif-old-{dead}-00000001"
    stale_old.mkdir()
    live = tmp_path / f".model.pt.ivif-tmp-{os.getpid()}-12345678.pt.tmp"  # a writer still running
    live.write_bytes(b"in progress")
    keep = [tmp_path / "sample", tmp_path / ".gitignore", tmp_path / "notes.tmp"]
    keep[0].mkdir()
    keep[1].write_text("x")
    keep[2].write_text("x")

    removed = sweep_stale_temps(tmp_path)

    assert sorted(removed) == sorted([stale_file, stale_dir, stale_old])
    assert sorted(tmp_path.iterdir()) == sorted([live, *keep])
    assert sweep_stale_temps(tmp_path / "missing") == []


_KILLED_WRITER = """
import sys, time
from ivif.io.atomic import atomic_dir, atomic_path
with atomic_dir(sys.argv[1]) as tmp, atomic_path(sys.argv[2]) as tmp_file:
    (tmp / "part").write_bytes(b"x")
    tmp_file.write_bytes(b"x")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_sigkilled_writer_leaves_only_sweepable_temporaries(tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(tmp_path / "out"), str(tmp_path / "last.pt")], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(is_temp_name(name) for name in left)  # hidden, and matched by .dvcignore
    assert len(sweep_stale_temps(tmp_path)) == 2
    assert list(tmp_path.iterdir()) == []


def _small_filesystem(tmp_path, size: str):
    """A real, tiny tmpfs; skips where mounting is not allowed (unprivileged CI)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    return mount_point


@pytest.fixture
def small_fs(tmp_path):
    mount_point = _small_filesystem(tmp_path, "1m")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_full_disk_names_the_file_and_keeps_the_old_one(small_fs):
    torch = pytest.importorskip("torch")
    dest = small_fs / "checkpoints" / "last.pt"
    atomic_write_stream(dest, lambda stream: torch.save({"w": torch.zeros(10)}, stream))
    before = dest.read_bytes()
    with pytest.raises(DiskFullError, match=rf"no space left writing {dest}") as caught:
        atomic_write_stream(dest, lambda stream: torch.save({"w": torch.zeros(1_000_000)}, stream))
    assert caught.value.errno == errno.ENOSPC and "unexpected pos" not in str(caught.value)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["last.pt"]  # the temporary is gone


def test_full_disk_in_a_directory_write_names_the_directory(small_fs):
    dest = small_fs / "cache"
    with pytest.raises(DiskFullError, match=rf"no space left writing {dest}"), atomic_dir(dest) as tmp:
        (tmp / "ir.u8").write_bytes(b"\0" * 2_000_000)
    assert list(small_fs.iterdir()) == []
