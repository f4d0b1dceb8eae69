"""What a solved plan says: the portfolio, stockpiles, capacity and stocks by year, cost by member and
financier, and shortfall risk (expected and 95th percentile of annual shortfall) — as tables and as the JSON
the command line and the web app share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oresight.plan.inputs import RARE_EARTH_ELEMENTS, PlanInputs
from oresight.plan.model import MILLION, PlanModel

__all__ = ["PlanResult", "calc_risk", "extract"]


def calc_risk(annual: np.ndarray) -> dict[str, float]:
    """Expected and 95th-percentile annual shortfall over every sampled year.

    >>> calc_risk(np.array([[0.0, 10.0], [0.0, 0.0]]))
    {'expected_shortfall_t': 2.5, 'p95_shortfall_t': 8.5}
    """
    flat = np.asarray(annual, dtype=float).ravel()
    return {"expected_shortfall_t": float(flat.mean()), "p95_shortfall_t": float(np.quantile(flat, 0.95))}


def annual_shortfall(plan_model: PlanModel) -> dict[str, np.ndarray]:
    """[sample, year] shortfall per commodity in the chain's basis, and for rare earths as magnets: the element
    that runs shortest decides how many tonnes of magnets cannot be made."""
    solution = plan_model.model.solution
    out = {}
    for commodity in plan_model.inputs.chains:
        out[commodity] = solution[f"short_{commodity}"].sum(f"sector_{commodity}").transpose("sample", "year").values
    elements = [e for e in RARE_EARTH_ELEMENTS if e in out]
    if elements:
        content = plan_model.inputs.magnet_content
        out["rare-earths"] = np.max([out[e] / content[e] for e in elements], axis=0)
    return out


@dataclass
class PlanResult:
    inputs: PlanInputs
    portfolio: pd.DataFrame
    stockpiles: pd.DataFrame
    capacity_by_year: pd.DataFrame
    stocks_by_year: pd.DataFrame
    cost_usd: float
    cost_by_member: dict[str, float]
    cost_by_financier: dict[str, float]
    risk_in_sample: dict[str, dict[str, float]]
    no_plan_in_sample: dict[str, dict[str, float]]
    risk_out_of_sample: dict[str, dict[str, float]] = field(default_factory=dict)
    no_plan_out_of_sample: dict[str, dict[str, float]] = field(default_factory=dict)
    target_slack: dict[str, float] = field(default_factory=dict)
    frontier: pd.DataFrame | None = None
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The plan as JSON-ready data (keys as in issue 11; missing values are None, never 0)."""
        from oresight.cli.render import records

        return {
            "members": list(self.inputs.members),
            "years": [self.inputs.years[0], self.inputs.years[-1]],
            "mode": "budget" if self.inputs.spec.budget_usd is not None else "risk_target",
            "budget_usd": self.inputs.spec.budget_usd,
            "risk_target": None if self.inputs.spec.budget_usd is not None else self.inputs.spec.risk_target,
            "cost_usd": self.cost_usd,
            "cost_by_member": self.cost_by_member,
            "cost_by_financier": self.cost_by_financier,
            "projects": records(self.portfolio),
            "stockpiles": records(self.stockpiles),
            "capacity_by_year": records(self.capacity_by_year),
            "stocks_by_year": records(self.stocks_by_year),
            "risk": {
                "basis": {c: ch.basis for c, ch in self.inputs.chains.items()} | {"rare-earths": "t magnets"},
                "measure": "annual shortfall: mean and 95th percentile over sampled years",
                "in_sample": _by_key(self.risk_in_sample),
                "out_of_sample": _by_key(self.risk_out_of_sample),
                "no_plan": {
                    "in_sample": _by_key(self.no_plan_in_sample),
                    "out_of_sample": _by_key(self.no_plan_out_of_sample),
                },
            },
            "target_slack": self.target_slack,
            "frontier": records(self.frontier) if self.frontier is not None else None,
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
    """Portfolio, stockpiles, costs and in-sample risk of a solved model (the parts of a :class:`PlanResult`)."""
    inputs, solution = plan_model.inputs, plan_model.model.solution
    built = solution["build"].to_series().round().astype(int)
    chosen = built[built > 0].index.tolist()
    first = inputs.projects.drop_duplicates("project").set_index("project")
    fund = solution["fund"].to_series() * MILLION
    member_of = inputs.financiers.set_index("id")["member"]
    portfolio = []
    for project in chosen:
        row = first.loc[project]
        rows = inputs.projects[inputs.projects["project"] == project]
        lead = rows.sort_values("capacity_t", ascending=False).iloc[0]
        financing = fund.xs(project, level="project")
        portfolio.append(
            {
                "name": row["name"],
                "project": project,
                "country": row["country"],
                "stage": row["stage"],
                "commodity": lead["commodity"],
                "commodities": ", ".join(rows["commodity"]),
                "capacity_t": float(lead["capacity_t"]),
                "basis": lead["basis"],
                "start_year": int(max(row["start_year"], inputs.years[0])),
                "support_usd": float(inputs.support_usd[project]),
                "capex_imputed": bool(inputs.capex_imputed[project]),
                "financed_by": {f: float(v) for f, v in financing.items() if v > 1.0},
                "marginal_value_usd": float(marginal[project]) if marginal is not None else None,
                "status": row["status"],
                "source": row["source"],
            }
        )
    stockpiles, stocks_by_year, cost_by_member = [], [], {m: 0.0 for m in inputs.members}
    for f, amount in fund.groupby(level="financier").sum().items():
        cost_by_member[member_of[f]] += float(amount)
    cost_by_financier = {str(f): float(v) for f, v in fund.groupby(level="financier").sum().items() if v > 1.0}
    if "buy" in solution:
        buy = solution["buy"]
        spec = inputs.spec
        T = len(inputs.years)
        held_years = np.arange(T, 0, -1, dtype=float)
        stock_fin = inputs.financiers[inputs.financiers["stockpiles"]].drop_duplicates("member").set_index("member")
        for holder in buy["holder"].values:
            for form in plan_model.forms.itertuples():
                bought = buy.sel(holder=holder, form=form.form).values
                tonnes = float(bought.sum())
                if tonnes < 1e-6:
                    continue
                holding = spec.holding_cost.get(form.stage, spec.holding_cost.get("refining", 0.0))
                cost = float((bought * form.price * (1 + holding * held_years)).sum() * MILLION)
                stockpiles.append(
                    {
                        "holder": holder,
                        "commodity": "rare-earths" if form.commodity == "magnet" else form.commodity,
                        "stage": form.stage,
                        "tonnes": tonnes,
                        "basis": "t NdFeB magnets"
                        if form.commodity == "magnet"
                        else inputs.chains[form.commodity].basis,
                        "cost_usd": cost,
                        "first_year": int(inputs.years[int(np.flatnonzero(bought > 1e-6)[0])]),
                    }
                )
                cost_by_member[holder] += cost
                financier = stock_fin["id"].get(holder)
                if financier:
                    cost_by_financier[financier] = cost_by_financier.get(financier, 0.0) + cost
                for year, level in zip(inputs.years, np.cumsum(bought), strict=True):
                    stocks_by_year.append({"holder": holder, "form": form.form, "year": year, "tonnes": float(level)})
    capacity = _capacity_by_year(plan_model, chosen)
    risk = {c: calc_risk(v) for c, v in annual_shortfall(plan_model).items()}
    slack = solution["target_slack"].to_series().to_dict() if "target_slack" in solution else {}
    return {
        "portfolio": pd.DataFrame(portfolio, columns=_PORTFOLIO),
        "stockpiles": pd.DataFrame(stockpiles, columns=_STOCKPILES),
        "capacity_by_year": capacity,
        "stocks_by_year": pd.DataFrame(stocks_by_year, columns=["holder", "form", "year", "tonnes"]),
        "cost_usd": float(sum(cost_by_member.values())),
        "cost_by_member": cost_by_member,
        "cost_by_financier": cost_by_financier,
        "risk_in_sample": risk,
        "target_slack": {str(k): float(v) for k, v in slack.items()},
    }


_PORTFOLIO = [
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
    "marginal_value_usd",
    "status",
    "source",
]
_STOCKPILES = ["holder", "commodity", "stage", "tonnes", "basis", "cost_usd", "first_year"]


def _capacity_by_year(plan_model: PlanModel, chosen: list[str]) -> pd.DataFrame:
    """Expected new capacity by commodity and year (nameplate × expected availability over the futures)."""
    inputs = plan_model.inputs
    availability = plan_model.futures.availability.mean(axis=0)  # [P, T]
    rows = []
    for row in inputs.projects[inputs.projects["project"].isin(chosen)].itertuples():
        i = inputs.project_ids.index(row.project)
        for t, year in enumerate(inputs.years):
            rows.append({"commodity": row.commodity, "year": year, "capacity_t": row.capacity_t * availability[i, t]})
    frame = pd.DataFrame(rows, columns=["commodity", "year", "capacity_t"])
    return frame.groupby(["commodity", "year"], as_index=False)["capacity_t"].sum()
