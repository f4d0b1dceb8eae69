"""What a solved plan says: the portfolio, price floors, stockpiles, capacity and stocks by year, cost by member
and financier, and shortfall risk (expected and 95th percentile of annual shortfall, for the alliance and for
each member) — as tables and as the JSON the command line, the web app and the brief share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oresight.plan.inputs import RARE_EARTH_ELEMENTS, PlanInputs
from oresight.plan.model import MAGNET, MILLION, PlanModel

__all__ = ["PlanResult", "annual_shortfall", "calc_risk", "extract"]

#: tonnes (or USD) below which a solution value is solver noise
NOISE = 1e-6


def calc_risk(annual: np.ndarray) -> dict[str, float]:
    """Expected and 95th-percentile annual shortfall over every sampled year.

    >>> calc_risk(np.array([[0.0, 10.0], [0.0, 0.0]]))
    {'expected_shortfall_t': 2.5, 'p95_shortfall_t': 8.5}
    """
    flat = np.asarray(annual, dtype=float).ravel()
    return {"expected_shortfall_t": float(flat.mean()), "p95_shortfall_t": float(np.quantile(flat, 0.95))}


def annual_shortfall(plan_model: PlanModel) -> dict[str, np.ndarray]:
    """[sample, member, year] shortfall at each commodity's final stage in the chain's basis, and for rare earths
    as magnets (``rare-earths``): the element that runs shortest decides how many tonnes cannot be made."""
    short = plan_model.model.solution["short"].fillna(0).sum("sector")
    nodes = plan_model.nodes
    out = {}
    for node in nodes["node"].where(nodes["final"], drop=True).values:
        commodity = str(nodes["commodity"].sel(node=node).item())
        out[commodity] = short.sel(node=node).transpose("sample", "member", "year").values
    elements = [e for e in RARE_EARTH_ELEMENTS if e in out]
    if elements:
        content = plan_model.inputs.magnet_content
        out["rare-earths"] = np.max([out[e] / content[e] for e in elements], axis=0)
    return out


@dataclass
class PlanResult:
    inputs: PlanInputs
    portfolio: pd.DataFrame
    floors: pd.DataFrame
    stockpiles: pd.DataFrame
    capacity_by_year: pd.DataFrame
    stocks_by_year: pd.DataFrame
    cost_usd: float
    objective_usd: float
    cost_by_member: dict[str, float]
    cost_by_financier: dict[str, float]
    risk_in_sample: dict[str, dict[str, float]]
    risk_by_member: dict[str, dict[str, dict[str, float]]]
    no_plan_in_sample: dict[str, dict[str, float]]
    risk_out_of_sample: dict[str, dict[str, float]] = field(default_factory=dict)
    no_plan_out_of_sample: dict[str, dict[str, float]] = field(default_factory=dict)
    target_slack: dict[str, dict[str, float]] = field(default_factory=dict)
    frontier: pd.DataFrame | None = None
    #: the members' plans made alone and what planning together saves (``plan(..., separate=True)``)
    comparison: dict | None = None
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The plan as JSON-ready data (keys as in issue 11; missing values are None, never 0)."""
        from oresight.cli.render import records

        spec = self.inputs.spec
        return {
            "members": list(self.inputs.members),
            "partners": [p for p in self.inputs.network if p not in self.inputs.members],
            "years": [self.inputs.years[0], self.inputs.years[-1]],
            "mode": "budget" if spec.budget_usd is not None else "risk_target",
            "budget_usd": spec.budget_usd,
            "risk_target": None if spec.budget_usd is not None else spec.risk_target,
            "cost_usd": self.cost_usd,
            "cost_by_member": self.cost_by_member,
            "cost_by_financier": self.cost_by_financier,
            "projects": records(self.portfolio),
            "price_floors": records(self.floors),
            "stockpiles": records(self.stockpiles),
            "capacity_by_year": records(self.capacity_by_year),
            "stocks_by_year": records(self.stocks_by_year),
            "risk": {
                "basis": {c: ch.basis for c, ch in self.inputs.chains.items()} | {"rare-earths": "t magnets"},
                "measure": "annual shortfall of the members together: mean and 95th percentile over sampled years",
                "in_sample": _by_key(self.risk_in_sample),
                "out_of_sample": _by_key(self.risk_out_of_sample),
                "no_plan": {
                    "in_sample": _by_key(self.no_plan_in_sample),
                    "out_of_sample": _by_key(self.no_plan_out_of_sample),
                },
                "by_member": {"in_sample": {m: _by_key(r) for m, r in self.risk_by_member.items()}},
            },
            "target_slack": self.target_slack,
            "frontier": records(self.frontier) if self.frontier is not None else None,
            "joint_vs_separate": self.comparison,
            "notes": self.inputs.notes,
            "sources": self.inputs.sources,
            "metadata": self.metadata,
        }


def _by_key(risk: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{"expected_shortfall_t": {commodity: t}, "p95_shortfall_t": {...}}``: tonnes of different commodities
    are never added, so each key maps commodities to their own tonnes."""
    return {
        key: {commodity: values[key] for commodity, values in risk.items()}
        for key in ("expected_shortfall_t", "p95_shortfall_t")
    }


def extract(plan_model: PlanModel, marginal: pd.Series | None = None) -> dict:
    """Portfolio, floors, stockpiles, costs and in-sample risk of a solved model (the parts of a
    :class:`PlanResult`)."""
    inputs, solution = plan_model.inputs, plan_model.model.solution
    built = solution["build"].to_series().round().astype(int)
    chosen = built[built > 0].index.tolist()
    fund = solution["fund"].to_series() * MILLION
    floors = _floors(plan_model)
    stockpiles, stocks_by_year = _stockpiles(plan_model)
    spent = fund.groupby(level="financier").sum()
    if "floor_fund" in solution:
        spent = spent.add((solution["floor_fund"].to_series() * MILLION).groupby(level="financier").sum(), fill_value=0)
    stock_financier = inputs.financiers[inputs.financiers["stockpiles"]].drop_duplicates("member")
    for row in stockpiles.itertuples():
        payer = stock_financier.loc[stock_financier["member"] == row.holder, "id"].iat[0]
        spent[payer] = spent.get(payer, 0.0) + row.cost_usd
    member_of = inputs.financiers.set_index("id")["member"]
    cost_by_member = {m: 0.0 for m in inputs.members}
    for financier, amount in spent.items():
        cost_by_member[member_of[financier]] += float(amount)
    annual = annual_shortfall(plan_model)
    slack = solution["target_slack"].to_series().dropna() if "target_slack" in solution else pd.Series(dtype=float)
    objective = float(plan_model.model.objective.value) * MILLION
    return {
        "portfolio": _portfolio(plan_model, chosen, fund, marginal),
        "floors": floors,
        "stockpiles": stockpiles,
        "capacity_by_year": _capacity_by_year(plan_model, chosen),
        "stocks_by_year": stocks_by_year,
        "cost_usd": float(sum(cost_by_member.values())),
        "objective_usd": objective,
        "cost_by_member": cost_by_member,
        "cost_by_financier": {str(f): float(v) for f, v in spent.items() if v > 1.0},
        "risk_in_sample": {c: calc_risk(v.sum(axis=1)) for c, v in annual.items()},
        "risk_by_member": {m: {c: calc_risk(v[:, i]) for c, v in annual.items()} for i, m in enumerate(inputs.members)},
        "target_slack": {
            str(m): {str(c): float(v) for (mm, c), v in slack.items() if mm == m and v > NOISE} for m in inputs.members
        },
    }


def _portfolio(plan_model: PlanModel, chosen: list[str], fund: pd.Series, marginal: pd.Series | None) -> pd.DataFrame:
    inputs, solution = plan_model.inputs, plan_model.model.solution
    first = inputs.projects.drop_duplicates("project").set_index("project")
    lead = inputs.projects.sort_values("capacity_t", ascending=False).drop_duplicates("project").set_index("project")
    use = solution["use"].sum(["sample", "year"]).to_pandas()  # [project, member]
    rows = []
    for project in chosen:
        row = first.loc[project]
        financing = fund.xs(project, level="project")
        delivered = use.loc[project]
        rows.append(
            {
                "name": row["name"],
                "project": project,
                "country": row["country"],
                "stage": row["stage"],
                "commodity": lead.at[project, "commodity"],
                "commodities": ", ".join(inputs.projects.loc[inputs.projects["project"] == project, "commodity"]),
                "capacity_t": float(lead.at[project, "capacity_t"]),
                "basis": lead.at[project, "basis"],
                "start_year": int(max(row["start_year"], inputs.years[0])),
                "support_usd": float(inputs.support_usd[project]),
                "capex_imputed": bool(inputs.capex_imputed[project]),
                "financed_by": {f: float(v) for f, v in financing.items() if v > 1.0},
                "delivered_to": _shares(delivered),
                "marginal_value_usd": float(marginal[project]) if marginal is not None else None,
                "status": row["status"],
                "source": row["source"],
            }
        )
    return pd.DataFrame(rows, columns=PORTFOLIO_COLUMNS)


def _shares(amounts: pd.Series) -> dict[str, float]:
    """Each member's share of what a project delivered or a stock released over all futures."""
    total = float(amounts.sum())
    return {str(m): round(float(v) / total, 4) for m, v in amounts.items() if total > 0 and v > NOISE}


def _floors(plan_model: PlanModel) -> pd.DataFrame:
    """Price floors offered: the share of the project's output covered and the expected payout."""
    solution = plan_model.model.solution
    if "floor" not in solution:
        return pd.DataFrame(columns=FLOOR_COLUMNS)
    shares = solution["floor"].to_series().dropna()
    funded = solution["floor_fund"].to_series() * MILLION
    rows = []
    for project, share in shares[shares > NOISE].items():
        terms = plan_model.floors.loc[project]
        rows.append(
            {
                "project": project,
                "commodity": terms["commodity"],
                "share": float(share),
                "floor_usd_per_kg": float(terms["usd_per_t"]) / 1000.0,
                "years": int(terms["years"]),
                "expected_payout_usd": float(share * terms["payout_usd"]),
                "paid_by": {f: float(v) for f, v in funded.xs(project, level="project").items() if v > 1.0},
            }
        )
    return pd.DataFrame(rows, columns=FLOOR_COLUMNS)


def _stockpiles(plan_model: PlanModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchases by holder and form (tonnes, cost with holding to the horizon, first year) and stocks by year."""
    inputs, solution = plan_model.inputs, plan_model.model.solution
    if "buy" not in solution:
        return pd.DataFrame(columns=STOCKPILE_COLUMNS), pd.DataFrame(columns=["holder", "form", "year", "tonnes"])
    buy = solution["buy"].transpose("holder", "form", "year")
    forms = plan_model.forms.set_index("form")
    held = np.arange(len(inputs.years), 0, -1, dtype=float)
    unit_cost = (forms["price"].to_numpy()[:, None] * (1 + forms["holding"].to_numpy()[:, None] * held)) * MILLION
    tonnes = buy.sum("year").to_pandas()  # [holder, form]
    cost = (buy.values * unit_cost[None]).sum(axis=2)
    released = solution["release"].sum(["sample", "year"]).to_pandas()  # [member, form]: the pool's use
    rows = []
    for h, holder in enumerate(tonnes.index):
        for f, form in enumerate(tonnes.columns):
            if tonnes.iat[h, f] < NOISE:
                continue
            commodity = forms.at[form, "commodity"]
            bought = buy.values[h, f]
            rows.append(
                {
                    "holder": holder,
                    "commodity": "rare-earths" if commodity == MAGNET else commodity,
                    "stage": forms.at[form, "stage"],
                    "tonnes": float(tonnes.iat[h, f]),
                    "basis": "t NdFeB magnets" if commodity == MAGNET else inputs.chains[commodity].basis,
                    "cost_usd": float(cost[h, f]),
                    "first_year": int(inputs.years[int(np.flatnonzero(bought > NOISE)[0])]),
                    "released_to": _shares(released[form]),
                }
            )
    levels = buy.cumsum("year").to_dataframe("tonnes").reset_index()
    levels = levels[levels.groupby(["holder", "form"])["tonnes"].transform("max") > NOISE]
    return pd.DataFrame(rows, columns=STOCKPILE_COLUMNS), levels[["holder", "form", "year", "tonnes"]]


PORTFOLIO_COLUMNS = [
    "name",
    "project",
    "country",
    "stage",
    "commodity",
    "commodities",
    "capacity_t",
    "basis",
    "start_year",
    "support_usd",
    "capex_imputed",
    "financed_by",
    "delivered_to",
    "marginal_value_usd",
    "status",
    "source",
]
STOCKPILE_COLUMNS = ["holder", "commodity", "stage", "tonnes", "basis", "cost_usd", "first_year", "released_to"]
FLOOR_COLUMNS = ["project", "commodity", "share", "floor_usd_per_kg", "years", "expected_payout_usd", "paid_by"]


def _capacity_by_year(plan_model: PlanModel, chosen: list[str]) -> pd.DataFrame:
    """Expected new capacity by commodity and year (nameplate × expected availability over the futures)."""
    inputs = plan_model.inputs
    availability = pd.DataFrame(
        plan_model.futures.availability.mean(axis=0), index=inputs.project_ids, columns=list(inputs.years)
    )
    rows = inputs.projects[inputs.projects["project"].isin(chosen)]
    if rows.empty:
        return pd.DataFrame(columns=["commodity", "year", "capacity_t"])
    expected = availability.loc[rows["project"]].to_numpy() * rows["capacity_t"].to_numpy()[:, None]
    frame = pd.DataFrame(expected, columns=list(inputs.years)).assign(commodity=rows["commodity"].to_numpy())
    long = frame.melt(id_vars="commodity", var_name="year", value_name="capacity_t")
    return long.groupby(["commodity", "year"], as_index=False)["capacity_t"].sum()
