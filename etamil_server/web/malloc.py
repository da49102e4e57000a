"""Large blocks straight from the operating system, and back to it when freed.

glibc's malloc serves a block above its mmap threshold with a mapping of its own, which ``free``
unmaps at once; but it raises that threshold each time such a block is freed (up to 32 MiB), so
after one large text has come and gone, the next ones of that size are carved from the heap of
the thread that makes them and stay resident when freed. Handlers run on many executor threads,
each with its own heap (arena): a handler stopped at the text limit then leaves tens of megabytes
resident in every thread that ever ran it (measured: a worker at 28 MiB peaked at +415 MiB after
six seconds of /bigtext against a 32 MiB limit; with the threshold fixed, +50 MiB).
:func:`fix_mmap_threshold` fixes the threshold (which also turns the raising off) in the
process that calls it; elsewhere than on glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
THRESHOLD = 1024 * 1024  # blocks of 1 MiB and more: mapped, and unmapped when freed


def fix_mmap_threshold(threshold: int = THRESHOLD) -> bool:
    """Whether glibc took the fixed threshold (False: not glibc, or it refused)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))
