"""glibc malloc thresholds that suit the simulator's month loop.

The engine makes many short-lived arrays of a few megabytes each simulated month. With glibc's defaults the top
of the heap is given back to the operating system whenever more than twice the (adaptive) mmap threshold is
free, so the next month's arrays fault their pages in afresh: a third of a 4,000-sample run went to the kernel
(measured: 3.7 s of system time against 2.6 s of user time, 170,000 page faults; 2.0 s and 32,000 with the
thresholds raised). The same holds between runs: a run's result arrays (hundreds of MB at 10,000 samples) mapped
afresh and given back after it, the next run (a backtest's next scenario, a variant, the attribution's reruns,
a benchmark's next round) faulted every page in again, and on a virtual machine that hands freed memory back
to its host each fault is dear (the element chain's assembly: 0.1 s of user and 2–4 s of system time). Long
computations (``oresight simulate``, backtests, sweep workers) raise both thresholds once per process: arrays
up to 1 GiB come from the heap, and up to 2,000 MiB of freed heap stay with the process for the next run;
library functions never change them.

They also stop numpy from asking for transparent huge pages (``madvise(MADV_HUGEPAGE)`` on every array of 4 MB
or more): on the virtual machine the benchmarks run on, huge pages faulted in for the first time are dear, and
a run's first touch of its 833 MB of result arrays took 3.4–3.9 s of CPU with them against 0.4–0.5 s without
(the month loop's arrays are small blocks that stay in the caches, where huge pages save little; later runs,
which reuse the heap, were as fast either way).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["raise_malloc_thresholds"]

#: mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 2**30
_TRIM_THRESHOLD = 2000 * 2**20  # mallopt takes an int


def raise_malloc_thresholds() -> bool:
    """Keep arrays below 1 GiB on the heap and up to 2,000 MiB of free heap in this process (glibc only), and
    numpy's arrays on small pages; True if the thresholds were raised."""
    if not sys.platform.startswith("linux"):
        return False
    _small_pages()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )


def _small_pages() -> None:
    """numpy's new arrays without ``madvise(MADV_HUGEPAGE)`` (what ``NUMPY_MADVISE_HUGEPAGE=0`` does at import)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # a numpy without the switch
        return
    _set_madvise_hugepage(False)
