"""What a sweep sets up on each Dask worker when it joins: an allocator that suits the engine.

Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_`` set (so that freed memory goes back to the operating
system soon). Setting it turns off glibc's adaptive mmap threshold, and every array above 128 kB is then mapped
and unmapped afresh; the engine allocates many such arrays each simulated month and runs two to three times
slower, mostly in the kernel (measured: 25 s against 10 s of CPU for the same 234 scenarios). Where the variable
is set, the plugin raises both thresholds again with ``mallopt``, for every worker of the cluster, however it was
started.
"""

from __future__ import annotations

import os

from distributed import WorkerPlugin

from oresight.allocator import raise_malloc_thresholds

__all__ = ["AllocatorPlugin", "tune_allocator"]


def tune_allocator() -> bool:
    """Restore large malloc thresholds in this process if ``MALLOC_TRIM_THRESHOLD_`` lowered them; True if done."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    return raise_malloc_thresholds()


class AllocatorPlugin(WorkerPlugin):
    name = "oresight-allocator"

    def setup(self, worker) -> None:
        tune_allocator()
