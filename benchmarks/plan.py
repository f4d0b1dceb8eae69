"""Benchmark: the default plan (US+JP, to 2035, 30 in-sample futures) — model building and the HiGHS solve,
then the marginal-value LP, the no-plan case and the out-of-sample validation.

    python benchmarks/plan.py [--validate]

Target (issue 11): the default plan solves in at most 60 s on a 2-core machine. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import oresight


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validate", action="store_true", help="also run the out-of-sample validation")
    args = parser.parse_args()
    world = oresight.load(store=False)
    started = time.perf_counter()
    result = oresight.plan(world=world, validate=args.validate)
    total = time.perf_counter() - started
    meta = result.metadata
    print(
        json.dumps(
            {
                "plan": "default (US+JP, 2026-2035)",
                "variables": meta["variables"],
                "constraints": meta["constraints"],
                "binaries": meta["binaries"],
                "futures": meta["in_sample_futures"],
                "build_s": meta["timings_s"]["build_s"],
                "solve_s": meta["timings_s"]["solve_s"],
                "total_s": round(total, 1),
                "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
                "cost_usd": round(result.cost_usd),
                "projects": list(result.portfolio["project"]),
            }
        )
    )


if __name__ == "__main__":
    main()
