"""Simulation results as an xarray Dataset, their invariants and their summaries.

Variables (months run from 1; tonnes are per month in each stage's unit; a value no data support — an importer
that is not modelled, a stage where it has no final demand — is NaN, never 0):

* ``shortfall``, ``demand``, ``demand_at_price``, ``consumed`` over (commodity, importer, stage, month,
  sample): ``demand`` is final demand at normal prices after demand shocks, what the shortfall is measured
  against; ``demand_at_price`` is what users asked for at the month's prices (substitution and demand
  destruction); ``shortfall`` = demand − consumed. ``baseline_demand`` over (commodity, importer, stage);
  ``shortfall_share`` = shortfall / baseline demand.
* ``shortfall_sector`` over (commodity, importer, stage, sector, month, sample): the shortfall by end-use
  sector, priority sectors served first.
* ``price_index`` over (commodity, stage, month, sample): 1 = normal, over all users; ``price_index_region``
  over (commodity, stage, region, month, sample) where an export restriction splits a stage's market (region
  ``outside`` and ``inside`` the exporter's; their names in ``region_name``), NaN elsewhere.
* ``inventory`` over (commodity, importer, stage, month, sample): the importer's own stocks of the stage's
  product at the end of each month, ``inventory_initial`` at the start; ``inventory_total`` (all nodes).
* ``exports`` over (commodity, stage, exporter, month, sample): what each exporter a shock names ships to others,
  ``exports_to`` the same to each importer; ``baseline_exports`` and ``baseline_exports_to`` the normal months.
* world balance terms over (commodity, stage, month, sample): see :data:`oresight.simulate.engine.BALANCE_TERMS`.
* ``stockpile_level`` and ``stockpile_release`` over (stockpile, month, sample); ``stockpile_initial`` and
  ``stockpile_cover`` (months of the holder's normal use) over (stockpile, sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from oresight.simulate.baseline import Baseline
from oresight.simulate.draws import Draws
from oresight.simulate.engine import BALANCE_TERMS, SUPPLY_TERMS, USE_TERMS, InSlots, Raw

__all__ = [
    "PERCENTILES",
    "SHORT_THRESHOLD",
    "CommodityRun",
    "Outputs",
    "assemble",
    "check_mass_balance",
    "empty_month",
    "first_short_month",
    "percentiles",
    "summarise",
]

PERCENTILES = {"p5": 5, "p50": 50, "p95": 95}
#: a month counts as short when more than this share of its demand is not met (round-off and trickles aside)
SHORT_THRESHOLD = 0.01
REGIONS = ("outside", "inside")


@dataclass
class CommodityRun:
    baseline: Baseline
    draws: Draws
    raw: Raw | None  # None until the engine has run


def _sector_split(run: CommodityRun) -> dict[int, np.ndarray]:
    """Shortfall by sector [I, G, H, S] of each stage where an importer has final demand (the others are not
    computed): priority sectors are served before the others, pro rata within; a sector no source gives for an
    importer is NaN (not attested: its use is served and counted within "other")."""
    b, raw = run.baseline, run.raw
    attested = ~np.isnan(b.sector_share)  # [K, I, G]
    share = np.where(attested, b.sector_share, 0.0)
    priority = run.draws.priority
    first = (share * priority).sum(axis=2)  # [K, I]
    others = (share * ~priority).sum(axis=2)
    weight_first = np.divide(share * priority, first[..., None], out=np.zeros_like(share), where=first[..., None] > 0)
    weight_rest = np.divide(share * ~priority, others[..., None], out=np.zeros_like(share), where=others[..., None] > 0)
    split = {}
    for k in np.flatnonzero(b.final_demand[:, [b.index(i) for i in b.importers]].sum(axis=1) > 0):
        demand, consumed = raw.demand[k], raw.consumed[k]  # [I, H, S]
        served_first = np.minimum(consumed, demand * first[k][:, None, None])
        rest = consumed - served_first
        out = split[int(k)] = np.zeros((*share.shape[1:], *demand.shape[1:]))
        for g in range(share.shape[2]):
            served = served_first * weight_first[k, :, g, None, None] + rest * weight_rest[k, :, g, None, None]
            out[:, g] = np.maximum(demand * share[k, :, g, None, None] - served, 0.0)
        out[~attested[k]] = np.nan
    return split


#: variables over (commodity, importer, stage, month, sample), kept in single precision: results, not balances
_CUBE = ("shortfall", "demand", "demand_at_price", "consumed", "inventory")


class _Layout:
    """The coordinates of the assembled Dataset: materials of every run (a chain has one; a chain by element
    several), the importers asked for, the stages present in the taxonomy's order, sectors and exporters."""

    def __init__(self, runs: list[CommodityRun], stage_order: list[str], importers: list[str]):
        self.parts = [
            (run, m, [k for k, x in enumerate(run.baseline.materials) if x == m])
            for run in runs
            for m in dict.fromkeys(run.baseline.materials)
        ]
        present = {run.baseline.stages[k] for run, _, ks in self.parts for k in ks}
        self.materials = [m for _, m, _ in self.parts]
        self.stages = [s for s in stage_order if s in present]
        self.importers = list(importers)
        self.sectors = list(dict.fromkeys(g for run in runs for g in run.baseline.sectors))
        self.exporters = list(dict.fromkeys(run.baseline.nodes[x] for run in runs for x in run.draws.exporters))
        first = runs[0].draws
        self.horizon, self.samples = first.horizon, first.samples

    def shape(self, *dims: str) -> tuple[int, ...]:
        sizes = {
            "commodity": len(self.materials),
            "importer": len(self.importers),
            "stage": len(self.stages),
            "sector": len(self.sectors),
            "region": len(REGIONS),
            "exporter": len(self.exporters),
            "month": self.horizon,
            "sample": self.samples,
        }
        return tuple(sizes[d] for d in dims)


#: variables the engine writes straight into the result (float64, over (commodity, stage, month, sample))
_IN_PLACE = ("inventory_total", *BALANCE_TERMS)


def _dims() -> dict[str, tuple[str, ...]]:
    return {
        **{name: ("commodity", "importer", "stage", "month", "sample") for name in _CUBE},
        "shortfall_sector": ("commodity", "importer", "stage", "sector", "month", "sample"),
        "baseline_demand": ("commodity", "importer", "stage"),
        "sector_share": ("commodity", "importer", "stage", "sector"),
        "inventory_initial": ("commodity", "importer", "stage", "sample"),
        "price_index": ("commodity", "stage", "month", "sample"),
        "price_index_region": ("commodity", "stage", "region", "month", "sample"),
        "inventory_total": ("commodity", "stage", "month", "sample"),
        "inventory_total_initial": ("commodity", "stage", "sample"),
        "exports": ("commodity", "stage", "exporter", "month", "sample"),
        "baseline_exports": ("commodity", "stage", "exporter"),
        "exports_to": ("commodity", "stage", "exporter", "importer", "month", "sample"),
        "baseline_exports_to": ("commodity", "stage", "exporter", "importer"),
        **{term: ("commodity", "stage", "month", "sample") for term in BALANCE_TERMS},
        "price_usd_per_t": ("commodity", "stage"),
        "transit_months": ("commodity", "stage"),
        "output_value_usd_per_t": ("commodity", "stage", "sector"),
        "market_growth": ("commodity",),
    }


class Outputs:
    """Every variable of the result at its final shape, allocated before the engine runs: NaN where a commodity
    lacks a stage, importer, sector or exporter, and for the variables the engine writes in place (world
    balance terms, all nodes' stocks: :meth:`into`) 0 in each run's stages. The balance terms share one buffer
    [term, commodity, stage, month, sample], so the engine's ``balance[:, k, t]`` stays one view."""

    def __init__(self, runs: list[CommodityRun], stage_order: list[str], importers: list[str]):
        self.runs = runs
        self.layout = layout = _Layout(runs, stage_order, importers)
        single = {*_CUBE, "shortfall_sector", "price_index", "price_index_region", "exports", "exports_to"}
        dims = _dims()
        self.data = {
            name: (d, np.full(layout.shape(*d), np.nan, dtype=np.float32 if name in single else float))
            for name, d in dims.items()
            if name not in _IN_PLACE
        }
        used = np.zeros(layout.shape("commodity", "stage"), dtype=bool)
        for c, (run, _, ks) in enumerate(layout.parts):
            used[c, [layout.stages.index(run.baseline.stages[k]) for k in ks]] = True
        # written slot by slot: each page is touched once (np.full, then zeros, would write the run's slots twice)
        self.balance = np.empty((len(BALANCE_TERMS), *layout.shape("commodity", "stage", "month", "sample")))
        self.stocks = np.empty(layout.shape("commodity", "stage", "month", "sample"))
        for c, s in np.ndindex(used.shape):
            fill = 0.0 if used[c, s] else np.nan
            self.balance[:, c, s] = fill
            self.stocks[c, s] = fill
        self.data["inventory_total"] = (dims["inventory_total"], self.stocks)
        for i, term in enumerate(BALANCE_TERMS):
            self.data[term] = (dims[term], self.balance[i])

    def into(self, index: int) -> dict[str, InSlots]:
        """The arrays run ``index`` of ``runs`` writes in place (see :func:`oresight.simulate.engine.run`)."""
        run, layout = self.runs[index], self.layout
        where = {m: c for c, (other, m, _) in enumerate(layout.parts) if other is run}
        b = run.baseline
        slots = [(where[m], layout.stages.index(stage)) for m, stage in zip(b.materials, b.stages, strict=True)]
        return {"balance": InSlots(self.balance, slots, axis=1), "inventory_total": InSlots(self.stocks, slots)}


def _fill(outputs: Outputs) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """The variables of every run, in place in ``outputs``."""
    for c, (run, _, ks) in enumerate(outputs.layout.parts):
        _fill_run(outputs.layout, outputs.data, c, run, ks)
    return outputs.data


def _fill_run(layout: _Layout, data: dict, c: int, run: CommodityRun, ks: list[int]) -> None:
    b, raw, draws = run.baseline, run.raw, run.draws
    rows = [b.index(i) for i in b.importers]
    where_i = [layout.importers.index(i) for i in b.importers]
    where_g = [layout.sectors.index(g) for g in b.sectors]
    exporters = list(draws.exporters)
    where_x = [layout.exporters.index(b.nodes[x]) for x in exporters]
    sectors = _sector_split(run)
    data["market_growth"][1][c] = b.growth
    for k in ks:
        s = layout.stages.index(b.stages[k])
        if not isinstance(raw.balance, InSlots):  # else the engine wrote them in place
            for term_index, term in enumerate(BALANCE_TERMS):
                data[term][1][c, s] = raw.balance[term_index, k]
        if not isinstance(raw.inventory_total, InSlots):
            data["inventory_total"][1][c, s] = raw.inventory_total[k]
        data["price_index"][1][c, s] = raw.price[k]
        data["price_index_region"][1][c, s] = raw.price_region[k]
        data["inventory_total_initial"][1][c, s] = raw.inventory_initial[k]
        data["price_usd_per_t"][1][c, s] = b.price[k]
        data["transit_months"][1][c, s] = np.median(draws.transit[k])
        data["output_value_usd_per_t"][1][c, s, where_g] = b.output_value[k]
        for x, node in zip(where_x, exporters, strict=True):
            data["exports"][1][c, s, x] = raw.exports[k, exporters.index(node)]
            data["baseline_exports"][1][c, s, x] = b.imports[k][:, node].sum()
            data["exports_to"][1][c, s, x, where_i] = raw.exports_to[k, exporters.index(node)]
            data["baseline_exports_to"][1][c, s, x, where_i] = b.imports[k][rows, node]
        for r, (i, node) in enumerate(zip(where_i, rows, strict=True)):
            if b.use[k, node] > 0:
                data["inventory"][1][c, i, s] = raw.inventory[k, r]
                data["inventory_initial"][1][c, i, s] = draws.cover[k, :, node] * b.use[k, node]
            if b.final_demand[k, node] <= 0:
                continue
            data["shortfall"][1][c, i, s] = raw.shortfall[k, r]
            data["demand"][1][c, i, s] = raw.demand[k, r]
            data["demand_at_price"][1][c, i, s] = raw.priced[k, r]
            data["consumed"][1][c, i, s] = raw.consumed[k, r]
            data["baseline_demand"][1][c, i, s] = b.final_demand[k, node]
            data["sector_share"][1][c, i, s, where_g] = b.sector_share[k, r]
            data["shortfall_sector"][1][c, i, s, where_g] = sectors[k][r]


def _stage_coords(layout: _Layout) -> dict:
    """Per commodity and stage: unit, basis, content, base year; per region, its name."""
    values = {
        name: np.full(layout.shape("commodity", "stage"), fill, dtype=object)
        for name, fill in (("unit", ""), ("basis", ""), ("content", np.nan), ("base_year", 0))
    }
    names = np.full(layout.shape("commodity", "stage", "region"), "", dtype=object)
    for c, (run, _, ks) in enumerate(layout.parts):
        b = run.baseline
        for k in ks:
            s = layout.stages.index(b.stages[k])
            values["unit"][c, s], values["basis"][c, s] = b.units[k], b.bases[k]
            values["content"][c, s], values["base_year"][c, s] = b.content[k], b.year or 0
            regions = run.draws.region_names[k]
            if len(regions) > 1:
                names[c, s] = regions
    coords = {name: (("commodity", "stage"), array) for name, array in values.items()}
    coords["content"] = (("commodity", "stage"), values["content"].astype(float))
    coords["base_year"] = (("commodity", "stage"), values["base_year"].astype(int))
    coords["unit"] = (("commodity", "stage"), values["unit"].astype(str))
    coords["basis"] = (("commodity", "stage"), values["basis"].astype(str))
    coords["region_name"] = (("commodity", "stage", "region"), names.astype(str))
    return coords


def _stockpile_data(runs: list[CommodityRun]) -> tuple[dict, dict]:
    """Stockpiles of every run along one ``stockpile`` dimension: variables and coordinates."""
    held = [(run, s) for run in runs for s in run.draws.stockpiles]
    samples, horizon = runs[0].draws.samples, runs[0].draws.horizon
    level = [run.raw.stock_level[j] for run in runs for j in range(len(run.draws.stockpiles))]
    release = [run.raw.stock_release[j] for run in runs for j in range(len(run.draws.stockpiles))]
    shape = (len(held), horizon, samples)
    data = {
        "stockpile_level": (("stockpile", "month", "sample"), np.array(level).reshape(shape)),
        "stockpile_release": (("stockpile", "month", "sample"), np.array(release).reshape(shape)),
        "stockpile_initial": (("stockpile", "sample"), np.array([s.level for _, s in held]).reshape(shape[::2])),
        "stockpile_cover": (("stockpile", "sample"), np.array([s.cover for _, s in held]).reshape(shape[::2])),
    }
    coords = {
        "stockpile": [s.name for _, s in held],
        "stockpile_holder": ("stockpile", [s.holder for _, s in held]),
        "stockpile_nodes": ("stockpile", [",".join(np.array(r.baseline.nodes)[s.nodes]) for r, s in held]),
        "stockpile_commodity": ("stockpile", [r.baseline.materials[s.stage] for r, s in held]),
        "stockpile_stage": ("stockpile", [r.baseline.stages[s.stage] for r, s in held]),
    }
    return data, coords


def _edges(runs: list[CommodityRun]) -> list[list]:
    """Every input of every run as [material, stage, input material, input stage, t per t] (for the checks)."""
    edges = []
    for run in runs:
        b = run.baseline
        for d, u in zip(*np.nonzero(b.inputs), strict=True):
            edges.append([b.materials[d], b.stages[d], b.materials[u], b.stages[u], float(b.inputs[d, u])])
    return edges


def assemble(
    runs: list[CommodityRun], stage_order: list[str], attrs: dict, importers: list[str], outputs: Outputs | None = None
) -> xr.Dataset:
    """One Dataset for all commodities of a scenario (stages, sectors, importers or exporters a commodity lacks
    are NaN). ``importers``: every importer asked for, modelled or not, in order. ``outputs``: the variables
    the runs were written into (:class:`Outputs` of the same runs), if they were."""
    outputs = outputs if outputs is not None else Outputs(runs, stage_order, importers)
    layout = outputs.layout
    held, held_coords = _stockpile_data(runs)
    coords = {
        "commodity": layout.materials,
        "importer": layout.importers,
        "stage": layout.stages,
        "sector": layout.sectors,
        "region": list(REGIONS),
        "exporter": layout.exporters,
        "month": np.arange(1, layout.horizon + 1),
        "sample": np.arange(layout.samples),
        **_stage_coords(layout),
        **held_coords,
    }
    ds = xr.Dataset({**_fill(outputs), **held}, coords=coords, attrs=attrs)
    ds.attrs["inputs"] = _edges(runs)
    ds.attrs["not_modelled"] = [
        [run.baseline.commodity, label, why] for run in runs for label, why in run.baseline.not_modelled.items()
    ]
    #: materials of a chain by element other than the run's commodity (importers' demand is at the magnet)
    ds.attrs["lanes"] = [
        m for run in runs for m in dict.fromkeys(run.baseline.materials) if m != run.baseline.commodity
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        ds["shortfall_share"] = ds["shortfall"] / ds["baseline_demand"].where(ds["baseline_demand"] > 0)
    return ds


# -- invariants ---------------------------------------------------------------------------------------------
def check_mass_balance(ds: xr.Dataset, rtol: float = 1e-9) -> float:
    """Assert that every stage balances in every month and sample: production + spare output + new capacity +
    recycling + stockpile releases + users' stock draws = final use + later stages' use + unsold surplus +
    withheld exports; that nothing is used that was not supplied (surplus ≥ 0); that each stage's intermediate
    use is what the stages taking its product needed for their output; that users' stocks and stockpiles fall
    only by what they release, never below zero. Returns the largest residual.
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
    _check_inputs(ds, tol)
    net_draw = ds["inventory_draw"] - ds["inventory_build"]
    _check_stock(ds["inventory_total_initial"], ds["inventory_total"], net_draw, tol, "users' stocks")
    if ds.sizes.get("stockpile", 0):
        _check_stock(ds["stockpile_initial"], ds["stockpile_level"], ds["stockpile_release"], tol, "a stockpile")
    return residual


def _check_inputs(ds: xr.Dataset, tol: float) -> None:
    """Intermediate use of each stage = Σ over the stages it feeds of coefficient × (production + spare output)."""
    needed: dict[tuple[str, str], xr.DataArray] = {}
    for material, stage, upstream_material, upstream, coefficient in ds.attrs.get("inputs", []):
        one = ds.sel(commodity=material, stage=stage)
        made = (one["production"] + one["spare_output"]) * coefficient
        key = (upstream_material, upstream)
        needed[key] = needed[key] + made if key in needed else made
    for (material, stage), need in needed.items():
        gap = float(np.abs(ds["intermediate_use"].sel(commodity=material, stage=stage) - need).max())
        if gap > tol:
            raise AssertionError(
                f"{material}: {stage} delivered {gap:.3g} t more or less than the stages it feeds used"
            )


def _check_stock(initial: xr.DataArray, level: xr.DataArray, outflow: xr.DataArray, tol: float, what: str) -> None:
    before = xr.concat(
        [initial.expand_dims(month=[0]), level.isel(month=slice(None, -1)).assign_coords(month=level.month.values[1:])],
        dim="month",
    )
    expected = before.transpose(*level.dims).values - outflow.transpose(*level.dims).values
    if (
        float(np.nanmax(np.abs(expected - level.values), initial=0.0)) > tol
        or float(np.nanmin(level.values, initial=0)) < -tol
    ):
        raise AssertionError(f"{what} changed by more than it released")


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


def first_short_month(shortfall: np.ndarray, demand: np.ndarray, threshold: float = SHORT_THRESHOLD) -> np.ndarray:
    """First month [sample] in which more than ``threshold`` of demand goes unmet (shortfall and demand
    [month, sample]); inf where that never happens.

    >>> first_short_month(np.array([[0.0, 0.0], [0.5, 0.0], [2.0, 0.001]]), np.full((3, 2), 10.0)).tolist()
    [2.0, inf]
    """
    short = np.nan_to_num(shortfall) > threshold * np.nan_to_num(demand)
    return np.where(short.any(axis=0), np.argmax(short, axis=0) + 1.0, np.inf)


def _first_short(values: np.ndarray) -> dict | None:
    """Percentiles of first short months; None when no sample is ever short."""
    return None if not np.isfinite(values).any() else percentiles(values)


def _stages_with_demand(one: xr.Dataset) -> list[str]:
    return [s for s in one.stage.values if float(np.nan_to_num(one["baseline_demand"].sel(stage=s))) > 0]


def _headline(ds: xr.Dataset, commodity, importer) -> tuple[xr.DataArray, xr.DataArray, str, str, list[str]]:
    """Cumulative shortfall and demand [sample] of one importer and commodity: in the unit of its one stage
    with demand, or in content of the chain's first stage when it has demand at several."""
    one = ds.sel(commodity=commodity, importer=importer)
    with_demand = _stages_with_demand(one)
    if len(with_demand) == 1:
        stage = with_demand[0]
        return (
            one["shortfall"].sel(stage=stage).sum("month"),
            one["demand"].sel(stage=stage).sum("month"),
            str(one["unit"].sel(stage=stage).item()),
            str(one["basis"].sel(stage=stage).item()),
            with_demand,
        )
    content = one["content"].fillna(0)
    first = str(one["basis"].isel(stage=0).item())
    return (
        (one["shortfall"].fillna(0) * content).sum(["stage", "month"]),
        (one["demand"].fillna(0) * content).sum(["stage", "month"]),
        "t",
        f"{first} equivalent",
        with_demand,
    )


def summarise(ds: xr.Dataset, causes: dict | None = None) -> dict:
    """Percentiles per importer and commodity (shortfall in tonnes and as a share of demand, demand over the
    horizon, the first month short, stockpile empty month), per stockpile and per stage price; the shape of
    ``oresight simulate --format json``. Tonnes of different commodities are never added: an importer's own
    ``shortfall_t`` is given only where one commodity is modelled for it."""
    not_modelled = {(c, i): why for c, i, why in ds.attrs.get("not_modelled", [])}
    lanes = set(ds.attrs.get("lanes", []))
    importers = {}
    for importer in ds.importer.values:
        per_commodity = {}
        for commodity in ds.commodity.values:
            one = ds.sel(commodity=commodity, importer=importer)
            if not _stages_with_demand(one):
                if str(commodity) in lanes:  # an element lane without final demand is no unmodelled commodity
                    continue
                reason = not_modelled.get((str(commodity), str(importer)), "no final demand in the data")
                per_commodity[str(commodity)] = {"modelled": False, "note": reason}
                continue
            per_commodity[str(commodity)] = _importer_commodity(ds, commodity, importer)
        modelled = [c for c, v in per_commodity.items() if v.get("modelled", True)]
        entry: dict = {"modelled": bool(modelled)}
        if len(modelled) == 1:
            only = per_commodity[modelled[0]]
            entry.update({key: only[key] for key in ("shortfall_t", "shortfall_share", "unit", "basis")})
        if modelled:
            entry["first_short_month"] = _first_short(
                np.min([_short_months(ds, c, importer) for c in modelled], axis=0)
            )
            values = [_value_at_risk(ds, c, importer) for c in modelled]
            entry["value_at_risk_usd"] = (
                percentiles(np.sum(values, axis=0)) if all(v is not None for v in values) else None
            )
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
        "price_index_peak": price_peaks(ds),
        "notes": list(ds.attrs.get("notes", [])),
    }


def price_peaks(ds: xr.Dataset) -> dict[str, dict]:
    """Percentiles of each price index's peak over the horizon, keyed ``commodity/stage`` and, where an export
    restriction splits the market, ``commodity/stage/<region>`` (e.g. ``china``, ``outside-china``)."""
    peaks = {}
    for c in ds.commodity.values:
        for s in ds.stage.values:
            price = ds["price_index"].sel(commodity=c, stage=s)
            if not bool(price.notnull().all()):
                continue
            peaks[f"{c}/{s}"] = percentiles(price.max("month").values)
            for r in ds.region.values:
                name = str(ds["region_name"].sel(commodity=c, stage=s, region=r).item() or "")
                regional = ds["price_index_region"].sel(commodity=c, stage=s, region=r)
                if name and bool(regional.notnull().all()):
                    peaks[f"{c}/{s}/{name}"] = percentiles(regional.max("month").values)
    return peaks


def _short_months(ds: xr.Dataset, commodity, importer) -> np.ndarray:
    """First short month [sample] of an importer over the stages where it has demand."""
    one = ds.sel(commodity=commodity, importer=importer)
    months = [
        first_short_month(one["shortfall"].sel(stage=s).values, one["demand"].sel(stage=s).values)
        for s in _stages_with_demand(one)
    ]
    return np.min(months, axis=0)


def _importer_commodity(ds, commodity, importer) -> dict:
    one = ds.sel(commodity=commodity, importer=importer)
    short, demand, unit, basis, with_demand = _headline(ds, commodity, importer)
    monthly_share = one["shortfall_share"]
    by_stage = {}
    for stage in with_demand:
        base = float(one["baseline_demand"].sel(stage=stage))
        cumulative = one["shortfall"].sel(stage=stage).sum("month").values
        by_stage[str(stage)] = {
            "unit": str(one["unit"].sel(stage=stage).item()),
            "demand_per_month": round(base, 6),
            "shortfall_t": percentiles(cumulative),
            "peak_monthly_share": percentiles(monthly_share.sel(stage=stage).max("month").values),
            "priced_out_t": percentiles((one["demand"] - one["demand_at_price"]).sel(stage=stage).sum("month").values),
        }
    sectors = one["shortfall_sector"].sum(["stage", "month"], min_count=1)
    value = _value_at_risk(ds, commodity, importer)
    return {
        "unit": unit,
        "basis": basis,
        "demand_t": percentiles(demand.values),
        "value_at_risk_usd": percentiles(value) if value is not None else None,
        "output_at_risk_usd": _output_at_risk(one, with_demand),
        "shortfall_t": percentiles(short.values),
        "shortfall_share": percentiles(short.values / demand.values),
        "first_short_month": _first_short(_short_months(ds, commodity, importer)),
        "by_stage": by_stage,
        "by_sector_p50": {
            str(g): round(float(np.nanmedian(sectors.sel(sector=g).values)), 6)
            for g in sectors.sector.values
            if bool(sectors.sel(sector=g).notnull().any())
        },
        "first_short_month_by_sector": _sector_first_short(one, with_demand),
    }


def _value_at_risk(ds: xr.Dataset, commodity, importer) -> np.ndarray | None:
    """USD [sample] of the shortfall over the horizon at normal prices, summed over the stages with demand;
    None where a stage with demand has no price."""
    one = ds.sel(commodity=commodity, importer=importer)
    stages = _stages_with_demand(one)
    prices = one["price_usd_per_t"].sel(stage=stages)
    if not bool(prices.notnull().all()):
        return None
    return (one["shortfall"].sel(stage=stages).sum("month") * prices).sum("stage").values


def _output_at_risk(one: xr.Dataset, stages: list[str]) -> dict[str, dict]:
    """USD [percentiles] of downstream output that the shortfall of each sector holds up, for sectors with a
    sourced value per tonne (others are not attested and left out)."""
    out = {}
    for g in one.sector.values:
        worth = one["output_value_usd_per_t"].sel(stage=stages, sector=g)
        if not bool(worth.notnull().any()):
            continue
        held_up = (one["shortfall_sector"].sel(stage=stages, sector=g).sum("month") * worth.fillna(0)).sum("stage")
        out[str(g)] = percentiles(held_up.values)
    return out


def _sector_first_short(one: xr.Dataset, stages: list[str]) -> dict:
    """First short month per end-use sector (more than the threshold of the sector's demand unmet), over the
    stages with demand."""
    out = {}
    for g in one.sector.values:
        short = one["shortfall_sector"].sel(sector=g)
        if not bool(short.notnull().any()):
            continue
        months = [
            first_short_month(
                short.sel(stage=s).values,
                one["demand"].sel(stage=s).values * float(one["sector_share"].sel(stage=s, sector=g)),
            )
            for s in stages
            if float(np.nan_to_num(one["sector_share"].sel(stage=s, sector=g))) > 0
        ]
        if months:
            out[str(g)] = _first_short(np.min(months, axis=0))
    return out


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
