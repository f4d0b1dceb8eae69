"""The planning model: a two-stage stochastic mixed-integer program in linopy, built from labelled arrays.

First stage (shared by every sampled future): ``build[project]`` (binary: support the project from its earliest
start), ``fund[project, financier]`` (who pays its support), ``floor[project]`` (share of the project's output
under a price floor, a contract for difference), ``floor_fund[project, financier]`` (who pays its expected
payout), ``buy[holder, form, year]`` (stockpile purchases by each member: oxide or metal of an element, whole
magnets, Ga/Ge/Sb/graphite; each year at most ``purchase_share`` of the world's output of the form outside
China, :func:`purchase_limits`). Second stage (per future ``sample``), on every member's own sub-network of every
planned commodity's chain (``node`` = commodity/stage): what the member's plants, China, other suppliers and
the supported projects deliver to it, what holders release to it, what is left over, and its shortfall per
end-use sector, under a mass balance at every node, member and year.

The chains of all commodities share one ``node`` axis, so every block of the program is one linopy expression
over labelled arrays (no loop over commodities, stages, members or years).

Objective, in USD million: public cost (support + floor payouts + purchases + holding) plus, with a budget, the
expected value of supply lost and a CVaR term; with a risk target, cost alone subject to CVaR at ``risk_alpha``
of each member's annual shortfall share of each commodity at most the target (a slack with a large penalty
reports an unreachable target instead of failing). CVaR bounds the 95th percentile from above, so the
percentile target holds in sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from oresight.plan.inputs import RARE_EARTH_ELEMENTS, PlanInputs
from oresight.plan.scenarios import Futures, project_floors

__all__ = [
    "MILLION",
    "SLACK_PENALTY",
    "PlanModel",
    "build_model",
    "calc_floor_payout",
    "node_data",
    "purchase_limits",
]

MILLION = 1e6
#: USD million of objective per unit of CVaR above the target (an unreachable target shows as slack)
SLACK_PENALTY = 1e5
MAGNET = "magnet"


@dataclass
class PlanModel:
    model: linopy.Model
    inputs: PlanInputs
    futures: Futures
    nodes: xr.Dataset  # the chains on one node axis (see node_data)
    forms: pd.DataFrame  # stock forms: form, commodity, stage, price (USD m per t), outside_output_t (t a year made
    #                      outside China), holding (share a year)
    eligible: xr.DataArray  # [project, financier] 1 where the financier may fund the project
    floors: pd.DataFrame  # project -> floor terms (scenarios.project_floors) with payout_usd per unit of floor
    fixed: bool
    #: after solving: the solver's proven lower bound on the objective (USD m) and the relative gap reached
    dual_bound: float = float("nan")
    gap: float = float("nan")


# -- data on labelled axes ------------------------------------------------------------------------------------
def node_data(inputs: PlanInputs, futures: Futures) -> xr.Dataset:
    """Every planned chain on one ``node`` axis (``commodity/stage``), with members, sectors and years:
    demand, capacities by origin (China's and other suppliers' per future), input coefficients, sector shares
    and the value of lost supply.

    >>> import oresight
    >>> from oresight.plan.spec import load_plan_spec
    >>> from oresight.plan.inputs import gather_inputs
    >>> from oresight.plan.scenarios import draw_futures
    >>> spec = load_plan_spec("default", ["members=[USA, JPN]", "until=2027", "samples=2", "commodities=[terbium]"])
    >>> inputs = gather_inputs(oresight.load(), spec)
    >>> data = node_data(inputs, draw_futures(inputs, 2, 1))
    >>> list(data["node"].values), dict(data["demand"].sizes)
    (['terbium/refining', 'terbium/metal', 'terbium/magnet'], {'node': 3, 'member': 2, 'year': 2})
    """
    members = list(inputs.members)
    rows = [(c, k, s) for c, chain in inputs.chains.items() for k, s in enumerate(chain.stages)]
    names = [f"{c}/{s}" for c, _, s in rows]
    sectors = list(dict.fromkeys(s for chain in inputs.chains.values() for s in chain.sectors))
    years = list(inputs.years)

    def stack(pick) -> np.ndarray:
        return np.stack([pick(inputs.chains[c], k) for c, k, _ in rows])

    growth = stack(lambda ch, k: inputs.growth[ch.commodity])  # [N, T]
    fd = stack(lambda ch, k: ch.final_demand[k])  # [N, M]
    own = stack(lambda ch, k: ch.own[k])
    china = stack(lambda ch, k: ch.china[k])
    other = stack(lambda ch, k: ch.other[k])
    relayed = stack(lambda ch, k: ch.relayed_china[k])
    coefficient = stack(lambda ch, k: ch.coefficient[k])
    coef_next = np.array(
        [inputs.chains[c].coefficient[k + 1] if k + 1 < len(inputs.chains[c].stages) else 0.0 for c, k, _ in rows]
    )
    china_share_before = np.array([inputs.chains[c].china_share[k - 1] if k > 0 else 0.0 for c, k, _ in rows])
    final = np.array([k == inputs.chains[c].final_stage for c, k, _ in rows])
    share = np.zeros((len(rows), len(members), len(sectors)))
    for n, (c, k, _) in enumerate(rows):
        chain = inputs.chains[c]
        for e, sector in enumerate(chain.sectors):
            share[n, :, sectors.index(sector)] = chain.sector_share[k, :, e]
    # imports grow to meet the demand growth; the members' own plants do not
    need = np.zeros_like(fd)
    need[:-1] = coef_next[:-1, None] * own[1:]
    supplied = fd + need - own
    grown = fd[:, :, None] * (growth[:, None, :] - 1)
    scale = 1 + np.divide(grown, supplied[:, :, None], out=np.zeros_like(grown), where=supplied[:, :, None] > 0)
    blocked = np.concatenate([futures.blocked[c][:, [k]] for c, k, _ in rows], axis=1)  # [S, N, M, T]
    world = np.concatenate([futures.blocked_world[c][:, [k]] for c, k, _ in rows], axis=1)  # [S, N, T]
    # suppliers outside China and the alliance make their product from the stage before, of which China makes
    # its share: a restriction on everyone there cuts their output in proportion (the knock-on of April 2025
    # on Japan's and Vietnam's magnet makers)
    upstream = np.zeros_like(world)
    first = np.array([k == 0 for _, k, _ in rows])
    upstream[:, ~first] = world[:, np.flatnonzero(~first) - 1] * china_share_before[None, ~first, None]
    price = np.array([inputs.chains[c].price[inputs.chains[c].final_stage] for c, _, _ in rows])
    fallback = np.array([np.nanmax(np.r_[inputs.chains[c].price, 1.0]) for c, _, _ in rows])
    price = np.where(np.isfinite(price), price, fallback)
    voll = np.array([[inputs.spec.voll_multiple.get(s, 1.0) for s in sectors]]) * price[:, None] / MILLION
    dims = {"node": names, "member": members, "sector": sectors, "year": years, "sample": range(futures.samples)}
    return xr.Dataset(
        {
            "commodity": ("node", [c for c, _, _ in rows]),
            "stage": ("node", [s for _, _, s in rows]),
            "final": ("node", final),
            "demand": (("node", "member", "year"), fd[:, :, None] * growth[:, None, :]),
            "own_capacity": (("node", "member"), own),
            "china_capacity": (
                ("sample", "node", "member", "year"),
                (china[:, :, None] * scale)[None] * (1 - blocked),
            ),
            "other_capacity": (
                ("sample", "node", "member", "year"),
                (other[:, :, None] * scale)[None] * (1 - upstream)[:, :, None, :]
                # hubs ship on China's material as long as China sells it to them (a restriction on everyone)
                + (relayed[:, :, None] * scale)[None] * (1 - world)[:, :, None, :],
            ),
            "coefficient": ("node", coefficient),
            "coef_next": ("node", coef_next),
            "sector_share": (("node", "member", "sector"), np.where(final[:, None, None], share, 0.0)),
            "voll": (("node", "sector"), voll),
        },
        coords={k: pd.Index(list(v), name=k) for k, v in dims.items()},
    )


def _forms(inputs: PlanInputs) -> pd.DataFrame:
    """What can be stockpiled: each element's oxide and metal, whole magnets, the other commodities' stages —
    wherever a price outside China is attested."""
    spec = inputs.spec
    rows = []
    for commodity, chain in inputs.chains.items():
        for k, stage in enumerate(chain.stages):
            element = commodity in RARE_EARTH_ELEMENTS
            if np.isfinite(chain.price[k]) and not (element and stage == MAGNET):
                rows.append((f"{commodity}/{stage}", commodity, stage, chain.price[k], chain.outside_output[k]))
    if set(RARE_EARTH_ELEMENTS) & set(inputs.chains) and np.isfinite(inputs.magnet_price):
        rows.append((MAGNET, MAGNET, MAGNET, inputs.magnet_price, inputs.magnet_outside_output))
    table = pd.DataFrame(rows, columns=["form", "commodity", "stage", "price", "outside_output_t"])
    # a form whose output outside China no source gives has no market a holder could buy from
    table = table[np.isfinite(table["outside_output_t"])].reset_index(drop=True)
    table["price"] = table["price"] / MILLION
    table["holding"] = [spec.holding_cost.get(s, spec.holding_cost.get("refining", 0.0)) for s in table["stage"]]
    return table


def _content(inputs: PlanInputs, forms: pd.DataFrame, nodes: pd.Index) -> xr.DataArray:
    """[form, node] t of the node's product one tonne of a stock form gives (a magnet gives every element)."""
    table = np.zeros((len(forms), len(nodes)))
    for i, form in enumerate(forms.itertuples()):
        if form.form == MAGNET:
            for element, content in inputs.magnet_content.items():
                if f"{element}/{MAGNET}" in nodes:
                    table[i, nodes.get_loc(f"{element}/{MAGNET}")] = content
        else:
            table[i, nodes.get_loc(form.form)] = 1.0
    return xr.DataArray(table, coords=[pd.Index(forms["form"], name="form"), nodes])


def _project_coefficients(inputs: PlanInputs, nodes: pd.Index) -> tuple[xr.DataArray, xr.DataArray]:
    """[project, node] t of output at full use, and t of feed bought from the stage before (market feed)."""
    projects = pd.Index(inputs.project_ids, name="project")
    table = inputs.projects[inputs.projects["commodity"].isin(list(inputs.chains))]
    out = np.zeros((len(projects), len(nodes)))
    feed = np.zeros_like(out)
    for row in table.itertuples():
        chain = inputs.chains[row.commodity]
        k = chain.stages.index(row.stage) if row.stage in chain.stages else len(chain.stages) - 1
        i, n = projects.get_loc(row.project), nodes.get_loc(f"{row.commodity}/{chain.stages[k]}")
        out[i, n] += row.capacity_t
        if row.feed == "market" and k > 0:
            feed[i, n - 1] += row.capacity_t
    return xr.DataArray(out, coords=[projects, nodes]), xr.DataArray(feed, coords=[projects, nodes])


def _eligibility(inputs: PlanInputs, column: str | None = None) -> xr.DataArray:
    """[project, financier] 1 where the financier may fund the project (by project country; ``column``: and by
    kind, e.g. ``floors``); projects the plan excludes have no financier."""
    first = inputs.projects.drop_duplicates("project").set_index("project").loc[inputs.project_ids]
    financiers = inputs.financiers
    allowed = np.array(
        [[f.projects == "all" or where in f.projects for f in financiers.itertuples()] for where in first["country"]]
    ).reshape(len(first), len(financiers))
    if column is not None:
        allowed &= financiers[column].to_numpy(bool)[None, :]
    allowed &= ~first.index.isin(inputs.spec.exclude_projects)[:, None]
    return xr.DataArray(
        allowed.astype(float),
        coords=[pd.Index(inputs.project_ids, name="project"), pd.Index(list(financiers["id"]), name="financier")],
    )


def calc_floor_payout(floor: float, prices: np.ndarray, output: np.ndarray) -> float:
    """Expected payout of a contract for difference: the mean over futures of the sum over years of
    ``(floor - price)+ x output`` (prices [S, T] per t, output [S, T] t; zero outside the contract's term).

    >>> calc_floor_payout(110.0, np.array([[100.0, 120.0], [90.0, 110.0]]), np.array([[1.0, 1.0], [2.0, 0.0]]))
    25.0
    """
    return float((np.maximum(floor - prices, 0.0) * output).sum(axis=1).mean())


def _floor_payouts(inputs: PlanInputs, futures: Futures) -> pd.DataFrame:
    """Expected payout (USD) of a floor on a project's whole output, the output being nameplate x availability
    (with the floor) in each year of the floor's term from the project's start in that future."""
    floors = project_floors(inputs)
    if floors.empty:
        return floors.assign(payout_usd=pd.Series(dtype=float))
    years = np.array(inputs.years)
    payouts = []
    for project, floor in floors.iterrows():
        i = inputs.project_ids.index(project)
        start = futures.start[:, [i]]
        in_term = (years[None, :] >= start) & (years[None, :] < start + floor["years"])
        output = floor["capacity_t"] * futures.availability_floor[:, i, :] * in_term
        payouts.append(calc_floor_payout(floor["usd_per_t"], futures.price[floor["commodity"]], output))
    return floors.assign(payout_usd=payouts)


# -- the program ----------------------------------------------------------------------------------------------
def build_model(inputs: PlanInputs, futures: Futures, *, fixed_build: pd.Series | None = None, keep=None) -> PlanModel:
    """The deterministic equivalent over ``futures``. ``fixed_build`` fixes the projects (0/1 per project) with
    an equality whose duals are the projects' marginal values (the LP re-solve of a MILP). ``keep``: a plan
    result whose projects, price floors and stockpile purchases must stay in this plan."""
    m = linopy.Model()
    data = node_data(inputs, futures)
    forms = _forms(inputs)
    floors = _floor_payouts(inputs, futures)
    eligible = _eligibility(inputs)
    c = {name: data.indexes[name] for name in ("node", "member", "sector", "year", "sample")}
    c["project"] = pd.Index(inputs.project_ids, name="project")
    c["financier"] = eligible.indexes["financier"]
    c["form"] = pd.Index(list(forms["form"]), name="form")
    holders = _holders(inputs)
    c["holder"] = pd.Index(list(holders.index), name="holder")

    cost, spend = _first_stage(m, inputs, c, eligible, forms, floors, holders, fixed_build)
    if keep is not None:
        _keep(m, keep)
    _budgets(m, inputs, spend, cost)
    short = _second_stage(m, inputs, futures, data, c, forms)
    _objective(m, inputs, data, c, short, cost)
    return PlanModel(m, inputs, futures, data, forms, eligible, floors, fixed_build is not None)


def _holders(inputs: PlanInputs) -> pd.Series:
    """Members that can hold stocks, with the financier that pays for them."""
    table = inputs.financiers[inputs.financiers["stockpiles"]].drop_duplicates("member")
    return table.set_index("member")["id"].rename_axis("holder")


def _first_stage(m, inputs, c, eligible, forms, floors, holders, fixed_build):
    """Projects, their financing, price floors and stock purchases; returns the total cost and each
    financier's and holder's spending (USD m)."""
    support = xr.DataArray(inputs.support_usd.loc[inputs.project_ids].to_numpy() / MILLION, coords=[c["project"]])
    if fixed_build is None:
        build = m.add_variables(binary=True, coords=[c["project"]], name="build")
    else:
        build = m.add_variables(lower=0, upper=1, coords=[c["project"]], name="build")
        values = xr.DataArray(fixed_build.loc[inputs.project_ids].to_numpy(float), coords=[c["project"]])
        m.add_constraints(build == values, name="fix_build")
    fundable = eligible.max("financier")
    m.add_constraints(build <= fundable, name="has_a_financier")
    fund = m.add_variables(lower=0, upper=eligible * support, name="fund")
    m.add_constraints(fund.sum("financier") - support * build == 0, name="support")
    cost = (support * build).sum()
    spend = fund.sum("project")

    payout_usd = floors["payout_usd"].reindex(inputs.project_ids).fillna(0.0).to_numpy()
    payout = xr.DataArray(payout_usd / MILLION, coords=[c["project"]])
    floor_eligible = _eligibility(inputs, "floors") * xr.DataArray(
        c["project"].isin(floors.index).astype(float), coords=[c["project"]]
    )
    has_floor = floor_eligible.max("financier") > 0
    if bool(has_floor.any()):
        share = m.add_variables(lower=0, upper=1, coords=[c["project"]], name="floor", mask=has_floor)
        m.add_constraints(share.fillna(0) - build <= 0, name="floor_needs_project", mask=has_floor)
        floor_fund = m.add_variables(lower=0, upper=floor_eligible * payout, name="floor_fund")
        m.add_constraints(floor_fund.sum("financier") - payout * share.fillna(0) == 0, name="floor_payout")
        cost = cost + (payout * share.fillna(0)).sum()
        spend = spend + floor_fund.sum("project")

    if len(forms) and len(holders):
        buy = m.add_variables(lower=0, upper=purchase_limits(inputs, forms, c), name="buy")
        price = xr.DataArray(forms["price"].to_numpy(), coords=[c["form"]])
        holding = xr.DataArray(forms["holding"].to_numpy(), coords=[c["form"]])
        held = xr.DataArray(np.arange(len(c["year"]), 0, -1, dtype=float), coords=[c["year"]])  # to the end
        stock_cost = (buy * price * (1 + holding * held)).sum(["form", "year"])  # [holder]
        cost = cost + stock_cost.sum()
        pays = xr.DataArray(
            (holders.to_numpy()[:, None] == c["financier"].to_numpy()[None, :]).astype(float),
            coords=[c["holder"], c["financier"]],
        )
        spend = spend + (stock_cost * pays).sum("holder")
    return cost, spend


def purchase_limits(inputs: PlanInputs, forms: pd.DataFrame, c: dict) -> xr.DataArray:
    """[holder, form, year] t a holder may buy of a stock form in a year: ``purchase_share`` of the world's
    base-year output of it outside China (the restricting exporter of every planned disruption)."""
    yearly = xr.DataArray(forms["outside_output_t"].to_numpy() * inputs.spec.purchase_share, coords=[c["form"]])
    return yearly.expand_dims(holder=c["holder"], year=c["year"]).transpose("holder", "form", "year")


def _keep(m: linopy.Model, smaller) -> None:
    """Constraints that keep a smaller plan's projects, floors and purchases (every tranche extends the last)."""
    build = m.variables["build"]
    kept = [p for p in smaller.portfolio["project"] if p in build.indexes["project"]]
    if kept:
        m.add_constraints(build.sel(project=kept) >= 1, name="keep_projects")
    if "floor" in m.variables and not smaller.floors.empty:
        shares = smaller.floors.set_index("project")["share"]
        present = m.variables["floor"].indexes["project"]
        minimum = xr.DataArray(shares.reindex(present).fillna(0.0).to_numpy() * (1 - 1e-6), coords=[present])
        m.add_constraints(m.variables["floor"] >= minimum, name="keep_floors", mask=minimum > 0)
    if "buy" not in m.variables or smaller.stockpiles.empty:
        return
    buy = m.variables["buy"]
    bought = xr.zeros_like(buy.lower.isel(year=0, drop=True))
    for row in smaller.stockpiles.itertuples():
        form = MAGNET if row.commodity == "rare-earths" else f"{row.commodity}/{row.stage}"
        if form in buy.indexes["form"] and row.holder in buy.indexes["holder"]:
            bought.loc[{"holder": row.holder, "form": form}] = row.tonnes * (1 - 1e-6)
    m.add_constraints(buy.sum("year") >= bought, name="keep_stocks", mask=bought > 0)


def _budgets(m: linopy.Model, inputs: PlanInputs, spend, cost) -> None:
    """Budgets of the whole plan, of each member (its financiers) and of each financier."""
    spec = inputs.spec
    member_of = inputs.financiers.set_index("id")["member"]
    financiers = spend.indexes["financier"]
    if spec.budgets_by_member:
        members = pd.Index([m_ for m_ in spec.budgets_by_member if m_ in inputs.members], name="member")
        belongs = xr.DataArray(
            (member_of.loc[financiers].to_numpy()[None, :] == members.to_numpy()[:, None]).astype(float),
            coords=[members, financiers],
        )
        limit = xr.DataArray([spec.budgets_by_member[x] / MILLION for x in members], coords=[members])
        m.add_constraints((spend * belongs).sum("financier") <= limit, name="budget_member")
    if spec.budgets_by_financier:
        limited = pd.Index([f for f in spec.budgets_by_financier if f in financiers], name="financier")
        limit = xr.DataArray([spec.budgets_by_financier[f] / MILLION for f in limited], coords=[limited])
        m.add_constraints(spend.sel(financier=limited) <= limit, name="budget_financier")
    if spec.budget_usd is not None:
        m.add_constraints(cost <= spec.budget_usd / MILLION, name="budget")


def _second_stage(m, inputs: PlanInputs, futures: Futures, data: xr.Dataset, c: dict, forms: pd.DataFrame):
    """Every member's sub-network in every future: its plants, imports (China's and other suppliers' cost the
    same, so one variable bounded by both capacities), project deliveries, stock releases and shortfall under one
    mass balance [sample, node, member, year] (supply may exceed use: the rest is left over). Stocks are one pool:
    what members release of a form never exceeds what the holders bought of it so far (a release from one
    holder's stock can always be found whenever the pool suffices). Returns the shortfall variable."""
    full = ("sample", "node", "member", "year")
    own_capacity = data["own_capacity"].broadcast_like(data["china_capacity"]).transpose(*full)
    own = m.add_variables(lower=0, upper=own_capacity, name="own")
    imports = m.add_variables(lower=0, upper=data["china_capacity"] + data["other_capacity"], name="imports")
    sectors = data["sector_share"]
    if not _by_sector(inputs):
        sectors = sectors.sum("sector").expand_dims(sector=["all"])
    short_cap = (sectors * data["demand"]).expand_dims(sample=c["sample"])
    short = m.add_variables(lower=0, upper=short_cap, name="short", mask=short_cap > 0)

    # projects: each future's availability shared out among the members; those buying feed need the stage before
    build = m.variables["build"]
    availability = xr.DataArray(futures.availability, coords=[c["sample"], c["project"], c["year"]])
    use = m.add_variables(lower=0, coords=[c["sample"], c["project"], c["member"], c["year"]], name="use")
    capacity = use.sum("member") - availability * build
    if "floor" in m.variables:
        lift = xr.DataArray(futures.availability_floor - futures.availability, coords=availability.coords)
        capacity = capacity - lift * m.variables["floor"].fillna(0)
    m.add_constraints(capacity <= 0, name="project_capacity")
    out, feed = _project_coefficients(inputs, c["node"])
    supply = own + imports + (use * (out - feed)).sum("project")

    if "buy" in m.variables:
        bought = m.variables["buy"].sum("holder").cumsum("year")
        release = m.add_variables(lower=0, coords=[c["sample"], c["member"], c["form"], c["year"]], name="release")
        m.add_constraints(release.sum("member").cumsum("year") - bought <= 0, name="stock_non_negative")
        supply = supply + (release * _content(inputs, forms, c["node"])).sum("form")
    # what the member's existing plants of the next stage need from this one (the baseline's coefficients)
    needs = own.shift(node=-1).fillna(0) * data["coef_next"]
    m.add_constraints(supply - needs + short.fillna(0).sum("sector") >= data["demand"], name="balance")
    return short


def _risk_targets(inputs: PlanInputs, like: xr.DataArray) -> xr.DataArray:
    """[member, commodity] the risk target: the plan's, or the one ``risk_targets`` gives a member and commodity."""
    target = xr.full_like(like, inputs.spec.risk_target, dtype=float)
    for member, by in inputs.spec.risk_targets.items():
        for commodity, value in by.items():
            if member in target.indexes["member"] and commodity in target.indexes["commodity"]:
                target.loc[{"member": member, "commodity": commodity}] = value
    return target


def _by_sector(inputs: PlanInputs) -> bool:
    """Shortfall by end-use sector is needed only where its value counts (a budget): a risk target counts tonnes."""
    return inputs.spec.budget_usd is not None or inputs.spec.risk_target is None


def _objective(m, inputs: PlanInputs, data: xr.Dataset, c: dict, short, cost) -> None:
    spec = inputs.spec
    S, T = len(c["sample"]), len(c["year"])
    scale = 1.0 / ((1 - spec.risk_alpha) * S * T)
    if spec.budget_usd is not None or spec.risk_target is None:
        loss = (short.fillna(0) * data["voll"]).sum(["node", "member", "sector"])  # [sample, year]
        eta = m.add_variables(name="var_loss")
        xi = m.add_variables(lower=0, coords=[c["sample"], c["year"]], name="excess_loss")
        m.add_constraints(xi - loss + eta >= 0, name="cvar_loss")
        m.add_objective(cost + loss.sum() / S + spec.cvar_weight * (eta + scale * xi.sum()))
        return
    # each member's annual shortfall share of each commodity's final stage
    final = data["node"].where(data["final"], drop=True).values
    commodity = pd.Index(data["commodity"].sel(node=final).values, name="commodity")
    demand = data["demand"].sel(node=final).rename(node="commodity").assign_coords(commodity=commodity)
    counted = demand.max("year") > 0
    inverse = xr.where(demand > 0, 1.0 / demand.where(demand > 0, 1.0), 0.0)
    shortfall = short.fillna(0).sum("sector").sel(node=final).rename(node="commodity")
    share = shortfall.assign_coords(commodity=commodity) * inverse
    eta = m.add_variables(coords=[c["member"], commodity], name="var_share", mask=counted)
    slack = m.add_variables(lower=0, coords=[c["member"], commodity], name="target_slack", mask=counted)
    xi = m.add_variables(lower=0, coords=[c["sample"], c["member"], commodity, c["year"]], name="excess_share")
    m.add_constraints(xi - share + eta.fillna(0) >= 0, name="cvar_share", mask=counted)
    m.add_constraints(
        eta.fillna(0) + scale * xi.sum(["sample", "year"]) - slack.fillna(0) <= _risk_targets(inputs, counted),
        name="target",
        mask=counted,
    )
    m.add_objective(cost + SLACK_PENALTY * slack.fillna(0).sum())
