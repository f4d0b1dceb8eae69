"""What a sweep sets up on each Dask worker when it joins: an allocator that suits the engine.

Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_`` set (so that freed memory goes back to the operating
system soon). Setting it turns off glibc's adaptive mmap threshold, and every array above 128 kB is then mapped
and unmapped afresh; the engine allocates many such arrays each simulated month and runs two to three times
slower, mostly in the kernel (measured: 25 s against 10 s of CPU for the same 234 scenarios). Where the variable
is set, the plugin raises both thresholds again with ``mallopt``, for every worker of the cluster, however it was
started.
"""

from __future__ import annotations

import ctypes
import os
import sys

from distributed import WorkerPlugin

__all__ = ["AllocatorPlugin", "tune_allocator"]

#: mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 64 * 2**20
_TRIM_THRESHOLD = 128 * 2**20


def tune_allocator() -> bool:
    """Restore large malloc thresholds in this process if ``MALLOC_TRIM_THRESHOLD_`` lowered them; True if done."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )


class AllocatorPlugin(WorkerPlugin):
    name = "oresight-allocator"

    def setup(self, worker) -> None:
        tune_allocator()
