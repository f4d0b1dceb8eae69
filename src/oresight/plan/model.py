"""The planning model: a two-stage stochastic mixed-integer program in linopy.

First stage (shared by every sampled future): ``build[project]`` (binary: support the project from its earliest
start), ``fund[project, financier]`` (who pays its support), ``buy[holder, form, year]`` (stockpile purchases by
each member, per element and stage: oxide, metal, or whole magnets). Second stage (per future ``sample``): what
each existing plant, China, other suppliers and each supported project deliver, what each holder releases, what
is left over, and the shortfall per end-use sector, under a mass balance at every stage and year.

Objective, in USD million: public cost (support + purchases + holding) plus, with a budget, the expected value of
supply lost and a CVaR term; with a risk target, cost alone subject to CVaR at ``risk_alpha`` of each
commodity's annual shortfall share at most the target (a slack with a large penalty reports an unreachable
target instead of failing). CVaR bounds the 95th percentile from above, so the percentile target holds in sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from oresight.plan.inputs import RARE_EARTH_ELEMENTS, PlanInputs
from oresight.plan.scenarios import Futures

__all__ = ["MILLION", "PlanModel", "build_model"]

MILLION = 1e6
#: USD million of objective per unit of CVaR above the target (an unreachable target shows as slack)
SLACK_PENALTY = 1e7


@dataclass
class PlanModel:
    model: linopy.Model
    inputs: PlanInputs
    futures: Futures
    forms: pd.DataFrame  # holder-independent stock forms: commodity, stage (magnet form: commodity "magnet")
    eligible: xr.DataArray  # [project, financier] 1 where the financier may fund the project
    stock_price: xr.DataArray  # [form] USD m per t
    fixed: bool


def _coords(inputs: PlanInputs, futures: Futures) -> dict[str, pd.Index]:
    return {
        "sample": pd.RangeIndex(futures.samples, name="sample"),
        "year": pd.Index(list(inputs.years), name="year"),
        "project": pd.Index(inputs.project_ids, name="project"),
        "member": pd.Index(list(inputs.members), name="member"),
        "financier": pd.Index(list(inputs.financiers["id"]), name="financier"),
    }


def _forms(inputs: PlanInputs) -> pd.DataFrame:
    rows = []
    for commodity, chain in inputs.chains.items():
        for k, stage in enumerate(chain.stages):
            if commodity in RARE_EARTH_ELEMENTS and stage == "magnet":
                continue  # magnets are one joint form below
            if np.isfinite(chain.price[k]) and (commodity not in RARE_EARTH_ELEMENTS or k <= 1):
                rows.append(
                    {
                        "form": f"{commodity}/{stage}",
                        "commodity": commodity,
                        "stage": stage,
                        "price": chain.price[k] / MILLION,
                    }
                )
    if set(RARE_EARTH_ELEMENTS) & set(inputs.chains) and np.isfinite(inputs.magnet_price):
        rows.append(
            {"form": "magnet", "commodity": "magnet", "stage": "magnet", "price": inputs.magnet_price / MILLION}
        )
    return pd.DataFrame(rows, columns=["form", "commodity", "stage", "price"])


def _eligibility(inputs: PlanInputs) -> xr.DataArray:
    first = inputs.projects.drop_duplicates("project").set_index("project").loc[inputs.project_ids]
    table = np.zeros((len(first), len(inputs.financiers)))
    for j, financier in enumerate(inputs.financiers.itertuples()):
        countries = financier.projects
        for i, country in enumerate(first["country"]):
            table[i, j] = 1.0 if countries == "all" or country in countries else 0.0
    return xr.DataArray(table, coords=[("project", inputs.project_ids), ("financier", list(inputs.financiers["id"]))])


def build_model(inputs: PlanInputs, futures: Futures, *, fixed_build: pd.Series | None = None, floor=None) -> PlanModel:
    """The deterministic equivalent over ``futures``. ``fixed_build`` fixes the projects (0/1 per project) with
    an equality whose duals are the projects' marginal values (the LP re-solve of a MILP). ``floor``: a plan
    result whose projects and stockpile purchases must stay in this plan."""
    spec = inputs.spec
    m = linopy.Model()
    c = _coords(inputs, futures)
    S, T = futures.samples, len(inputs.years)
    prob = 1.0 / S
    forms = _forms(inputs)
    holders = pd.Index(list(inputs.members), name="holder")
    form_index = pd.Index(list(forms["form"]), name="form")
    eligible = _eligibility(inputs)
    support = xr.DataArray(inputs.support_usd.loc[inputs.project_ids].to_numpy() / MILLION, coords=[c["project"]])

    # -- first stage ---------------------------------------------------------------------------------------------
    if fixed_build is None:
        build = m.add_variables(binary=True, coords=[c["project"]], name="build")
    else:
        build = m.add_variables(lower=0, upper=1, coords=[c["project"]], name="build")
        values = xr.DataArray(fixed_build.loc[inputs.project_ids].to_numpy(float), coords=[c["project"]])
        m.add_constraints(build == values, name="fix_build")
    fund = m.add_variables(lower=0, upper=eligible * support, name="fund")
    m.add_constraints(fund.sum("financier") - support * build == 0, name="support")
    has_forms = len(forms) > 0
    stock_financier = _stock_financiers(inputs, holders)
    if has_forms:
        buy = m.add_variables(lower=0, coords=[holders, form_index, c["year"]], name="buy")
        can_hold = xr.DataArray(stock_financier.notna().astype(float).to_numpy(), coords=[holders])
        m.add_constraints(buy * (1 - can_hold) == 0, name="holder_has_stockpile_financier")
        price = xr.DataArray(forms["price"].to_numpy(), coords=[form_index])
        holding = xr.DataArray(
            [spec.holding_cost.get(s, spec.holding_cost.get("refining", 0.0)) for s in forms["stage"]],
            coords=[form_index],
        )
        years_held = xr.DataArray(
            np.arange(T, 0, -1, dtype=float), coords=[c["year"]]
        )  # bought in year t, held to the end
        stock_cost = (buy * price * (1 + holding * years_held)).sum(["form", "year"])
    else:
        buy, price, stock_cost = None, xr.DataArray([], dims="form"), 0
    if floor is not None:
        _keep(m, build, buy, floor)
    support_cost = (support * build).sum()
    cost = support_cost + (stock_cost.sum() if has_forms else 0)

    # -- budgets -------------------------------------------------------------------------------------------------
    member_of = inputs.financiers.set_index("id")["member"]
    for member in inputs.members:
        ids = [f for f in c["financier"] if member_of[f] == member]
        spend = fund.sel(financier=ids).sum() + (stock_cost.sel(holder=member) if has_forms else 0)
        if member in spec.budgets_by_member:
            m.add_constraints(spend <= spec.budgets_by_member[member] / MILLION, name=f"budget_{member}")
    for financier, amount in spec.budgets_by_financier.items():
        if financier in c["financier"]:
            spend = fund.sel(financier=financier).sum()
            if has_forms:
                held = [h for h in holders if stock_financier.get(h) == financier]
                spend = spend + (stock_cost.sel(holder=held).sum() if held else 0)
            m.add_constraints(spend <= amount / MILLION, name=f"budget_{financier}")
    if spec.budget_usd is not None:
        m.add_constraints(cost <= spec.budget_usd / MILLION, name="budget")

    # -- second stage: every commodity's chain ----------------------------------------------------------------------
    availability = xr.DataArray(futures.availability, coords=[c["sample"], c["project"], c["year"]])
    use = m.add_variables(lower=0, coords=[c["sample"], c["project"], c["year"]], name="use")
    m.add_constraints(use - availability * build <= 0, name="project_capacity")
    losses = []
    shortfall_shares = {}
    release = None
    if has_forms:
        release = m.add_variables(lower=0, coords=[c["sample"], holders, form_index, c["year"]], name="release")
        m.add_constraints(release.cumsum("year") - buy.cumsum("year") <= 0, name="stock_non_negative")
    for commodity, chain in inputs.chains.items():
        loss, share = _chain_block(m, inputs, futures, commodity, chain, c, use, release, set(forms["form"]))
        losses.append(loss)
        shortfall_shares[commodity] = share
    expected_loss = sum(loss.sum() for loss in losses) * prob

    # -- risk ----------------------------------------------------------------------------------------------------
    alpha = spec.risk_alpha
    scale = 1.0 / ((1 - alpha) * S * T)
    if spec.budget_usd is not None or spec.risk_target is None:
        eta = m.add_variables(name="var_loss")
        xi = m.add_variables(lower=0, coords=[c["sample"], c["year"]], name="excess_loss")
        m.add_constraints(xi - sum(losses) + eta >= 0, name="cvar_loss")
        m.add_objective(cost + expected_loss + spec.cvar_weight * (eta + scale * xi.sum()))
    else:
        commodity_index = pd.Index(list(shortfall_shares), name="commodity")
        eta = m.add_variables(coords=[commodity_index], name="var_share")
        slack = m.add_variables(lower=0, coords=[commodity_index], name="target_slack")
        for commodity, share in shortfall_shares.items():
            xi = m.add_variables(lower=0, coords=[c["sample"], c["year"]], name=f"excess_{commodity}")
            m.add_constraints(xi - share + eta.sel(commodity=commodity) >= 0, name=f"cvar_{commodity}")
            m.add_constraints(
                eta.sel(commodity=commodity) + scale * xi.sum() - slack.sel(commodity=commodity) <= spec.risk_target,
                name=f"target_{commodity}",
            )
        m.add_objective(cost + SLACK_PENALTY * slack.sum())
    return PlanModel(m, inputs, futures, forms, eligible, price, fixed_build is not None)


def _keep(m: linopy.Model, build, buy, floor) -> None:
    """Constraints that keep a smaller plan's projects and purchases (every tranche extends the last)."""
    kept = [p for p in floor.portfolio["project"] if p in build.indexes["project"]]
    if kept:
        m.add_constraints(build.sel(project=kept) >= 1, name="keep_projects")
    if buy is None or floor.stockpiles.empty:
        return
    for row in floor.stockpiles.itertuples():
        form = "magnet" if row.commodity == "rare-earths" else f"{row.commodity}/{row.stage}"
        if form in buy.indexes["form"] and row.holder in buy.indexes["holder"]:
            name = f"keep_{row.holder}_{form.replace('/', '_')}"
            m.add_constraints(buy.sel(holder=row.holder, form=form).sum() >= row.tonnes * (1 - 1e-6), name=name)


def _stock_financiers(inputs: PlanInputs, holders: pd.Index) -> pd.Series:
    table = inputs.financiers[inputs.financiers["stockpiles"]]
    first = table.drop_duplicates("member").set_index("member")["id"]
    return pd.Series([first.get(h) for h in holders], index=holders, dtype=object)


def _chain_block(m, inputs, futures, commodity, chain, c, use, release, forms: set[str]):
    """Mass balance of one commodity's chain; returns the loss (USD m) and the shortfall share per sample-year."""
    K = len(chain.stages)
    stage_index = pd.Index(list(chain.stages), name=f"stage_{commodity}")
    dims = [c["sample"], stage_index, c["year"]]
    growth = xr.DataArray(inputs.growth[commodity], coords=[c["year"]])
    fd = xr.DataArray(chain.final_demand, coords=[stage_index]) * growth
    own_cap = xr.DataArray(chain.own, coords=[stage_index])
    intermediate = np.zeros(K)
    intermediate[:-1] = chain.coefficient[1:] * chain.own[1:]
    supplied = chain.final_demand + intermediate - chain.own
    grown = chain.final_demand[:, None] * (inputs.growth[commodity][None, :] - 1)
    scale = 1 + np.divide(grown, supplied[:, None], out=np.zeros_like(grown), where=supplied[:, None] > 0)
    import_scale = xr.DataArray(scale, coords=[stage_index, c["year"]])
    blocked = xr.DataArray(futures.blocked[commodity], coords=[c["sample"], stage_index, c["member"], c["year"]])
    china_cap = xr.DataArray(chain.china, coords=[stage_index, c["member"]]) * import_scale * (1 - blocked)
    # suppliers outside China and the alliance make their product from the stage before, of which China makes
    # its share: a restriction there cuts their output in proportion (the knock-on of April 2025 on Japan's and
    # Vietnam's magnet makers)
    upstream = np.zeros_like(futures.blocked[commodity].mean(axis=2))  # [S, K, T]
    upstream[:, 1:] = futures.blocked[commodity].mean(axis=2)[:, :-1] * chain.china_share[:-1][None, :, None]
    knock_on = xr.DataArray(1 - upstream, coords=[c["sample"], stage_index, c["year"]])
    other_cap = xr.DataArray(chain.other, coords=[stage_index]) * import_scale * knock_on

    own = m.add_variables(lower=0, coords=dims, name=f"own_{commodity}")
    m.add_constraints(own - own_cap <= 0, name=f"own_capacity_{commodity}")
    china = m.add_variables(lower=0, upper=china_cap, name=f"china_{commodity}")
    other = m.add_variables(lower=0, coords=dims, name=f"other_{commodity}")
    m.add_constraints(other - other_cap <= 0, name=f"other_capacity_{commodity}")
    spill = m.add_variables(lower=0, coords=dims, name=f"spill_{commodity}")

    # projects: output at their stage; those buying feed need the stage before's product
    rows = inputs.projects[inputs.projects["commodity"] == commodity]
    out_coef = np.zeros((len(c["project"]), K))
    feed_coef = np.zeros((len(c["project"]), K))
    for row in rows.itertuples():
        k = chain.stages.index(row.stage) if row.stage in chain.stages else K - 1
        i = c["project"].get_loc(row.project)
        out_coef[i, k] += row.capacity_t
        if row.feed == "market" and k > 0:
            feed_coef[i, k - 1] += row.capacity_t
    out_coef = xr.DataArray(out_coef, coords=[c["project"], stage_index])
    feed_coef = xr.DataArray(feed_coef, coords=[c["project"], stage_index])
    project_out = (use * out_coef).sum("project")
    project_feed = (use * feed_coef).sum("project")

    # what existing plants of the next stage need from this one (the baseline's input coefficients)
    needs = [
        own.isel({stage_index.name: k + 1}, drop=True) * chain.coefficient[k + 1] if k < K - 1 else None
        for k in range(K)
    ]

    final = chain.final_stage
    sectors = pd.Index(list(chain.sector_share), name=f"sector_{commodity}")
    shares = xr.DataArray(list(chain.sector_share.values()), coords=[sectors])
    demand_final = fd.sel({stage_index.name: chain.stages[final]})
    short = m.add_variables(lower=0, coords=[c["sample"], sectors, c["year"]], name=f"short_{commodity}")
    m.add_constraints(short - shares * demand_final <= 0, name=f"short_cap_{commodity}")

    for k, stage in enumerate(chain.stages):
        sel = {stage_index.name: k}
        lhs = (
            own.isel(sel, drop=True)
            + china.isel(sel, drop=True).sum("member")
            + other.isel(sel, drop=True)
            + project_out.isel(sel, drop=True)
            - spill.isel(sel, drop=True)
            - project_feed.isel(sel, drop=True)
        )
        form = f"{commodity}/{stage}"
        if release is not None and form in forms:
            lhs = lhs + release.sel(form=form).sum("holder")
        if release is not None and "magnet" in forms and commodity in RARE_EARTH_ELEMENTS and stage == "magnet":
            lhs = lhs + inputs.magnet_content[commodity] * release.sel(form="magnet").sum("holder")
        if needs[k] is not None:
            lhs = lhs - needs[k]
        rhs = fd.isel(sel, drop=True)
        if k == final:
            lhs = lhs + short.sum(sectors.name)
        m.add_constraints(lhs == rhs, name=f"balance_{commodity}_{stage}")
    price = chain.price[final] if np.isfinite(chain.price[final]) else np.nanmax(np.r_[chain.price, 1.0])
    voll = xr.DataArray([inputs.spec.voll_multiple.get(s, 1.0) * price / MILLION for s in sectors], coords=[sectors])
    loss = (short * voll).sum(sectors.name)
    share = short.sum(sectors.name) / demand_final
    return loss, share
