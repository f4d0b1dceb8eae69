"""Benchmark: ``oresight.load()`` in-process, and ``oresight data show`` end to end (a fresh process each run).

    python benchmarks/load_and_show.py [--runs 10]

Prints the machine, its load average, the command and the median / best wall time of each; for new processes
also their CPU time (user + system), which a busy machine inflates far less than wall time. Results go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
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


def time_command(args: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``oresight ARGS`` in a new process, with an empty home (no local store)."""
    env = {**os.environ, "ORESIGHT_HOME": tempfile.mkdtemp()}
    return _time_processes([sys.executable, "-m", "oresight", *args], runs, env)


def time_import(runs: int) -> tuple[list[float], list[float]]:
    return _time_processes([sys.executable, "-c", "import oresight, typer"], runs, dict(os.environ))


def _time_processes(command: list[str], runs: int, env: dict) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def report(name: str, times: list[float], cpu: list[float] | None = None) -> None:
    line = f"{name:70s} median {statistics.median(times):.3f} s  best {min(times):.3f} s  (n={len(times)})"
    if cpu:
        line += f"; CPU median {statistics.median(cpu):.3f} s, best {min(cpu):.3f} s"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    report("oresight.load() (in process, after the first call)", time_load(args.runs))
    for show in (
        ["data", "show", "rare-earths", "--stage", "mining", "--format", "json"],
        ["data", "show", "rare-earths", "--stage", "mining", "--year", "2024", "--format", "json"],
    ):
        report("oresight " + " ".join(show) + " (new process)", *time_command(show, args.runs))
    report("python -c 'import oresight, typer' (new process; the import share)", *time_import(args.runs))


if __name__ == "__main__":
    main()
