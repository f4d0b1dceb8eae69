"""Planning: which projects and complementary stockpiles close the supply gaps of a country or an alliance, at
what cost — a two-stage stochastic program on linopy and HiGHS, validated out of sample by the simulator.

>>> import oresight
>>> result = oresight.plan.plan(members="USA", settings=["until=2028", "samples=4", "commodities=[gallium]"],
...                             validate=False)
>>> sorted(result.to_dict())[:4]
['budget_usd', 'capacity_by_year', 'cost_by_financier', 'cost_by_member']

The structure (:mod:`.spec`: plan files; :mod:`.projects`: the pipeline) is declared apart from the data that
fill it (:mod:`.inputs`: sets and data from the World); :mod:`.scenarios` samples futures, :mod:`.model` builds
the program, :mod:`.solve` solves it, :mod:`.results` reads the answer and :mod:`.validate` checks it on fresh
futures with the Monte Carlo engine.
"""

from __future__ import annotations

import importlib.metadata
import sys
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from oresight.plan.projects import load_projects
from oresight.plan.spec import PlanError, PlanSpec, load_plan_spec

__all__ = ["PlanError", "PlanSpec", "frontier", "load_plan_spec", "load_projects", "plan"]


def _spec(source, members, budget_usd, risk_target, until, seed, settings) -> PlanSpec:
    spec = source if isinstance(source, PlanSpec) else load_plan_spec(source, settings)
    if isinstance(source, PlanSpec) and settings:
        from oresight.plan.spec import apply_settings, parse_plan_spec

        spec = parse_plan_spec(apply_settings(spec.model_dump(mode="json"), settings))
    changes = {}
    if members is not None:
        changes["members"] = [m for m in (members.split("+") if isinstance(members, str) else members) if m]
    if budget_usd is not None:
        changes["budget_usd"] = budget_usd
    if risk_target is not None:
        changes["risk_target"], changes["budget_usd"] = risk_target, None
    if until is not None:
        changes["until"] = until
    if seed is not None:
        changes["seed"] = seed
    if not changes:
        return spec
    from oresight.plan.spec import parse_plan_spec

    return parse_plan_spec({**spec.model_dump(mode="json"), **changes})


def plan(
    source: str | Path | PlanSpec = "default",
    world=None,
    *,
    members: str | list[str] | None = None,
    budget_usd: float | None = None,
    risk_target: float | None = None,
    until: int | None = None,
    seed: int | None = None,
    settings: list[str] | dict = (),
    validate: bool = True,
    validation_timelines: int = 8,
    validation_samples: int = 20,
    progress: Callable[[str, int, int], None] | None = None,
    floor=None,
    marginals: bool = True,
):
    """Solve a plan (a library name, a YAML file or a :class:`PlanSpec`) against the World's data.

    ``members`` ("US+JP"), ``budget_usd``, ``risk_target`` (share of demand the 95th percentile of annual
    shortfall may reach), ``until`` and ``seed`` override the file's. ``progress(step, done, total)`` reports each
    step. ``marginals``: re-solve the LP with the projects fixed for their marginal values. ``floor``: a plan
    whose projects and purchases this one keeps (the frontier's ladder). Returns a
    :class:`oresight.plan.results.PlanResult`.
    """
    from oresight.plan.inputs import gather_inputs
    from oresight.plan.model import build_model
    from oresight.plan.results import PlanResult, extract
    from oresight.plan.scenarios import draw_futures
    from oresight.plan.solve import marginal_values, solve, solve_no_plan

    def step(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    if world is None:
        from oresight.world import load

        world = load()
    spec = _spec(source, members, budget_usd, risk_target, until, seed, settings)
    timings = {}
    started = time.perf_counter()
    step("reading the data", 0, 5)
    inputs = gather_inputs(world, spec)
    futures = draw_futures(inputs, spec.samples, spec.seed)
    step("building the program", 1, 5)
    plan_model = build_model(inputs, futures, floor=floor)
    timings["build_s"] = time.perf_counter() - started
    step("solving (HiGHS)", 2, 5)
    solve(plan_model)
    timings["solve_s"] = time.perf_counter() - started - timings["build_s"]
    built = plan_model.model.solution["build"].to_series().round()
    step("marginal values and the no-plan case", 3, 5)
    marginal = marginal_values(inputs, futures, built) if marginals and built.sum() > 0 else None
    parts = extract(plan_model, marginal)
    no_plan = extract(solve_no_plan(inputs, futures))["risk_in_sample"]
    result = PlanResult(inputs=inputs, no_plan_in_sample=no_plan, **parts)
    if validate:
        from oresight.plan.validate import out_of_sample

        step("out-of-sample validation", 4, 5)
        result.risk_out_of_sample, result.no_plan_out_of_sample = out_of_sample(
            world,
            inputs,
            result.portfolio,
            result.stockpiles,
            timelines=validation_timelines,
            samples=validation_samples,
            seed=spec.seed + 1_000_003,
            progress=lambda d, t: step("out-of-sample validation", 4, 5),
        )
    timings["total_s"] = time.perf_counter() - started
    result.metadata = _metadata(world, spec, plan_model, timings, validate, validation_timelines, validation_samples)
    step("done", 5, 5)
    return result


def frontier(
    budgets_usd: list[float], source: str | Path | PlanSpec = "default", world=None, **options
) -> pd.DataFrame:
    """The cost–risk frontier: a plan per budget, each extending the one before (a ladder of tranches: what a
    smaller budget buys stays bought), with in-sample and out-of-sample risk per commodity."""
    if world is None:
        from oresight.world import load

        world = load()
    rows, floor = [], None
    for budget in sorted(budgets_usd):
        result = plan(source, world, budget_usd=budget, floor=floor, **options)
        floor = result
        for commodity, risk in result.risk_in_sample.items():
            oos = result.risk_out_of_sample.get(commodity, {})
            rows.append(
                {
                    "budget_usd": budget,
                    "cost_usd": result.cost_usd,
                    "commodity": commodity,
                    "in_sample_expected_t": risk["expected_shortfall_t"],
                    "in_sample_p95_t": risk["p95_shortfall_t"],
                    "out_of_sample_expected_t": oos.get("expected_shortfall_t"),
                    "out_of_sample_p95_t": oos.get("p95_shortfall_t"),
                    "projects": ", ".join(result.portfolio["project"]),
                }
            )
    return pd.DataFrame(rows)


def _metadata(world, spec, plan_model, timings, validate, timelines, samples) -> dict:
    try:
        version = importlib.metadata.version("oresight")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "plan": spec.model_dump(mode="json"),
        "data_version": world.data_version,
        "oresight_version": version,
        "linopy_version": importlib.metadata.version("linopy"),
        "highspy_version": importlib.metadata.version("highspy"),
        "variables": int(plan_model.model.nvars),
        "constraints": int(plan_model.model.ncons),
        "binaries": len(plan_model.inputs.project_ids),
        "in_sample_futures": spec.samples,
        "out_of_sample": {"timelines": timelines, "samples_each": samples} if validate else None,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class _CallablePackage(types.ModuleType):
    """``oresight.plan(...)`` is :func:`plan`; ``oresight.plan.frontier`` etc. stay the package's."""

    def __call__(self, *args, **kwargs):
        return plan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
