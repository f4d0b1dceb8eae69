"""Benchmark: the default plan (US+JP, to 2035, 30 in-sample futures) — model building and the HiGHS solve,
then the marginal-value LP and the no-plan case; optionally the out-of-sample validation and each member's plan
made alone (the joint plan's saving).

    python benchmarks/plan.py [--validate] [--separate]

Target (issue 11): the default plan solves in at most 60 s on a 2-core machine. Prints one JSON line; CPU
seconds beside wall seconds, since wall time on a shared machine says more about the neighbours than the code.
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
    parser.add_argument("--separate", action="store_true", help="also plan each member alone (the saving)")
    args = parser.parse_args()
    world = oresight.load(store=False)
    started, cpu = time.perf_counter(), time.process_time()
    result = oresight.plan(world=world, validate=args.validate, separate=args.separate)
    total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    meta = result.metadata
    comparison = result.comparison or {}
    print(
        json.dumps(
            {
                "plan": "default (US+JP, 2026-2035)",
                "variables": meta["variables"],
                "constraints": meta["constraints"],
                "binaries": meta["binaries"],
                "futures": meta["in_sample_futures"],
                "inputs_s": meta["timings_s"]["inputs_s"],
                "build_s": meta["timings_s"]["build_s"],
                "solve_s": meta["timings_s"]["solve_s"],
                "mip_gap": round(meta["mip_gap"], 4),
                "total_s": round(total, 1),
                "total_cpu_s": round(total_cpu, 1),
                "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
                "cost_usd": round(result.cost_usd),
                "cost_by_member": {m: round(v) for m, v in result.cost_by_member.items()},
                "projects": list(result.portfolio["project"]),
                "floors": list(result.floors["project"]),
                "separate_cost_usd": round(comparison["separate_cost_usd"]) if comparison else None,
                "saving_usd": round(comparison["saving_usd"]) if comparison else None,
            }
        )
    )


if __name__ == "__main__":
    main()
