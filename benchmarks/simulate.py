"""Benchmark: the April 2025 rare-earth export controls over the whole chain, 10,000 samples × 24 months.

    python benchmarks/simulate.py [--samples 10000] [--runs 3] [--scenario cn-2025-04-heavy-ree-controls]

Times ``oresight.simulate.simulate`` in process after loading the data once (calibration, sampling, the month
loop and the result Dataset; without the attribution runs, which ``--explain`` adds), and prints samples ×
months per second and the process's peak resident memory. Target: at most 5 s and 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import oresight
from load_and_show import machine
from oresight.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="cn-2025-04-heavy-ree-controls")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="include the attribution runs")
    args = parser.parse_args()
    world = oresight.load(store=False)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        sim = simulate(args.scenario, world, samples=args.samples, explain=args.explain)
        times.append(time.perf_counter() - start)
    months = sim.dataset.sizes["month"]
    stages = ", ".join(sim.dataset.stage.values)
    best = min(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {machine()}")
    print(
        f"simulate({args.scenario!r}, samples={args.samples:,}, explain={args.explain}): "
        f"{months} months over {stages}; "
        f"median {statistics.median(times):.2f} s, best {best:.2f} s (n={args.runs}); "
        f"{args.samples * months / best:,.0f} sample-months/s; peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
