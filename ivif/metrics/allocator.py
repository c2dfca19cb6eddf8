"""Keep freed memory in the process so image-sized temporaries are not page-faulted afresh.

Each metric allocates several full-image temporaries. By default glibc hands large
freed blocks back to the operating system (blocks above the mmap threshold, and heap
tops above the trim threshold), so the next allocation of the same size faults in
fresh zeroed pages: about a third of the suite's time at 1024×768. Entry points that
evaluate many images (``ivif metrics``, ``bench/metrics.py``) call
``retain_freed_memory()`` once. Process-wide by nature, hence not done on import; a
no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters (glibc <malloc.h>)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's maximum: blocks up to 32 MiB come from the heap
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024  # keep up to 256 MiB of freed heap for reuse


def retain_freed_memory() -> bool:
    """Tune glibc's malloc to reuse freed image buffers. Returns whether it applied."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
