"""Memory a long process has freed, handed back to the system."""

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from functools import cache


def return_freed_memory() -> bool:
    """Give the pages the C allocator holds free back to the system (glibc's ``malloc_trim``);
    False where the C library has no such call.

    Python's objects over 512 bytes (an abstract's text, a parsed record's strings) come from
    the C allocator, which keeps what they freed in its heap as long as anything lives above
    it: a process that parsed and dropped a million records keeps that memory resident through
    whatever it does next.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # no such library, or not glibc
        return None


def resident_mb() -> int | None:
    """This process's resident memory in MB; None where /proc cannot tell (not Linux)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") // (1 << 20)
