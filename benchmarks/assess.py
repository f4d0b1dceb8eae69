"""Benchmark: a full assessment — every commodity, stage and method — for one importer.

    python benchmarks/assess.py [--importer US] [--runs 5] [--fresh]

Times ``oresight.assess`` in process after loading the data once (the World is reused, as in a notebook or
the web app), and prints the machine and the median / best wall time and CPU time. ``--fresh`` loads a new World
before every run (timing only the assessment), so each run is a World's first assessment of the importer and
year: the case of ``oresight assess`` and ``oresight brief`` on the command line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import oresight
from load_and_show import machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--importer", default="US")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="a new World before every run (first assessments)")
    args = parser.parse_args()
    world = oresight.load(store=False)
    oresight.assess(world, importer="US", year=args.year, commodities=["cobalt"])  # imports out of the way
    times, cpu, rows = [], [], 0
    for _ in range(args.runs):
        if args.fresh:
            world = oresight.load(store=False)
        start, start_cpu = time.perf_counter(), time.process_time()
        table = oresight.assess(world, importer=args.importer, year=args.year)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        rows = len(table)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(
        f"oresight.assess(importer={args.importer!r}, year={args.year}, all methods{', fresh World' * args.fresh}): "
        f"{rows} commodity stages, median {statistics.median(times):.3f} s, best {min(times):.3f} s, "
        f"CPU median {statistics.median(cpu):.3f} s (n={args.runs})"
    )


if __name__ == "__main__":
    main()
