import sys

from ivif.metrics.allocator import retain_freed_memory


def test_retain_freed_memory_applies_on_glibc():
    applied = retain_freed_memory()
    assert isinstance(applied, bool)
    if sys.platform.startswith("linux"):
        assert applied
