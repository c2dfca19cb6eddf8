import ctypes
import resource
import sys

import pytest

from ivif import allocator
from ivif.allocator import freed_memory_retained

BLOCK_BYTES = 64 * 1024 * 1024  # above glibc's largest mmap threshold (32 MiB): always a fresh mapping by default
HUGE_PAGE_BYTES = 2 * 1024 * 1024  # the fewest faults a fresh block can take (transparent huge pages)

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux") or allocator._glibc() is None, reason="glibc malloc only")


def _faults_of_second_allocation() -> int:
    """Minor page faults of filling a freshly malloc'ed 64 MiB block, after one was freed."""
    libc = allocator._glibc()
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(_filled(libc.malloc(BLOCK_BYTES)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = _filled(libc.malloc(BLOCK_BYTES))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    libc.free(block)
    return faults


def _filled(address: int) -> int:
    assert address, "malloc failed"
    ctypes.memset(address, 1, BLOCK_BYTES)
    return address


@glibc_only
def test_freed_blocks_are_reused_inside_and_returned_after():
    default = _faults_of_second_allocation()  # a new mapping, faulted in again (fewer faults with huge pages)
    assert default >= BLOCK_BYTES // HUGE_PAGE_BYTES
    with freed_memory_retained() as applied:
        assert applied
        assert _faults_of_second_allocation() * 4 < default  # the freed block is reused
    assert _faults_of_second_allocation() >= BLOCK_BYTES // HUGE_PAGE_BYTES  # defaults are back


@glibc_only
def test_nested_blocks_keep_the_setting_until_the_outermost_exits():
    default = _faults_of_second_allocation()
    with freed_memory_retained():
        with freed_memory_retained():
            pass
        assert _faults_of_second_allocation() * 4 < default
    assert allocator._active == 0
