"""Simulation results as an xarray Dataset, their invariants and their summaries.

Variables (months run from 1; tonnes are per month in each stage's unit):

* ``shortfall``, ``demand``, ``consumed`` over (commodity, importer, stage, month, sample); ``baseline_demand``
  over (commodity, importer, stage); ``shortfall_share`` = shortfall / baseline demand.
* ``shortfall_sector`` over (commodity, importer, stage, sector, month, sample): the shortfall by end-use sector,
  priority sectors served first.
* ``price_index`` over (commodity, stage, month, sample): 1 = normal.
* world balance terms over (commodity, stage, month, sample): see :data:`oresight.simulate.engine.BALANCE_TERMS`.
* ``stockpile_level`` and ``stockpile_release`` over (stockpile, month, sample); ``stockpile_initial`` and
  ``stockpile_cover`` (months of the holder's normal use) over (stockpile, sample).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from oresight.simulate.baseline import Baseline
from oresight.simulate.draws import Draws
from oresight.simulate.engine import BALANCE_TERMS, Raw

__all__ = ["PERCENTILES", "CommodityRun", "assemble", "check_mass_balance", "empty_month", "percentiles", "summarise"]

PERCENTILES = {"p5": 5, "p50": 50, "p95": 95}
SUPPLY_TERMS = ("production", "spare_output", "new_capacity", "recycled", "released")
USE_TERMS = ("final_use", "intermediate_use", "surplus", "withheld")


@dataclass
class CommodityRun:
    baseline: Baseline
    draws: Draws
    raw: Raw


def _sector_split(run: CommodityRun) -> np.ndarray:
    """Shortfall by sector [K, I, G, H, S]: priority sectors are served before the others, pro rata within.
    Stages where no importer has final demand are left at zero without computing them."""
    b, raw = run.baseline, run.raw
    share = b.sector_share  # [K, I, G]
    priority = run.draws.priority
    first = (share * priority).sum(axis=2)  # [K, I]
    others = (share * ~priority).sum(axis=2)
    weight_first = np.divide(share * priority, first[..., None], out=np.zeros_like(share), where=first[..., None] > 0)
    weight_rest = np.divide(share * ~priority, others[..., None], out=np.zeros_like(share), where=others[..., None] > 0)
    out = np.zeros((*share.shape, *raw.demand.shape[2:]))
    for k in np.flatnonzero(b.final_demand[:, [b.index(i) for i in b.importers]].sum(axis=1) > 0):
        demand, consumed = raw.demand[k], raw.consumed[k]  # [I, H, S]
        served_first = np.minimum(consumed, demand * first[k][:, None, None])
        rest = consumed - served_first
        for g in range(share.shape[2]):
            served = served_first * weight_first[k, :, g, None, None] + rest * weight_rest[k, :, g, None, None]
            out[k, :, g] = np.maximum(demand * share[k, :, g, None, None] - served, 0.0)
    return out


def _commodity_dataset(run: CommodityRun, stage_order: list[str]) -> xr.Dataset:
    b, raw, draws = run.baseline, run.raw, run.draws
    rows = [b.index(i) for i in b.importers]
    stages = list(b.stages)
    cube = ("importer", "stage", "month", "sample")
    data = {name: (cube, getattr(raw, name).transpose(1, 0, 2, 3)) for name in ("shortfall", "demand", "consumed")}
    data["shortfall_sector"] = (
        ("importer", "stage", "sector", "month", "sample"),
        _sector_split(run).transpose(1, 0, 2, 3, 4),
    )
    data["baseline_demand"] = (("importer", "stage"), b.final_demand[:, rows].T)
    data["price_index"] = (("stage", "month", "sample"), raw.price)
    for t, term in enumerate(BALANCE_TERMS):
        data[term] = (("stage", "month", "sample"), raw.balance[t])
    ds = xr.Dataset(
        data,
        coords={
            "importer": list(b.importers),
            "stage": stages,
            "sector": list(b.sectors),
            "month": np.arange(1, draws.horizon + 1),
            "sample": np.arange(draws.samples),
        },
    )
    chain = ds.expand_dims(commodity=[b.commodity])
    per_stage = {"unit": list(b.units), "basis": list(b.bases), "content": b.content}
    return chain.assign_coords({name: (("commodity", "stage"), [values]) for name, values in per_stage.items()})


def _stockpile_dataset(runs: list[CommodityRun]) -> xr.Dataset:
    """Stockpiles of every commodity's run along one ``stockpile`` dimension, with their holder, nodes, commodity
    and stage as coordinates."""
    held = [(run, s) for run in runs for s in run.draws.stockpiles]
    samples, horizon = runs[0].draws.samples, runs[0].draws.horizon
    level = [run.raw.stock_level[j] for run in runs for j in range(len(run.draws.stockpiles))]
    release = [run.raw.stock_release[j] for run in runs for j in range(len(run.draws.stockpiles))]
    shape = (len(held), horizon, samples)
    return xr.Dataset(
        {
            "stockpile_level": (("stockpile", "month", "sample"), np.array(level).reshape(shape)),
            "stockpile_release": (("stockpile", "month", "sample"), np.array(release).reshape(shape)),
            "stockpile_initial": (("stockpile", "sample"), np.array([s.level for _, s in held]).reshape(shape[::2])),
            "stockpile_cover": (("stockpile", "sample"), np.array([s.cover for _, s in held]).reshape(shape[::2])),
        },
        coords={
            "month": np.arange(1, horizon + 1),
            "sample": np.arange(samples),
            "stockpile": [s.name for _, s in held],
            "stockpile_holder": ("stockpile", [s.holder for _, s in held]),
            "stockpile_nodes": ("stockpile", [",".join(np.array(r.baseline.nodes)[s.nodes]) for r, s in held]),
            "stockpile_commodity": ("stockpile", [r.baseline.commodity for r, _ in held]),
            "stockpile_stage": ("stockpile", [r.baseline.stages[s.stage] for r, s in held]),
        },
    )


def assemble(runs: list[CommodityRun], stage_order: list[str], attrs: dict) -> xr.Dataset:
    """One Dataset for all commodities of a scenario (stages or sectors a commodity lacks are NaN)."""
    parts = [_commodity_dataset(run, stage_order) for run in runs]
    if len(parts) == 1:
        ds = parts[0]
    else:
        ds = xr.concat(parts, dim="commodity", join="outer", coords="different", compat="equals", data_vars="all")
    stages = [s for s in stage_order if s in ds.stage.values]
    ds = ds.reindex(stage=stages) if list(ds.stage.values) != stages else ds
    ds = xr.merge([ds, _stockpile_dataset(runs)], compat="override", join="outer")
    ds.attrs.update(attrs)
    with np.errstate(divide="ignore", invalid="ignore"):
        ds["shortfall_share"] = ds["shortfall"] / ds["baseline_demand"].where(ds["baseline_demand"] > 0)
    return ds


# -- invariants ---------------------------------------------------------------------------------------------
def check_mass_balance(ds: xr.Dataset, rtol: float = 1e-9) -> float:
    """Assert that every stage balances in every month and sample: production + spare output + new capacity +
    recycling + stockpile releases = final use + next stage's use + unsold surplus + withheld exports; that
    nothing is used that was not supplied (surplus ≥ 0); that each stage's intermediate use is what the next
    stage's output needed; and that stockpiles only fall by what they release. Returns the largest residual.
    """
    supply = sum(ds[t] for t in SUPPLY_TERMS)
    uses = sum(ds[t] for t in USE_TERMS)
    scale = float(np.nanmax(np.abs(supply.values))) if supply.size else 0.0
    tol = rtol * max(scale, 1.0)
    residual = float(np.nanmax(np.abs((supply - uses).values), initial=0.0))
    if residual > tol:
        raise AssertionError(f"mass balance off by {residual:.3g} t")
    if float(np.nanmin(ds["surplus"].values, initial=0.0)) < -tol:
        raise AssertionError("a stage used more than it was supplied")
    for commodity in ds.commodity.values:
        one = ds.sel(commodity=commodity)
        stages = [s for s in one.stage.values if bool(one["production"].sel(stage=s).notnull().any())]
        for upper, lower in itertools.pairwise(stages):
            need = one["intermediate_use"].sel(stage=upper)
            made = (one["production"] + one["spare_output"]).sel(stage=lower) * _coefficient(
                ds, commodity, upper, lower
            )
            gap = float(np.abs(need - made).max())
            if gap > tol:
                raise AssertionError(f"{commodity}: {upper} delivered {gap:.3g} t more or less than {lower} used")
    if ds.sizes.get("stockpile", 0):
        level = ds["stockpile_level"]
        before = xr.concat(
            [
                ds["stockpile_initial"].expand_dims(month=[0]),
                level.isel(month=slice(None, -1)).assign_coords(month=level.month.values[1:]),
            ],
            dim="month",
        )
        expected = before.transpose(*level.dims).values - ds["stockpile_release"].values
        if float(np.abs(expected - level.values).max(initial=0.0)) > tol or float(level.min()) < -tol:
            raise AssertionError("a stockpile changed by more than it released")
    return residual


def _coefficient(ds: xr.Dataset, commodity, upper: str, lower: str) -> float:
    content = ds["content"].sel(commodity=commodity)
    return float(content.sel(stage=lower) / content.sel(stage=upper))


# -- summaries ----------------------------------------------------------------------------------------------
def percentiles(values: np.ndarray) -> dict[str, float | None]:
    """P5, P50 and P95 over samples; infinite values (e.g. 'never empty') come out as None."""
    out = {}
    for key, q in PERCENTILES.items():
        with np.errstate(invalid="ignore"):
            value = float(np.percentile(values, q)) if len(values) else math.nan
        out[key] = None if not math.isfinite(value) else round(value, 6)
    return out


def empty_month(level: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """First month [sample] in which a stockpile (level [month, sample]) is empty; inf if it never is."""
    empty = level <= 1e-9 * np.maximum(initial, 1.0)[None, :]
    first = np.argmax(empty, axis=0) + 1.0
    return np.where(empty.any(axis=0) & (initial > 0), first, np.inf)


def _headline(ds: xr.Dataset, commodity, importer) -> tuple[xr.DataArray, xr.DataArray, str, str]:
    """Cumulative shortfall and demand [sample] of one importer and commodity: in the unit of its one stage
    with demand, or in content of the chain's first stage when it has demand at several."""
    one = ds.sel(commodity=commodity, importer=importer)
    with_demand = [s for s in one.stage.values if float(np.nan_to_num(one["baseline_demand"].sel(stage=s))) > 0]
    if len(with_demand) == 1:
        stage = with_demand[0]
        return (
            one["shortfall"].sel(stage=stage).sum("month"),
            one["baseline_demand"].sel(stage=stage) * ds.sizes["month"],
            str(one["unit"].sel(stage=stage).item()),
            str(one["basis"].sel(stage=stage).item()),
        )
    content = one["content"].fillna(0)
    first = str(one["basis"].isel(stage=0).item())
    return (
        (one["shortfall"].fillna(0) * content).sum(["stage", "month"]),
        (one["baseline_demand"].fillna(0) * content).sum("stage") * ds.sizes["month"],
        "t",
        f"{first} equivalent",
    )


def summarise(ds: xr.Dataset, causes: dict | None = None) -> dict:
    """Percentiles per importer (shortfall in tonnes and as a share of demand, stockpile empty month), per
    stockpile and per stage price; the shape of ``oresight simulate --format json``."""
    importers = {}
    for importer in ds.importer.values:
        total_short, total_demand, per_commodity = 0.0, 0.0, {}
        for commodity in ds.commodity.values:
            short, demand, unit, basis = _headline(ds, commodity, importer)
            if float(demand) <= 0:
                per_commodity[str(commodity)] = {"modelled": False, "note": "no demand data for this importer"}
                continue
            total_short, total_demand = total_short + short.values, total_demand + float(demand)
            per_commodity[str(commodity)] = _importer_commodity(
                ds, commodity, importer, short, float(demand), unit, basis
            )
        entry: dict = {}
        if total_demand > 0:
            entry["shortfall_t"] = percentiles(np.atleast_1d(total_short))
            entry["shortfall_share"] = percentiles(np.atleast_1d(total_short) / total_demand)
        else:
            entry["modelled"] = False
        entry["stockpile_empty_month"] = _empty_months(ds, importer)
        entry["commodities"] = per_commodity
        if causes and str(importer) in causes:
            entry["causes"] = causes[str(importer)]
        importers[str(importer)] = entry
    return {
        "scenario": ds.attrs.get("scenario"),
        "description": ds.attrs.get("description"),
        "seed": ds.attrs.get("seed"),
        "samples": ds.sizes["sample"],
        "horizon_months": ds.sizes["month"],
        "data_version": ds.attrs.get("data_version"),
        "importers": importers,
        "stockpiles": _stockpiles(ds),
        "price_index_peak": {
            f"{c}/{s}": percentiles(ds["price_index"].sel(commodity=c, stage=s).max("month").values)
            for c in ds.commodity.values
            for s in ds.stage.values
            if bool(ds["price_index"].sel(commodity=c, stage=s).notnull().all())
        },
        "notes": list(ds.attrs.get("notes", [])),
    }


def _importer_commodity(ds, commodity, importer, short, demand, unit, basis) -> dict:
    one = ds.sel(commodity=commodity, importer=importer)
    monthly_share = one["shortfall_share"]
    by_stage = {}
    for stage in one.stage.values:
        base = float(np.nan_to_num(one["baseline_demand"].sel(stage=stage)))
        if base > 0:
            cumulative = one["shortfall"].sel(stage=stage).sum("month").values
            by_stage[str(stage)] = {
                "unit": str(one["unit"].sel(stage=stage).item()),
                "demand_per_month": round(base, 6),
                "shortfall_t": percentiles(cumulative),
                "peak_monthly_share": percentiles(monthly_share.sel(stage=stage).max("month").values),
            }
    sectors = one["shortfall_sector"].sum(["stage", "month"], min_count=1)
    return {
        "unit": unit,
        "basis": basis,
        "shortfall_t": percentiles(short.values),
        "shortfall_share": percentiles(short.values / demand),
        "by_stage": by_stage,
        "by_sector_p50": {
            str(g): round(float(np.nanmedian(sectors.sel(sector=g).values)), 6)
            for g in sectors.sector.values
            if bool(sectors.sel(sector=g).notnull().any())
        },
    }


def _held_by(ds: xr.Dataset, importer: str) -> list[str]:
    """Stockpiles the importer holds, alone or with others (market stocks held by "all" excluded)."""
    pairs = zip(ds.stockpile.values, ds.stockpile_holder.values, ds.stockpile_nodes.values, strict=True)
    return [str(s) for s, holder, nodes in pairs if holder != "all" and importer in str(nodes).split(",")]


def _empty_months(ds: xr.Dataset, importer: str) -> dict | None:
    held = _held_by(ds, importer)
    if not held:
        return None
    level = ds["stockpile_level"].sel(stockpile=held).sum("stockpile").values
    initial = ds["stockpile_initial"].sel(stockpile=held).sum("stockpile").values
    months = empty_month(level, initial)
    return {**percentiles(months), "share_of_samples_empty": round(float(np.isfinite(months).mean()), 6)}


def _stockpiles(ds: xr.Dataset) -> list[dict]:
    out = []
    for s in ds.stockpile.values:
        one = ds.sel(stockpile=s)
        months = empty_month(one["stockpile_level"].values, one["stockpile_initial"].values)
        out.append(
            {
                "name": str(s),
                "holder": str(one["stockpile_holder"].item()),
                "commodity": str(one["stockpile_commodity"].item()),
                "stage": str(one["stockpile_stage"].item()),
                "tonnes": percentiles(one["stockpile_initial"].values),
                "months_of_cover": percentiles(one["stockpile_cover"].values),
                "released_t": percentiles(one["stockpile_release"].sum("month").values),
                "empty_month": {
                    **percentiles(months),
                    "share_of_samples_empty": round(float(np.isfinite(months).mean()), 6),
                },
            }
        )
    return out
