"""Benchmark: ``oresight.load()`` in-process, and ``oresight data show`` end to end (a fresh process each run).

    python benchmarks/load_and_show.py [--runs 10]

Prints the machine, the command and the median / best wall time of each. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {int(fh.readline().split()[1]) // 1024 // 1024} GiB RAM"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {cpus} cores{mem}, Python {platform.python_version()}"


def time_load(runs: int) -> list[float]:
    import oresight

    oresight.load(store=False)  # first call pays for reading the taxonomy once per process
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        oresight.load(store=False)
        out.append(time.perf_counter() - start)
    return out


def time_command(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "ORESIGHT_HOME": tempfile.mkdtemp()}
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "oresight", *args], check=True, capture_output=True, env=env)
        out.append(time.perf_counter() - start)
    return out


def time_import(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import oresight, typer"], check=True)
        out.append(time.perf_counter() - start)
    return out


def report(name: str, times: list[float]) -> None:
    print(f"{name:70s} median {statistics.median(times):.3f} s  best {min(times):.3f} s  (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    report("oresight.load() (in process, after the first call)", time_load(args.runs))
    show = ["data", "show", "rare-earths", "--stage", "mining", "--year", "2024", "--format", "json"]
    report("oresight " + " ".join(show) + " (new process)", time_command(show, args.runs))
    report("python -c 'import oresight, typer' (new process; the import share)", time_import(args.runs))


if __name__ == "__main__":
    main()
