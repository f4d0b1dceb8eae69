"""Backtests: each library scenario of a real event run side by side with what was observed.

Per library event, ``backtests/<scenario>.yaml`` lists observed indicators with their sources — trade change by
month, price multiples by region, the first month short, how long a shortage lasted — each with a band that
counts as agreement. :func:`backtest` runs the scenario and computes the same indicator from the simulation (the
median over samples); an indicator passes when that lies within its band. ``oresight scenarios backtest``
prints the table, and docs/backtests.md records it with the reasons for every failure.

>>> names = backtest_names()
>>> "cn-2025-04-heavy-ree-controls" in names
True
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from oresight.errors import InputError, UnknownNameError
from oresight.io.text import parse_yaml
from oresight.simulate.result import first_short_month

__all__ = [
    "BACKTESTS",
    "Backtest",
    "Indicator",
    "backtest",
    "backtest_names",
    "indicator_row",
    "load_backtest",
    "not_attested",
    "simulated_value",
]

BACKTESTS = "oresight.simulate.backtests"
#: a first short month "never" counts as this month in a band
NEVER = 99.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Citation(_Model):
    publisher: str
    title: str
    url: str
    date: str | None = None
    #: the page, table or passage that gives the figure
    where: str | None = None

    def __str__(self) -> str:
        when = f" ({self.date})" if self.date else ""
        where = f", {self.where}" if self.where else ""
        return f"{self.publisher}: {self.title}{when}{where}, {self.url}"


class Indicator(_Model):
    """One observed quantity, its band and how to compute it from a simulation."""

    name: str
    metric: Literal[
        "export_change",
        "import_change",
        "price_peak",
        "price_mean",
        "price_at",
        "first_short_month",
        "shortfall_share",
        "short_months",
    ]
    commodity: str
    stage: str | None = None
    #: price_*: "china", "outside-china" … where the market is split; none = over all users
    region: str | None = None
    importer: str | None = None
    exporter: str | None = None
    #: export_change, price_at: the month; price_peak, price_mean, shortfall_share, short_months: the months
    #: from … to (default: the whole horizon)
    month: int | None = Field(default=None, ge=1)
    months: tuple[int, int] | None = None
    #: export_change, import_change: the months the observation is set against — an average month of the
    #: base year (the baseline as calibrated) or the same month a year earlier (the grown baseline less a
    #: year's trend growth)
    against: Literal["base_year", "year_earlier"] = "base_year"
    observed: float
    low: float
    high: float
    source: Citation
    note: str = ""


class Backtest(_Model):
    scenario: str
    #: samples of the backtest run (fewer than the scenario's, to keep the whole table quick)
    samples: int = Field(default=400, ge=10, le=100_000)
    indicators: list[Indicator] = Field(min_length=1)


def backtest_names() -> list[str]:
    """Library scenarios with a backtest file."""
    return sorted(
        p.name.removesuffix(".yaml") for p in resources.files(BACKTESTS).iterdir() if p.name.endswith(".yaml")
    )


def load_backtest(name: str) -> Backtest:
    if name not in backtest_names():
        import difflib

        raise UnknownNameError("backtest", name, difflib.get_close_matches(name, backtest_names(), n=3))
    origin = f"backtest {name}"
    data = parse_yaml(
        resources.files(BACKTESTS).joinpath(f"{name}.yaml").read_text(encoding="utf-8"), origin, InputError
    )
    return Backtest.model_validate(data)


def _window(ds: xr.Dataset, indicator: Indicator) -> slice:
    first, last = indicator.months or (1, ds.sizes["month"])
    return slice(first, last)


def _price(ds: xr.Dataset, indicator: Indicator) -> xr.DataArray:
    """The price index the indicator names. Where the run does not split the market (the exporter uses none
    of the stage's product in the data), the one price is the price outside the exporter, and there is no
    inside price (all NaN)."""
    one = ds.sel(commodity=indicator.commodity, stage=indicator.stage)
    if indicator.region is None:
        return one["price_index"]
    names = [str(n) for n in one["region_name"].values]
    if indicator.region not in names:
        unsplit = all(not n for n in names) and indicator.region.startswith("outside-")
        return one["price_index"] * (1.0 if unsplit else np.nan)
    return one["price_index_region"].isel(region=names.index(indicator.region))


def not_attested(ds: xr.Dataset, indicator: Indicator) -> str:
    """Why the run cannot give the indicator ("" where it can): the run has no such commodity, stage, importer
    or exporter, or the indicator's normal month (the baseline flow or demand it is set against) is not a
    positive number, so a change or share of it means nothing."""
    needed = {
        "commodity": indicator.commodity,
        "stage": indicator.stage,
        "importer": indicator.importer,
        "exporter": indicator.exporter,
    }
    absent = [f"{dim} {value}" for dim, value in needed.items() if value is not None and value not in ds[dim].values]
    if absent:
        return f"not attested: the run has no {', '.join(absent)}"
    if indicator.metric in ("export_change", "import_change"):
        one = ds.sel(commodity=indicator.commodity, stage=indicator.stage, exporter=indicator.exporter)
        if indicator.metric == "import_change":
            normal = float(one["baseline_exports_to"].sel(importer=indicator.importer))
            flow = f"imports of {indicator.importer} from {indicator.exporter}"
        else:
            normal, flow = float(one["baseline_exports"]), f"exports of {indicator.exporter}"
        if not (math.isfinite(normal) and normal > 0):
            return f"not attested: the baseline has no {flow} at stage {indicator.stage} to set the month against"
    if indicator.metric == "shortfall_share":
        one = ds.sel(commodity=indicator.commodity, importer=indicator.importer)
        stages = [indicator.stage] if indicator.stage else _demand_stages(one)
        if not stages:
            return f"not attested: the baseline has no demand of {indicator.importer} for {indicator.commodity}"
    return ""


def simulated_value(ds: xr.Dataset, indicator: Indicator) -> float:
    """The indicator computed from a simulation's Dataset: the median over samples; NaN where it is not
    attested (:func:`not_attested` says why), never the result of dividing by zero."""
    if not_attested(ds, indicator):
        return math.nan
    metric = indicator.metric
    if metric in ("export_change", "import_change"):
        one = ds.sel(commodity=indicator.commodity, stage=indicator.stage, exporter=indicator.exporter)
        if metric == "import_change":
            one = one.sel(importer=indicator.importer)
        flows, normal = (
            (one["exports"], one["baseline_exports"])
            if metric == "export_change"
            else (one["exports_to"], one["baseline_exports_to"])
        )
        # customs count exports when they leave and imports when they arrive; the model's flows are arrivals
        transit = float(one["transit_months"]) if metric == "export_change" else 0.0
        values = _shipped_in(flows, indicator, transit) / (float(normal) * _reference(ds, indicator)) - 1
    elif metric == "price_peak":
        values = _price(ds, indicator).sel(month=_window(ds, indicator)).max("month").values
    elif metric == "price_mean":
        values = _price(ds, indicator).sel(month=_window(ds, indicator)).mean("month").values
    elif metric == "price_at":
        values = _price(ds, indicator).sel(month=indicator.month).values
    else:
        one = ds.sel(commodity=indicator.commodity, importer=indicator.importer)
        stages = [indicator.stage] if indicator.stage else _demand_stages(one)
        window = _window(ds, indicator)
        short = one["shortfall"].sel(stage=stages, month=window).fillna(0)
        demand = one["demand"].sel(stage=stages, month=window).fillna(0)
        if metric == "shortfall_share":
            values = (short.sum(["stage", "month"]) / demand.sum(["stage", "month"])).values
        elif metric == "short_months":
            values = (short.sum("stage") > 0.01 * demand.sum("stage")).sum("month").values.astype(float)
        else:
            months = first_short_month(short.sum("stage").values, demand.sum("stage").values)
            values = np.where(np.isfinite(months), months, NEVER)
    return float(np.median(values))


def _reference(ds: xr.Dataset, indicator: Indicator) -> float:
    """The observation's reference months as a multiple of the run's normal month: the base year's (the run's
    baseline before trend growth) or a year before the indicator's month (a year's growth less)."""
    growth = float(ds["market_growth"].sel(commodity=indicator.commodity)) if "market_growth" in ds else 1.0
    if indicator.against == "base_year":
        return 1.0 / growth
    from oresight.simulate.growth import growth_rate

    found = growth_rate(indicator.commodity)
    rate = found[0] if found is not None else 0.0
    return max(1.0 / growth, 1.0 / (1.0 + rate))


def _shipped_in(arrivals: xr.DataArray, indicator: Indicator, transit: float) -> np.ndarray:
    """What left the exporter in the indicator's month [sample]: customs count shipments, the model counts what
    arrives a transit time later, so the simulated month is the observed one plus the transit time."""
    month = min(indicator.month + transit, float(arrivals.month.max()))
    return arrivals.interp(month=month).values


def _demand_stages(one: xr.Dataset) -> list[str]:
    return [s for s in one.stage.values if float(np.nan_to_num(one["baseline_demand"].sel(stage=s))) > 0]


def backtest(world, names: list[str] | None = None, *, samples: int | None = None) -> list[dict]:
    """Run the backtests of the named scenarios (all by default); one row per indicator with the keys
    scenario, indicator, observed, low, high, simulated, pass, source (and metric, note, attested; see
    :func:`indicator_row`)."""
    from oresight.simulate import simulate

    rows = []
    for name in names or backtest_names():
        spec = load_backtest(name)
        sim = simulate(spec.scenario, world, samples=samples or spec.samples)
        rows.extend(indicator_row(spec.scenario, indicator, sim.dataset) for indicator in spec.indicators)
    return rows


def indicator_row(scenario: str, indicator: Indicator, ds: xr.Dataset) -> dict:
    """One row of :func:`backtest`: the indicator beside its simulated value. One the run cannot give is not
    attested: simulated None, pass False (it has not passed), ``attested`` False and the note begins with why."""
    why = not_attested(ds, indicator)
    value = math.nan if why else simulated_value(ds, indicator)
    if not why and not math.isfinite(value):
        why = "not attested: the simulation gives no finite value"
    return {
        "scenario": scenario,
        "indicator": indicator.name,
        "metric": indicator.metric,
        "observed": indicator.observed,
        "low": indicator.low,
        "high": indicator.high,
        "simulated": None if why else round(value, 4),
        "pass": bool(not why and indicator.low <= value <= indicator.high),
        "source": str(indicator.source),
        "note": "; ".join(filter(None, (why, indicator.note))),
        "attested": not why,
    }
