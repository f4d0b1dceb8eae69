"""Benchmark: the checks every import goes through, and `oresight data problems`.

    python benchmarks/data_truth.py [--runs 5] [--raw ../shared/data]

Times, in process: the plausibility rules over the bundled facts (`find_problems`); reading the MCS 2026 release
(8,886 rows) with its physical checks (`oresight.io.read`); reviewing it against the bundled data
(`review_import`: errata and flags). End to end, in a new process: `oresight data problems --format json`.
Prints the machine, the commands and the median / best wall time. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_and_show import machine, time_command


def timed(function, runs: int) -> list[float]:
    function()  # the first call pays for the taxonomy and the rules, once per process
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--raw", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data")
    args = parser.parse_args()

    import oresight
    from oresight.io import read
    from oresight.plausibility import find_problems, review_import

    world = oresight.load(store=False)
    facts = world.all_facts.drop(columns=["load_order"])
    release = args.raw / "usgs_mcs2026/usgs_mcs2026_commodities_data.csv"
    result = read(release, "usgs-mcs")
    rows = [
        (f"plausibility rules over the bundled facts ({len(facts):,})", timed(lambda: find_problems(facts), args.runs)),
        (f"read and check the MCS 2026 release ({len(result.facts):,} facts)", timed(lambda: read(release), args.runs)),
        ("review it against the bundled data", timed(lambda: review_import(result, world.all_facts), args.runs)),
        (
            "`oresight data problems --format json`, new process",
            time_command(["data", "problems", "--format", "json"], args.runs),
        ),
    ]
    print(f"Machine: {machine()}")
    print(f"Command: python benchmarks/data_truth.py --runs {args.runs}")
    print("| what | median | best |\n|---|---|---|")
    for label, times in rows:
        print(f"| {label} | {statistics.median(times):.3f} s | {min(times):.3f} s |")


if __name__ == "__main__":
    main()
