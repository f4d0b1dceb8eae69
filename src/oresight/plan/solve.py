"""Solving: HiGHS through linopy's direct interface (no LP files), the LP re-solve with the projects fixed for
their marginal values, and the recourse-only solve of the no-plan case."""

from __future__ import annotations

import contextlib
import logging
import os

import pandas as pd

from oresight.errors import OresightError
from oresight.plan.inputs import PlanInputs
from oresight.plan.model import MILLION, PlanModel, build_model
from oresight.plan.scenarios import Futures

__all__ = ["SolveError", "marginal_values", "solve", "solve_no_plan"]

#: relative MIP gap accepted (HiGHS stalls on the last fractions of a percent of large MILPs)
MIP_GAP = 0.005
TIME_LIMIT_S = 300.0


class SolveError(OresightError):
    """The solver found no plan (infeasible or out of time); the message says which."""


@contextlib.contextmanager
def _quiet():
    """HiGHS writes its banner to the C-level stdout: library code never prints, so point it at /dev/null."""
    logging.getLogger("linopy").setLevel(logging.WARNING)
    try:
        fd = os.dup(1)
    except OSError:  # no real stdout (e.g. a captured stream): nothing to silence
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(fd, 1)
            os.close(fd)


def solve(plan_model: PlanModel, *, mip_gap: float = MIP_GAP, time_limit: float = TIME_LIMIT_S) -> PlanModel:
    with _quiet():
        status, condition = plan_model.model.solve(
            solver_name="highs",
            io_api="direct",
            output_flag=False,
            log_to_console=False,
            mip_rel_gap=mip_gap,
            time_limit=time_limit,
            threads=1,
        )
    if status != "ok":
        raise SolveError(f"HiGHS found no plan: {condition}")
    info = plan_model.model.solver_model.getInfo()
    objective = float(plan_model.model.objective.value)
    is_mip = not plan_model.fixed and len(plan_model.inputs.project_ids) > 0
    plan_model.dual_bound = float(info.mip_dual_bound) if is_mip else objective
    plan_model.gap = float(info.mip_gap) if is_mip else 0.0
    return plan_model


def marginal_values(inputs: PlanInputs, futures: Futures, built: pd.Series) -> pd.Series:
    """USD of objective saved by the last unit of each project (0/1) at the chosen plan: minus the dual of the
    constraint that fixes it, from the LP with every project fixed (positive = worth more than it costs)."""
    fixed = solve(build_model(inputs, futures, fixed_build=built))
    dual = fixed.model.constraints["fix_build"].dual.to_series()
    return -dual * MILLION


def solve_no_plan(inputs: PlanInputs, futures: Futures) -> PlanModel:
    """The futures with nothing built and nothing stockpiled: the recourse alone (for comparison)."""
    spec = inputs.spec.model_copy(update={"budget_usd": 0.0, "risk_target": None})
    none_built = pd.Series(0.0, index=inputs.project_ids)
    return solve(build_model(_with_spec(inputs, spec), futures, fixed_build=none_built))


def _with_spec(inputs: PlanInputs, spec) -> PlanInputs:
    from dataclasses import replace

    return replace(inputs, spec=spec)
