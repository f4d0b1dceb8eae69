"""Benchmark: a full assessment — every commodity, stage and method — for one importer.

    python benchmarks/assess.py [--importer US] [--runs 5]

Times ``oresight.assess`` in process after loading the data once (the World is reused, as in a notebook or
the web app), and prints the machine and the median / best wall time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import oresight
from load_and_show import machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--importer", default="US")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    world = oresight.load(store=False)
    times, rows = [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        table = oresight.assess(world, importer=args.importer, year=args.year)
        times.append(time.perf_counter() - start)
        rows = len(table)
    print(f"machine: {machine()}")
    print(
        f"oresight.assess(importer={args.importer!r}, year={args.year}, all methods): {rows} commodity stages, "
        f"median {statistics.median(times):.3f} s, best {min(times):.3f} s (n={args.runs})"
    )


if __name__ == "__main__":
    main()
