"""Planning: which projects and complementary stockpiles close the supply gaps of a country or an alliance, at
what cost — a two-stage stochastic program on linopy and HiGHS, validated out of sample by the simulator.

>>> import oresight
>>> result = oresight.plan.plan(members="USA", settings=["until=2027", "samples=2", "commodities=[gallium]"],
...                             validate=False, marginals=False)
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

from oresight.plan.model import MILLION
from oresight.plan.projects import load_projects
from oresight.plan.spec import PlanError, PlanSpec, load_plan_spec

__all__ = ["PlanError", "PlanSpec", "compare_separate", "frontier", "load_plan_spec", "load_projects", "plan"]


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
    keep=None,
    marginals: bool = True,
    separate: bool = False,
    no_plan=None,
):
    """Solve a plan (a library name, a YAML file or a :class:`PlanSpec`) against the World's data.

    ``members`` ("US+JP"), ``budget_usd``, ``risk_target`` (share of demand the 95th percentile of annual
    shortfall may reach), ``until`` and ``seed`` override the file's. ``progress(step, done, total)`` reports each
    step. ``marginals``: re-solve the LP with the projects fixed for their marginal values. ``keep``: a plan
    whose projects, floors and purchases this one keeps (the frontier's ladder). ``separate``: also plan each member
    alone on the same network and report what planning together saves (``result.comparison``). ``no_plan``: the
    no-plan risk when already known (the frontier reuses it). Returns a :class:`oresight.plan.results.PlanResult`.
    """
    if world is None:
        from oresight.world import load

        world = load()
    spec = _spec(source, members, budget_usd, risk_target, until, seed, settings)
    total = 6 if separate else 5

    def step(name: str, done: int) -> None:
        if progress is not None:
            progress(name, done, total)

    started = time.perf_counter()
    result, plan_model, timings = _solve(world, spec, keep, marginals, no_plan, step)
    if validate:
        from oresight.plan.validate import out_of_sample

        step("out-of-sample validation", 4)
        result.risk_out_of_sample, result.no_plan_out_of_sample = out_of_sample(
            world,
            result.inputs,
            result.portfolio,
            result.stockpiles,
            timelines=validation_timelines,
            samples=validation_samples,
            seed=spec.seed + 1_000_003,
        )
    if separate and len(result.inputs.members) > 1:
        step("each member's plan alone", 5)
        result.metadata = {"objective_bound_usd": plan_model.dual_bound * MILLION}
        result.comparison = compare_separate(world, result)
    timings["total_s"] = time.perf_counter() - started
    result.metadata = _metadata(world, spec, plan_model, timings, validate, validation_timelines, validation_samples)
    step("done", total)
    return result


def _solve(world, spec: PlanSpec, keep, marginals: bool, no_plan, step):
    """Inputs, futures, the program and its solve; the marginal values and the no-plan risk."""
    from oresight.plan.inputs import gather_inputs
    from oresight.plan.model import build_model
    from oresight.plan.results import PlanResult, extract
    from oresight.plan.scenarios import draw_futures
    from oresight.plan.solve import marginal_values, solve, solve_no_plan

    clock = time.perf_counter()
    timings = {}

    def lap(name: str) -> None:
        nonlocal clock
        timings[name], clock = time.perf_counter() - clock, time.perf_counter()

    step("reading the data", 0)
    inputs = gather_inputs(world, spec)
    futures = draw_futures(inputs, spec.samples, spec.seed)
    lap("inputs_s")
    step("building the program", 1)
    plan_model = build_model(inputs, futures, keep=keep)
    lap("build_s")
    step("solving (HiGHS)", 2)
    solve(plan_model)
    lap("solve_s")
    built = plan_model.model.solution["build"].to_series().round()
    step("marginal values and the no-plan case", 3)
    marginal = marginal_values(inputs, futures, built) if marginals and built.sum() > 0 else None
    parts = extract(plan_model, marginal)
    if no_plan is None and spec.budget_usd == 0 and keep is None:
        no_plan = parts["risk_in_sample"]  # nothing can be bought: the plan is the no-plan case
    if no_plan is None:
        no_plan = extract(solve_no_plan(inputs, futures))["risk_in_sample"]
    return PlanResult(inputs=inputs, no_plan_in_sample=no_plan, **parts), plan_model, timings


def compare_separate(world, joint) -> dict:
    """Each member's plan made alone for the same risk target or budget, on the same network (the other members
    become partners: their chains are modelled, they neither plan nor count), the same futures and the same
    candidates — except that a project an earlier member's plan supports is not offered to a later one (one
    project's output cannot be promised to two national plans). The union of these plans is feasible for the
    joint plan (docs/methods.md), so the joint optimum costs at most their sum; the solver's bound on the joint
    objective proves it within the MIP gap."""
    spec = joint.inputs.spec
    members = list(joint.inputs.members)
    outside = [p for p in joint.inputs.network if p not in members]
    taken = list(spec.exclude_projects)
    alone = {}
    for member in members:
        partners = [m for m in members if m != member] + outside
        member_spec = spec.model_copy(update={"members": [member], "partners": partners, "exclude_projects": taken})
        result, plan_model, _ = _solve(world, member_spec, None, False, {}, lambda *_: None)
        result.metadata = {"objective_bound_usd": plan_model.dual_bound * MILLION, "mip_gap": plan_model.gap}
        alone[member] = result
        taken = taken + [p for p in result.portfolio["project"] if p not in taken]
    separate_cost = sum(r.cost_usd for r in alone.values())
    separate_objective = sum(r.objective_usd for r in alone.values())
    reached = _reached_alone(spec, alone)
    compared, bound = joint, joint.metadata.get("objective_bound_usd") if joint.metadata else None
    if reached:
        # a member alone misses a target the joint plan may meet: compare at the risk the members reach alone
        equal_spec = spec.model_copy(update={"risk_targets": reached})
        compared, plan_model, _ = _solve(world, equal_spec, None, False, {}, lambda *_: None)
        bound = plan_model.dual_bound * MILLION
    # who pays inside the joint plan is open (financiers and holders are interchangeable): a split in proportion
    # to what each member would spend alone leaves every member better off than alone whenever the joint plan saves
    shares = {m: compared.cost_usd * r.cost_usd / separate_cost if separate_cost > 0 else 0.0 for m, r in alone.items()}
    return {
        "proportional_share_usd": shares,
        "separate": {
            m: {
                "cost_usd": r.cost_usd,
                "objective_usd": r.objective_usd,
                "projects": list(r.portfolio["project"]),
                "stockpiles_t": {f"{s.commodity}/{s.stage}": s.tonnes for s in r.stockpiles.itertuples()},
                "target_slack": r.target_slack.get(m, {}),
            }
            for m, r in alone.items()
        },
        "joint_cost_usd": compared.cost_usd,
        "separate_cost_usd": separate_cost,
        "saving_usd": separate_cost - compared.cost_usd,
        "saving_share": (separate_cost - compared.cost_usd) / separate_cost if separate_cost > 0 else None,
        "joint_objective_usd": compared.objective_usd,
        "joint_objective_bound_usd": bound,
        "separate_objective_usd": separate_objective,
        "at_risk_reached_alone": reached,
        "joint_to_target_cost_usd": joint.cost_usd,
        "order": members,
    }


def _reached_alone(spec: PlanSpec, alone: dict) -> dict[str, dict[str, float]]:
    """member -> commodity -> the risk a member's plan alone reaches where it misses its target (target + slack);
    empty when every member alone meets every target."""
    reached: dict[str, dict[str, float]] = {}
    if spec.risk_target is None:
        return reached
    for member, result in alone.items():
        for commodity, slack in result.target_slack.get(member, {}).items():
            target = spec.risk_targets.get(member, {}).get(commodity, spec.risk_target)
            reached.setdefault(member, {})[commodity] = min(target + slack, 1.0)
    return reached


def frontier(
    budgets_usd: list[float], source: str | Path | PlanSpec = "default", world=None, **options
) -> pd.DataFrame:
    """The cost–risk frontier: a plan per budget, each extending the one before (a ladder of tranches: what a
    smaller budget buys stays bought), with in-sample and out-of-sample risk per commodity. ``progress(step,
    done, total)`` reports each budget solved."""
    if world is None:
        from oresight.world import load

        world = load()
    progress = options.pop("progress", None)
    rows, kept, no_plan = [], None, None
    for i, budget in enumerate(sorted(budgets_usd)):
        if progress is not None:
            progress(f"budget USD {budget / 1e9:g}bn", i, len(budgets_usd))
        result = plan(source, world, budget_usd=budget, keep=kept, no_plan=no_plan, **options)
        kept, no_plan = result, result.no_plan_in_sample
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
        "mip_gap": plan_model.gap,
        "objective_usd": float(plan_model.model.objective.value) * MILLION,
        "objective_bound_usd": plan_model.dual_bound * MILLION,
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
