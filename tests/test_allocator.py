import json
import subprocess
import sys

import pytest

from ivif import allocator

BLOCK_BYTES = 64 * 1024 * 1024  # above glibc's largest mmap threshold (32 MiB): always a fresh mapping by default
HUGE_PAGE_BYTES = 2 * 1024 * 1024  # the fewest faults a fresh block can take (transparent huge pages)

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux") or allocator._glibc() is None, reason="glibc malloc only")

# malloc's behaviour depends on everything the process allocated before (earlier tests
# leave heaps and thresholds behind), so each scenario runs in a fresh interpreter.
_PROBE = f"""
import ctypes, json, resource, sys
from ivif import allocator
from ivif.allocator import freed_memory_retained

BLOCK_BYTES = {BLOCK_BYTES}
libc = allocator._glibc()
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def filled(address):
    assert address, "malloc failed"
    ctypes.memset(address, 1, BLOCK_BYTES)
    return address

def faults_of_second_allocation():
    # Minor page faults of filling a freshly malloc'ed 64 MiB block, after one was freed.
    libc.free(filled(libc.malloc(BLOCK_BYTES)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = filled(libc.malloc(BLOCK_BYTES))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    libc.free(block)
    return faults

result = {{"default": faults_of_second_allocation()}}
if sys.argv[1] == "single":
    with freed_memory_retained() as applied:
        result["applied"] = applied
        result["inside"] = faults_of_second_allocation()
    result["after"] = faults_of_second_allocation()
else:
    with freed_memory_retained():
        with freed_memory_retained():
            pass
        result["inside"] = faults_of_second_allocation()
    result["active_after"] = allocator._active
print(json.dumps(result))
"""


def _probe(scenario: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE, scenario], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@glibc_only
def test_freed_blocks_are_reused_inside_and_returned_after():
    faults = _probe("single")
    default = faults["default"]  # a new mapping, faulted in again (fewer faults with huge pages)
    assert default >= BLOCK_BYTES // HUGE_PAGE_BYTES
    assert faults["applied"]
    assert faults["inside"] * 4 < default  # the freed block is reused
    assert faults["after"] >= BLOCK_BYTES // HUGE_PAGE_BYTES  # defaults are back


@glibc_only
def test_nested_blocks_keep_the_setting_until_the_outermost_exits():
    faults = _probe("nested")
    assert faults["inside"] * 4 < faults["default"]
    assert faults["active_after"] == 0
