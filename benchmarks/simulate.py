"""Benchmark: the April 2025 rare-earth export controls over the whole chain, 10,000 samples × 24 months.

    python benchmarks/simulate.py [--samples 10000] [--runs 3] [--scenario cn-2025-04-heavy-ree-controls]

Times ``oresight.simulate.simulate`` in process after loading the data once (calibration, sampling, the month
loop and the result Dataset; without the attribution runs, which ``--explain`` adds), and prints samples ×
months per second, the CPU time (what a loaded machine's wall time hides) and the process's peak resident
memory (of one run: the previous run's result is let go first), every run's time, and the phases of the best and
the first run (wall and CPU seconds and page faults: calibration, draws, the engine's month loop, assembling the
Dataset with allocating its arrays, which the engine writes into; the rest is checks and notes). The first run
also calibrates the chain (later runs reuse it) and faults its memory in afresh (later runs reuse the freed heap,
see ``oresight.allocator``).
``--threads N`` sets the engine's threads (default: its own choice, the usable cores up to 2).
Target: at most 5 s and 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import functools
import resource
import statistics
import time
from collections import defaultdict

import oresight
import oresight.simulate as simulator
from load_and_show import machine
from oresight.allocator import raise_malloc_thresholds
from oresight.simulate import simulate

#: the functions ``simulate`` calls for each phase (looked up in its module, so timing wrappers can stand in)
PHASES = {
    "calibrated": "calibration",
    "make_draws": "draws",
    "run": "engine",
    "Outputs": "assembly",  # the result's arrays, allocated before the engine writes into them
    "assemble": "assembly",
}


class Phases:
    """Wall and CPU seconds per phase of the current run, gathered by wrappers around ``simulate``'s steps."""

    def __init__(self, threads: int | None):
        self.current: dict[str, list[float]] = {}
        for function, name in PHASES.items():
            if not hasattr(simulator, function):  # an older version's phases (A/B runs against main)
                continue
            original = getattr(simulator, function)
            if function == "run" and threads is not None:
                original = functools.partial(original, threads=threads)
            setattr(simulator, function, self.timed(name, original))

    def start(self) -> dict[str, list[float]]:
        self.current = defaultdict(lambda: [0.0, 0.0, 0])
        return self.current

    def timed(self, name: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start, start_cpu, faults = time.perf_counter(), time.process_time(), page_faults()
            try:
                return function(*args, **kwargs)
            finally:
                self.current[name][0] += time.perf_counter() - start
                self.current[name][1] += time.process_time() - start_cpu
                self.current[name][2] += page_faults() - faults

        return wrapper


def page_faults() -> int:
    """Minor page faults of this process so far: memory touched for the first time (each costs kernel time)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="cn-2025-04-heavy-ree-controls")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="include the attribution runs")
    parser.add_argument("--threads", type=int, default=None, help="the engine's threads (default: its choice)")
    args = parser.parse_args()
    world = oresight.load(store=False)
    raise_malloc_thresholds()  # as `oresight simulate` does
    phases = Phases(args.threads)
    runs = []
    times, cpu = [], []
    for _ in range(args.runs):
        sim = None  # the previous run's result is let go: the peak is one run's, as a user's process holds one
        runs.append(phases.start())
        start, start_cpu = time.perf_counter(), time.process_time()
        sim = simulate(args.scenario, world, samples=args.samples, explain=args.explain)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    months = sim.dataset.sizes["month"]
    stages = ", ".join(sim.dataset.stage.values)
    best = min(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {machine()}")
    print(
        f"simulate({args.scenario!r}, samples={args.samples:,}, explain={args.explain}): "
        f"{months} months over {stages}; "
        f"median {statistics.median(times):.2f} s, best {best:.2f} s (n={args.runs}; CPU {min(cpu):.2f} s); "
        f"{args.samples * months / best:,.0f} sample-months/s; peak memory {peak_mb:,.0f} MB"
    )
    print(f"runs: {', '.join(f'{t:.2f}' for t in times)} s (CPU {', '.join(f'{c:.2f}' for c in cpu)} s)")
    for which, index in (("best", times.index(best)), ("first", 0)):  # the first also calibrates the chain
        split = runs[index]
        rest = times[index] - sum(wall for wall, _, _ in split.values())
        parts = [
            f"{name} {wall:.2f} s (CPU {used:.2f}, {faults:,} page faults)"
            for name, (wall, used, faults) in split.items()
        ]
        print(f"{which} run's phases: {'; '.join(parts)}; other {rest:.2f} s")


if __name__ == "__main__":
    main()
