"""Benchmark: a screen of thousands of disruptions on a local Dask cluster of 1 and of 2 worker processes.

    python benchmarks/sweep.py [--file benchmarks/sweep-screen.yaml] [--workers 1 2] [--samples N]

For each worker count: starts a LocalCluster as ``oresight sweep`` does (processes, one thread each), runs the
sweep into a fresh folder through the cluster's scheduler address, and prints wall time (with and without the
cluster's start), scenarios per second, each worker's peak resident memory and the machine's load average
before and after (the machine may be shared: a load above the core count means the run did not have them).
Targets (issue 12): at least 5,000 scenarios × 1,000 samples in at most 10 minutes on 2 cores; 2 workers at
least 1.7× faster than 1.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import oresight
from load_and_show import machine
from oresight.sweep import load_sweep, parse_sweep, run_sweep
from oresight.sweep.execute import local_cluster


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    return time.process_time()


def run_once(sweep, world, workers: int) -> dict:
    from dask.distributed import Client

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with local_cluster(workers) as cluster, Client(cluster) as client:
        ready = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            run = run_sweep(sweep, Path(folder) / "out", world, scheduler=cluster.scheduler_address, store=False)
        finished = time.perf_counter()
        peaks = sorted(client.run(_peak_rss_mb).values())
        cpu = sum(client.run(_cpu_seconds).values())
    return {
        "workers": workers,
        "scenarios": run.scenarios,
        "rows": run.rows,
        "start_s": ready - started,
        "sweep_s": finished - ready,
        "total_s": finished - started,
        "worker_cpu_s": cpu,
        "peak_mb": peaks,
        "load": (load_before, os.getloadavg()[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", default=str(Path(__file__).with_name("sweep-screen.yaml")))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=None, help="override the file's samples")
    args = parser.parse_args()
    sweep = load_sweep(args.file)
    if args.samples:
        sweep = parse_sweep({**sweep.model_dump(mode="json"), "samples": args.samples})
    world = oresight.load(store=False)
    print(f"machine: {machine()}")
    results = []
    for workers in args.workers:
        found = run_once(sweep, world, workers)
        results.append(found)
        print(
            f"{sweep.name}: {found['scenarios']:,} scenarios × {sweep.samples:,} samples × {sweep.horizon_months} "
            f"months on {workers} worker(s): {found['sweep_s']:.1f} s (+ {found['start_s']:.1f} s cluster start), "
            f"{found['scenarios'] / found['sweep_s']:.1f} scenarios/s; worker CPU {found['worker_cpu_s']:.0f} s; "
            f"peak memory per worker {', '.join(f'{m:,.0f}' for m in found['peak_mb'])} MB; "
            f"load average {found['load'][0]:.1f} before, {found['load'][1]:.1f} after"
        )
    if len(results) > 1:
        base = results[0]
        for other in results[1:]:
            print(
                f"speed-up {base['workers']} -> {other['workers']} workers: {base['sweep_s'] / other['sweep_s']:.2f}x "
                f"(total with cluster start {base['total_s'] / other['total_s']:.2f}x)"
            )


if __name__ == "__main__":
    main()
