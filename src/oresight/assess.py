"""Assess supply risk for an importer (a country or a bloc): concentration metrics for every commodity and
stage, the importer's dependence, and the published methods side by side — each score with its interval.

>>> import oresight
>>> world = oresight.load()
>>> table = oresight.assess(world, importer="US", year=2024, commodities=["rare-earths"])
>>> table.set_index("stage").loc["mining", "top_country"]
'CHN'
>>> bool((table.set_index("stage")["hhi"]["refining"] > table.set_index("stage")["hhi"]["mining"]))
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from oresight.errors import DataNotAttestedError, UnknownNameError
from oresight.eu_inputs import EUInputs, eu_inputs
from oresight.exposure import (
    calc_import_weights_from_facts,
    calc_reliance_from_facts,
    political_risk,
    reporters_of,
    wgi_mean,
)
from oresight.facts import calc_year_as_of
from oresight.methods import METHODS
from oresight.methods.eu_jrc import calc_eu_supply_risk
from oresight.methods.geopolrisk import MISSING_RISK, calc_characterisation_factor, calc_geopolrisk
from oresight.methods.usgs_supply_risk import calc_usgs_supply_risk
from oresight.metrics import (
    calc_benchmark_flag,
    calc_bottleneck,
    calc_country_share,
    calc_effective_suppliers,
    calc_governance_hhi,
    calc_hhi,
    calc_n_minus_1,
    calc_top_country,
    calc_top_share,
    calc_wgi_eu_scaled,
    calc_wgi_usgs_scaled,
)
from oresight.taxonomy import Importer
from oresight.taxonomy.countries import AGGREGATES
from oresight.world import World, calc_shares_from_published, calc_volume_shares

__all__ = ["METHOD_CHOICES", "Inputs", "assess", "assess_dataset", "explain"]

METHOD_CHOICES = ("concentration", "geopolrisk", "eu", "usgs")
WMD_SERIES = "world-mining-data"
#: below this share of world output attributed to named countries, concentration is not stated
MIN_ATTRIBUTED = 0.5


@dataclass
class Inputs:
    """Everything the methods need, as labelled arrays, with the sources they came from."""

    importer: Importer
    year: int | None
    supply: xr.Dataset  # share/low/high over (commodity, stage, country)
    supply_info: xr.Dataset  # year, method, source, world_total, unit, basis over (commodity, stage)
    geopolrisk_shares: xr.Dataset  # production shares for GeoPolRisk (WMD where it covers the year)
    reliance: xr.Dataset  # value/low/high over (commodity, stage)
    weights: xr.DataArray  # import weights over (commodity, partner)
    weights_stage: xr.DataArray  # over commodity: the stage the trade data describe ('' = the commodity as a whole)
    weight_notes: dict[str, list[str]]
    risk: xr.DataArray  # political-stability risk over partner
    wgi: xr.DataArray  # mean of six WGI over country
    eol_rir: xr.DataArray  # over commodity
    si_sr: xr.DataArray  # over commodity
    import_concentration: pd.DataFrame  # per commodity: top partner, its share, HHI of imports
    sources: dict[str, set[str]]
    #: GeoPolRisk from bilateral trade as its reference implementation computes it: weights over (commodity,
    #: stage, partner), price (USD/kg) over (commodity, stage), and the year of its data
    trade_weights: xr.DataArray | None = None
    trade_price: xr.DataArray | None = None
    geopolrisk_year: int | None = None
    #: dependence derived from trade and production, one row per (commodity, stage) (world.dependence_table)
    dependence: pd.DataFrame | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    #: the EU method's inputs (five-year averages, the sourcing mix, its trade parameters), built when it runs
    eu: EUInputs | None = None


# -- input assembly ---------------------------------------------------------------------------------------------
def _resolve_items(world: World, commodities: Iterable[str] | None, stages: Iterable[str] | None):
    ids = None
    if commodities:
        ids = []
        for name in commodities:
            cid, implied = world.resolve(name)
            ids.append(cid)
            if implied and not stages:
                stages = [implied]
    stage_ids = [world.tax.stage(s) for s in stages] if stages else None
    return ids, stage_ids


def _wmd_year(world: World, year: int | None) -> int | None:
    """The World Mining Data year "as of" ``year`` (the method's production data)."""
    years = world.facts.loc[world.facts["series"] == WMD_SERIES, "year"].dropna().unique()
    return calc_year_as_of(years, year) if len(years) else None


def _geopolrisk_shares(world: World, supply: xr.Dataset, year: int | None) -> xr.Dataset:
    """GeoPolRisk's own production data (World Mining Data) of ``year``, else the supply shares."""
    if year is None:
        return supply[["share", "low", "high"]]
    wmd = world.facts[(world.facts["series"] == WMD_SERIES) & (world.facts["year"] == year)]
    if wmd.empty:
        return supply[["share", "low", "high"]]
    long = calc_volume_shares(wmd, year, {})
    cube = long.set_index(["commodity", "stage", "country"])[["share", "low", "high"]].to_xarray()
    cube = cube.reindex(commodity=supply.commodity, stage=supply.stage)
    covered = cube["share"].notnull().any("country")
    countries = sorted(set(supply.country.values) | set(cube.country.values))
    merged = supply[["share", "low", "high"]].reindex(country=countries)
    cube = cube.reindex(country=merged.country)
    return xr.where(covered, cube, merged)


def _by_reporter(world: World, measure: str, reporters: tuple[str, ...]) -> dict[tuple[str, str], pd.DataFrame]:
    """Facts of one measure for the reporters, grouped by (reporter, commodity)."""
    rows = world.select(measure=measure, country=list(reporters))
    return {(str(c), str(k)): g for (c, k), g in rows.groupby(["country", "commodity"])}


def _records_by_reporter(world: World, measure: str, reporters) -> dict[tuple[str, str], list[dict]]:
    """Facts of one measure for the reporters as records, grouped by (reporter, commodity)."""
    rows = world.select(measure=measure, country=list(reporters))
    grouped: dict[tuple[str, str], list[dict]] = {}
    for record in rows.to_dict("records"):  # one conversion, then grouped: a conversion per group costs more
        grouped.setdefault((str(record["country"]), str(record["commodity"])), []).append(record)
    return grouped


def _reliance(importer: Importer, commodities, stages, year, nir) -> tuple[xr.Dataset, set[str]]:
    values = np.full((len(commodities), len(stages), 3), np.nan)
    sources: set[str] = set()
    reporters = reporters_of(importer)
    for i, commodity in enumerate(commodities):
        if not any((r, commodity) in nir for r in reporters):
            continue
        for j, stage in enumerate(stages):
            per_reporter = [calc_reliance_from_facts(nir.get((r, commodity), []), stage, year) for r in reporters]
            if all(r.attested for r in per_reporter):
                values[i, j] = [np.mean([getattr(r, k) for r in per_reporter]) for k in ("value", "low", "high")]
                sources.update(s for r in per_reporter for s in r.sources)
    coords = {"commodity": list(commodities), "stage": list(stages)}
    dataset = xr.Dataset(
        {k: (("commodity", "stage"), values[..., n]) for n, k in enumerate(("value", "low", "high"))}, coords=coords
    )
    return dataset, sources


def _derived_dependence(world: World, importer: Importer, reliance: xr.Dataset, year: int | None) -> pd.DataFrame:
    """Dependence derived from trade and production for the (commodity, stage) items with HS codes
    (:func:`oresight.world.dependence.dependence_table`); published reliance stays where it exists."""
    from oresight.world.dependence import TABLE_COLUMNS, dependence_table
    from oresight.world.trade import trade_pairs

    listed = trade_pairs(world)
    pairs = [
        (str(c), str(s)) for c in reliance.commodity.values for s in reliance.stage.values if (str(c), str(s)) in listed
    ]
    table = dependence_table(world, importer, year, pairs)
    return table if len(table) else pd.DataFrame(columns=TABLE_COLUMNS)


def _fill_reliance(reliance: xr.Dataset, dependence: pd.DataFrame) -> xr.Dataset:
    """Published reliance where given, else the reliance derived from trade and production; ``method`` says
    which, per item."""
    method = xr.full_like(reliance["value"], "", dtype=object)
    method = method.where(reliance["value"].isnull(), "published")
    reliance = reliance.assign(method=method)
    for row in dependence.itertuples():
        at = {"commodity": row.commodity, "stage": row.stage}
        if not np.isnan(float(reliance["value"].loc[at])) or np.isnan(row.derived_import_reliance):
            continue
        low, high = row.derived_import_reliance_low, row.derived_import_reliance_high
        reliance["value"].loc[at] = row.derived_import_reliance
        reliance["low"].loc[at], reliance["high"].loc[at] = low, high
        reliance["method"].loc[at] = "derived from trade and production"
    return reliance


def _domestic_production(world: World, members, commodity: str, stage: str, year: int | None) -> float:
    rows = world.select(commodity=commodity, stage=stage, measure="production", year=year)
    rows = rows[rows["series"] == WMD_SERIES] if (rows["series"] == WMD_SERIES).any() else rows
    return float(rows[rows["country"].isin(members)]["value"].sum()) if len(rows) else 0.0


def _combined_shares(published_shares: dict, year) -> dict[tuple[str, str], tuple[xr.Dataset, list[str]]]:
    """Published import shares combined across sources, per (reporter, commodity), once per assessment."""
    return {key: calc_shares_from_published(facts, year, dim="partner") for key, facts in published_shares.items()}


def _weights(world: World, importer: Importer, commodities, year, combined, nir):
    """Import weights over (commodity, partner), the stage their trade data describe, notes and sources."""
    reporters = reporters_of(importer)
    quantities = _by_reporter(world, "import_quantity", reporters)
    empty = world.facts.iloc[:0]
    frames, stages, notes, sources = {}, [], {}, set()
    for commodity in commodities:
        own = [quantities[(r, commodity)] for r in reporters if (r, commodity) in quantities]
        stage = str(own[0]["stage"].iat[0]) if own else ""
        stages.append(stage)
        if not own and not any((r, commodity) in combined for r in reporters):
            continue
        p = _domestic_production(world, importer.members, commodity, stage or "mining", year) if own else 0.0
        per_reporter = []
        try:
            for r in reporters:
                reliance = calc_reliance_from_facts(nir.get((r, commodity), []), stage or "refining", year)
                weights, used, member_notes = calc_import_weights_from_facts(
                    quantities.get((r, commodity), empty),
                    combined.get((r, commodity)),
                    reliance,
                    importer.members,
                    year,
                    p,
                )
                per_reporter.append(weights.rename(r))
                sources.update(used)
                notes.setdefault(commodity, []).extend(f"{r}: {n}" for n in member_notes)
        except DataNotAttestedError as exc:
            notes[commodity] = [f"import weights not attested: {exc} (for {r})"]
            continue
        table = pd.concat(per_reporter, axis=1).fillna(0.0)
        frames[commodity] = table.mean(axis=1)
        if table.shape[1] > 1:
            notes[commodity].append("bloc: members' weights averaged with equal weight")
    stage_array = xr.DataArray(stages, dims="commodity", coords={"commodity": list(commodities)})
    table = pd.DataFrame(frames).T.reindex(list(commodities)) if frames else pd.DataFrame(index=list(commodities))
    array = xr.DataArray(
        table.to_numpy(float),
        dims=("commodity", "partner"),
        coords={"commodity": list(commodities), "partner": table.columns.to_numpy(str)},
    )
    return array, stage_array, notes, sources


def _trade_geopolrisk(world: World, importer: Importer, commodities, stages, year: int | None):
    """GeoPolRisk weights q_i / (p + Σq) and prices from gross BACI trade for every raw material of the method
    (``oresight.raw_materials``), over (commodity, stage, partner), with their sources and notes."""
    from oresight.raw_materials import geopolrisk_inputs, raw_materials

    wanted = [m.name for m in raw_materials().values() if m.commodity in commodities and m.stage in stages]
    if year is None or not wanted:
        return None, None, set(), []
    try:
        items = geopolrisk_inputs(world, importer.label, year, wanted)
    except DataNotAttestedError as exc:
        return None, None, set(), [f"GeoPolRisk from trade not computed: {exc}"]
    if not items:
        return None, None, set(), []
    partners = sorted({p for i in items for p in i.imports["partner"]})
    frames, prices, sources = [], {}, set()
    for item in items:
        q = item.imports["tonnes"].fillna(0.0)
        total = float(q.sum()) + item.domestic_production
        at = (item.material.commodity, item.material.stage)
        weight = q / total if total else q * np.nan
        frames.append(
            pd.DataFrame({"commodity": at[0], "stage": at[1], "partner": item.imports["partner"], "w": weight})
        )
        prices[at] = float(item.imports["usd"].sum() / 1000 / q.sum()) if q.sum() else np.nan
        sources.update(item.sources)
    axes = {"commodity": list(commodities), "stage": list(stages)}
    long = pd.concat(frames, ignore_index=True).set_index(["commodity", "stage", "partner"])["w"]
    weights = long.to_xarray().reindex(**axes, partner=partners)
    price = pd.Series(prices).rename_axis(["commodity", "stage"]).to_xarray().reindex(**axes)
    return weights, price, sources, []


def _import_concentration(importer: Importer, commodities, combined) -> pd.DataFrame:
    """Per commodity: the importer's largest partner, its share of imports and the HHI of imports, from
    published import shares (single importers only; a bloc's members' import volumes are not comparable)."""
    columns = ["commodity", "import_top_partner", "import_top_share", "import_hhi"]
    reporters = reporters_of(importer)
    if len(reporters) > 1:
        return pd.DataFrame(columns=columns)
    rows = []
    for commodity in commodities:
        if (reporters[0], commodity) not in combined:
            continue
        shares = combined[(reporters[0], commodity)][0]["share"]
        partners, values = shares.partner.values.astype(str), shares.values
        named = np.array([p not in AGGREGATES for p in partners])
        if not named.any():
            continue
        top = int(np.argmax(np.where(named, values, -1)))
        rows.append(
            {
                "commodity": commodity,
                "import_top_partner": partners[top],
                "import_top_share": float(values[top]),
                "import_hhi": float((values[named] ** 2).sum()),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _eu_parameters(world: World, commodities) -> tuple[xr.DataArray, xr.DataArray]:
    """The EU's EOL-RIR and SI_SR per commodity (where several EU materials map to one commodity, the first of its
    EU names)."""
    material = {}
    for measure in ("eol_rir", "si_sr"):
        facts = world.select(measure=measure)
        by_commodity: dict[str, list[tuple[str, float]]] = {}
        for commodity, basis, value in zip(facts["commodity"], facts["basis"], facts["value"], strict=True):
            by_commodity.setdefault(commodity, []).append((basis.lower(), value))
        chosen = []
        for commodity in commodities:
            names = [n.lower() for n in world.tax.commodities[commodity].eu]
            options = by_commodity.get(commodity, [])
            ranked = sorted(options, key=lambda o: next((k for k, n in enumerate(names) if o[0].startswith(n)), 99))
            chosen.append(float(ranked[0][1]) if ranked else np.nan)
        material[measure] = xr.DataArray(chosen, dims="commodity", coords={"commodity": list(commodities)})
    return material["eol_rir"], material["si_sr"]


def gather_inputs(
    world: World,
    importer: str | Importer = "US+JP",
    year: int | None = None,
    commodities: Iterable[str] | None = None,
    stages: Iterable[str] | None = None,
) -> Inputs:
    """Assemble the inputs of all methods for one importer and year."""
    importer = importer if isinstance(importer, Importer) else world.tax.importer(importer)
    ids, stage_ids = _resolve_items(world, commodities, stages)
    supply = world.supply_dataset(year)
    if ids is not None:
        missing = [c for c in ids if c not in supply.commodity.values]
        if missing:
            raise DataNotAttestedError(f"no supply data for {', '.join(missing)}" + (f" in {year}" if year else ""))
        supply = supply.sel(commodity=ids)
    if stage_ids is not None:
        supply = supply.sel(stage=[s for s in stage_ids if s in supply.stage.values])
    commodities, stages = list(supply.commodity.values), list(supply.stage.values)
    info = supply.reset_coords()[["year", "method", "source", "world_total", "unit", "basis"]]
    supply = supply.reset_coords(drop=True)
    reporters = reporters_of(importer)
    nir = _records_by_reporter(world, "net_import_reliance", reporters)
    reliance, reliance_sources = _reliance(importer, commodities, stages, year, nir)
    dependence = _derived_dependence(world, importer, reliance, year)
    reliance = _fill_reliance(reliance, dependence)
    reliance_sources |= {s for row in dependence["dependence_sources"] for s in row.split(";") if s}
    combined = _combined_shares(_by_reporter(world, "import_share", reporters), year)
    weights, weights_stage, weight_notes, weight_sources = _weights(world, importer, commodities, year, combined, nir)
    gpr_year = _wmd_year(world, year)
    trade_weights, trade_price, trade_sources, notes = _trade_geopolrisk(world, importer, commodities, stages, gpr_year)
    if trade_weights is not None and gpr_year != year:
        notes.append(f"GeoPolRisk: World Mining Data and trade of {gpr_year} stand in for {year or 'the latest year'}")
    risk_source = next((s for s in sorted(weight_sources) if s.startswith("geopolrisk")), None)
    risk = political_risk(world, gpr_year if trade_weights is not None else year, source=risk_source)
    wgi = wgi_mean(world, year)
    eol, si = _eu_parameters(world, commodities)
    return Inputs(
        importer=importer,
        year=year,
        supply=supply,
        supply_info=info,
        geopolrisk_shares=_geopolrisk_shares(world, supply, gpr_year if trade_weights is not None else year),
        reliance=reliance,
        weights=weights,
        weights_stage=weights_stage,
        weight_notes=weight_notes,
        risk=risk,
        wgi=wgi,
        eol_rir=eol,
        si_sr=si,
        import_concentration=_import_concentration(importer, commodities, combined),
        dependence=dependence,
        trade_weights=trade_weights,
        trade_price=trade_price,
        geopolrisk_year=gpr_year if trade_weights is not None else None,
        notes=notes,
        sources={
            "reliance": reliance_sources,
            "imports": weight_sources | trade_sources,
            "risk": set(risk.attrs["sources"]),
            "wgi": set(wgi.attrs["sources"]),
        },
    )


# -- computation ----------------------------------------------------------------------------------------------
def assess_dataset(
    world: World,
    importer: str | Importer = "US+JP",
    year: int | None = None,
    commodities: Iterable[str] | None = None,
    stages: Iterable[str] | None = None,
    methods: Sequence[str] = METHOD_CHOICES,
    country: Sequence[str] = (),
    inputs: Inputs | None = None,
) -> xr.Dataset:
    """All metrics and method scores over (commodity, stage), with ``_low``/``_high`` intervals."""
    unknown = [m for m in methods if m not in METHOD_CHOICES]
    if unknown:
        raise UnknownNameError("method", unknown[0], list(METHOD_CHOICES))
    inputs = inputs or gather_inputs(world, importer, year, commodities, stages)
    supply, members = _scale_alternative_routes(world, inputs.supply, inputs.supply_info), inputs.importer.members
    # concentration is stated only where sources attribute at least half of world output to countries
    named = supply["share"].drop_sel(country=[c for c in AGGREGATES if c in supply.country.values])
    attributed = named.sum("country", min_count=1)
    supply = supply.where(attributed >= MIN_ATTRIBUTED)
    share = supply["share"]
    out = xr.Dataset(coords={"commodity": supply.commodity, "stage": supply.stage})
    out["year"] = inputs.supply_info["year"]
    out["attributed"] = attributed
    out["hhi"] = calc_hhi(share)
    hhi_at_low, hhi_at_high = calc_hhi(supply["low"]), calc_hhi(supply["high"])
    out["hhi_low"] = np.minimum(hhi_at_low, hhi_at_high)
    out["hhi_high"] = np.maximum(hhi_at_low, hhi_at_high)
    out["effective_suppliers"] = calc_effective_suppliers(share)
    out["top_country"] = calc_top_country(share)
    out["top_share"] = calc_top_share(share, 1)
    out["top3_share"] = calc_top_share(share, 3)
    out["n_minus_1"] = calc_n_minus_1(share)
    for code in country:
        out[f"share_{code}"] = calc_country_share(share, code)
    # a member the stage's sources do not list makes an unknown amount (within ROW), not none
    listed = [m for m in members if m in share.country.values]
    attested = share.sel(country=listed).notnull().any("country") if listed else xr.zeros_like(out["hhi"], bool)
    out["importer_share"] = calc_country_share(share, members).where(attested)
    third = share.drop_sel(country=[m for m in members if m in share.country.values])
    out["top_third_country"] = calc_top_country(third)
    out["top_third_share"] = calc_top_share(third, 1)
    wgi_scaled = calc_wgi_eu_scaled(inputs.wgi)
    out["governance_hhi"] = calc_governance_hhi(share, wgi_scaled)
    out["crma_benchmark_exceeded"] = calc_benchmark_flag(share, members).where(share.notnull().any("country"))
    out["bottleneck"] = out["stage"] == calc_bottleneck(out["hhi"])
    out["import_reliance"] = inputs.reliance["value"]
    out["import_reliance_low"] = inputs.reliance["low"]
    out["import_reliance_high"] = inputs.reliance["high"]
    out["import_reliance_method"] = inputs.reliance["method"]
    out["vulnerability"] = out["top_third_share"] * (1 - out["importer_share"].fillna(0))
    bounds = {"": ("share", "value"), "_low": ("low", "low"), "_high": ("high", "high")}
    if "eu" in methods and inputs.eu is None:
        inputs.eu = eu_inputs(world, inputs.importer, inputs.year, inputs.supply, inputs.reliance)
    for method in methods:
        if method == "concentration":
            continue
        results = {
            suffix: _method(method, inputs, supply_var, reliance_var, supply)
            for suffix, (supply_var, reliance_var) in bounds.items()
        }
        if method == "eu":  # stated only where the stage's concentration is (half of world output attributed)
            results = {k: v.where(share.notnull().any("country")) for k, v in results.items()}
        out[method] = results[""]["score"]
        out[f"{method}_low"] = np.minimum(results["_low"]["score"], results["_high"]["score"])
        out[f"{method}_high"] = np.maximum(results["_low"]["score"], results["_high"]["score"])
        for name, value in results[""].data_vars.items():
            if name not in ("score", "contribution"):
                out[f"{method}_{name}"] = value
    out.attrs.update(
        importer=inputs.importer.label,
        members=list(members),
        year=year if year is not None else "latest",
        methods={m: METHODS[m].VERSION for m in methods if m in METHODS},
    )
    return out


def _scale_alternative_routes(world: World, supply: xr.Dataset, info: xr.Dataset) -> xr.Dataset:
    """Where a chain's stages are alternative routes to one product, each route's country shares become shares
    of the product's world supply (route output over all routes' output), so that the concentration of one route
    is never read as the product's."""
    for commodity in supply.commodity.values:
        chain = world.tax.chain(str(commodity))
        if not chain.alternative_routes:
            continue
        totals = xr.DataArray(
            [_route_total(world, str(commodity), s, info) for s in supply.stage.values],
            dims="stage",
            coords={"stage": supply.stage.values},
        )
        if not float(totals.sum()) > 0:
            continue
        fraction = totals / totals.sum()
        for var in ("share", "low", "high"):
            supply[var].loc[{"commodity": commodity}] = supply[var].sel(commodity=commodity) * fraction
    return supply


def _route_total(world: World, commodity: str, stage: str, info: xr.Dataset) -> float:
    """World output of one route in the year the assessment uses for it (0 where no source gives it)."""
    year = int(info["year"].sel(commodity=commodity, stage=stage))
    try:
        return float(world.stage_view(commodity, stage, year or None).world_total)
    except (DataNotAttestedError, KeyError):
        return 0.0


def _method(method: str, inputs: Inputs, supply_var: str, reliance_var: str, supply: xr.Dataset) -> xr.Dataset:
    reliance = inputs.reliance[reliance_var]
    if method == "geopolrisk":
        return _geopolrisk(inputs, supply_var, supply)
    if method == "eu":
        eu = inputs.eu
        return calc_eu_supply_risk(
            eu.global_supply[supply_var],
            eu.wgi_scaled,
            eu.t_global,
            eu.sourcing[reliance_var],
            eu.t_sourcing,
            import_reliance=reliance.fillna(1.0),
            eol_rir=inputs.eol_rir.fillna(0.0),
            si_sr=inputs.si_sr.fillna(1.0),
            supply_basis=eu.supply_basis,
        )
    return calc_usgs_supply_risk(supply[supply_var], calc_wgi_usgs_scaled(inputs.wgi), trade_exposure=reliance)


def _geopolrisk(inputs: Inputs, supply_var: str, supply: xr.Dataset) -> xr.Dataset:
    """GeoPolRisk over (commodity, stage): from the published test case's import quantities where it gives them,
    else from bilateral trade (the reference's inputs), else published import shares × net import reliance."""
    shares = inputs.geopolrisk_shares[supply_var]
    has_supply = supply["share"].notnull().any("country")
    result = calc_geopolrisk(shares, inputs.weights, inputs.risk).where(has_supply)
    # trade data of one stage (ores, say) speak for that stage only; commodity-wide import shares for all
    matches = (inputs.weights_stage == "") | (inputs.weights_stage == inputs.supply.stage)
    given = inputs.weights.notnull().any("partner") & matches
    result = result.where(given)
    if inputs.trade_weights is None:
        return result
    risk = inputs.risk.reindex(partner=inputs.trade_weights.partner).fillna(MISSING_RISK)
    from_trade = calc_geopolrisk(shares, inputs.trade_weights, risk).where(has_supply)
    # import quantities a source gives for the importer (the test case) win; bilateral trade beats the
    # approximation by published import shares × net import reliance
    exact = given & (inputs.weights_stage != "")
    use_trade = ~exact & inputs.trade_weights.notnull().any("partner")
    out = xr.Dataset({k: xr.where(use_trade, from_trade[k], result[k]) for k in ("hhi", "wta", "score")})
    price = inputs.trade_price.reindex_like(out["score"])
    out["cf"] = calc_characterisation_factor(out["score"], price).where(use_trade)
    return out


def assess(
    world: World,
    importer: str | Importer = "US+JP",
    year: int | None = None,
    commodities: Iterable[str] | None = None,
    stages: Iterable[str] | None = None,
    methods: Sequence[str] = METHOD_CHOICES,
    country: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per commodity and stage with data: concentration, dependence and method scores, ranked by
    the screening indicator ``vulnerability`` (largest third-country share × the share of world output the
    importer does not make itself), with a ``reason`` and the supply ``source``."""
    inputs = gather_inputs(world, importer, year, commodities, stages)
    data = assess_dataset(world, inputs.importer, year, methods=methods, country=country, inputs=inputs)
    table = data.drop_vars([v for v in data.coords if v not in ("commodity", "stage")]).to_dataframe().reset_index()
    info = inputs.supply_info[["source", "basis", "method"]].to_dataframe().reset_index()
    info = info.rename(columns={"method": "share_method"})
    table = table.merge(info, on=["commodity", "stage"], how="left")
    table = table[table["hhi"].notna()].merge(inputs.import_concentration, on="commodity", how="left")
    table = _with_dependence(table, inputs.dependence)
    table["year"] = table["year"].astype(int)
    table["year_note"] = _year_notes(table["year"], year, inputs.notes)
    table["importer"] = inputs.importer.label
    if inputs.eu is not None:
        table["eu_years"] = f"{inputs.eu.first}-{inputs.eu.last}"
        notes = inputs.eu.notes
        table["eu_notes"] = [
            "; ".join(notes.get((c, s), [])) for c, s in zip(table["commodity"], table["stage"], strict=True)
        ]
    table["reason"] = [_reason(world, inputs.importer, row) for row in table.itertuples()]
    table = table.sort_values(["vulnerability", "hhi"], ascending=False).reset_index(drop=True)
    for column in ("bottleneck", "crma_benchmark_exceeded"):
        table[column] = table[column].astype(bool)
    return table


def _year_notes(years: pd.Series, year: int | None, notes: list[str]) -> list[str]:
    """Say where data of another year stand in for the year asked (the "as of" rule: the latest no later than
    it, else the earliest after it), and any note of the inputs (GeoPolRisk's data year)."""
    extra = "; ".join(notes)
    out = []
    for used in years:
        text = f"{used} data stand in for {year}" if year is not None and used != year else ""
        out.append("; ".join(t for t in (text, extra) if t))
    return out


def _with_dependence(table: pd.DataFrame, dependence: pd.DataFrame | None) -> pd.DataFrame:
    """Top import partner from bilateral trade where no published import shares give one, and the sources of the
    derived dependence (trade and production) of each row."""
    if dependence is None or dependence.empty:
        return table.assign(dependence_sources="", dependence_notes="", import_top_partner_method="")
    keys = ["commodity", "stage"]
    derived = dependence[
        [*keys, "top_partner", "top_partner_share", "dependence_sources", "dependence_notes", "derived_import_reliance"]
    ]
    table = table.merge(derived, on=keys, how="left")
    has_published = table["import_top_partner"].notna() & (table["import_top_partner"] != "")
    fill = ~has_published & table["top_partner"].notna()
    table["import_top_partner_method"] = np.where(
        has_published, "published import shares", np.where(fill, "bilateral trade (tonnes)", "")
    )
    table.loc[fill, "import_top_partner"] = table.loc[fill, "top_partner"]
    table.loc[fill, "import_top_share"] = table.loc[fill, "top_partner_share"]
    table["dependence_sources"] = table["dependence_sources"].fillna("")
    table["dependence_notes"] = table["dependence_notes"].fillna("")
    return table.drop(columns=["top_partner", "top_partner_share"])


def _reason(world: World, importer: Importer, row) -> str:
    names = world.tax.countries
    parts = []
    if row.top_third_country:
        parts.append(
            f"{names.name(row.top_third_country)} supplies {100 * row.top_third_share:.0f}% of world {row.stage}"
        )
    own = row.importer_share
    if math.isnan(own):
        parts.append(f"{importer.label}'s output not attested")
    else:
        parts.append(f"{importer.label} makes {100 * own:.0f}%" if own >= 0.005 else f"{importer.label} makes none")
    if not math.isnan(row.import_reliance):
        parts.append(f"net import reliance {100 * row.import_reliance:.0f}%")
    top_partner = getattr(row, "import_top_partner", None)
    if isinstance(top_partner, str) and top_partner:
        parts.append(f"{100 * row.import_top_share:.0f}% of imports from {names.name(top_partner)}")
    return "; ".join(parts)


# -- explanation ------------------------------------------------------------------------------------------------
def explain(
    world: World,
    commodity: str,
    importer: str | Importer = "US+JP",
    year: int | None = None,
    stage: str | None = None,
    methods: Sequence[str] = METHOD_CHOICES,
) -> dict:
    """The factor breakdown of one commodity: per stage the top suppliers, every method's factors and the
    contributions of countries or partners to its score, the notes on approximations, and the sources."""
    inputs = gather_inputs(world, importer, year, [commodity], [stage] if stage else None)
    data = assess_dataset(world, inputs.importer, year, methods=methods, inputs=inputs)
    commodity_id = str(inputs.supply.commodity.values[0])
    stages = []
    for stage_id in inputs.supply.stage.values:
        row = data.sel(commodity=commodity_id, stage=stage_id)
        if np.isnan(float(row["hhi"])):
            continue
        shares = inputs.supply["share"].sel(commodity=commodity_id, stage=stage_id).dropna("country")
        top = shares.sortby(shares, ascending=False).to_series().head(8)
        entry = {
            "stage": str(stage_id),
            "year": int(row["year"]),
            "supply_source": str(inputs.supply_info["source"].sel(commodity=commodity_id, stage=stage_id).item()),
            "top_suppliers": {str(k): float(v) for k, v in top.items()},
            "metrics": {
                k: _plain(row[k])
                for k in (
                    "hhi",
                    "effective_suppliers",
                    "top_country",
                    "top_share",
                    "top3_share",
                    "n_minus_1",
                    "governance_hhi",
                    "crma_benchmark_exceeded",
                    "bottleneck",
                    "import_reliance",
                )
            },
            "methods": {
                m: _explain_method(m, inputs, data, commodity_id, str(stage_id)) for m in methods if m in METHODS
            },
        }
        stages.append(entry)
    used = {s for e in stages for s in e["supply_source"].split(";") if s}
    used |= set().union(*inputs.sources.values())
    return {
        "commodity": commodity_id,
        "importer": inputs.importer.label,
        "members": list(inputs.importer.members),
        "year": year,
        "stages": stages,
        "sources": [world.source(s) for s in sorted(used) if s in world.sources.index],
    }


def _explain_method(method: str, inputs: Inputs, data: xr.Dataset, commodity: str, stage: str) -> dict:
    module = METHODS[method]
    row = data.sel(commodity=commodity, stage=stage)
    values = {
        k.removeprefix(f"{method}_"): _plain(row[k])
        for k in data.data_vars
        if k.startswith(f"{method}_") and not k.endswith(("_low", "_high"))
    }
    # factors are numbers; a choice the method made (the EU's supply basis) is said in the notes
    factors = {k: v for k, v in values.items() if not isinstance(v, str)}
    choices = [f"{k.replace('_', ' ')}: {v}" for k, v in values.items() if isinstance(v, str)]
    result = {
        "name": module.NAME,
        "version": module.VERSION,
        "score": _plain(row[method]),
        "low": _plain(row[f"{method}_low"]),
        "high": _plain(row[f"{method}_high"]),
        "factors": factors,
        "inputs": list(module.INPUTS),
        "notes": [*choices, *inputs.weight_notes.get(commodity, [])],
    }
    if method == "geopolrisk" and commodity in inputs.weights.commodity.values:
        weights = inputs.weights.sel(commodity=commodity).dropna("partner")
        risk = inputs.risk
        if weights.size == 0 and inputs.trade_weights is not None:
            weights = inputs.trade_weights.sel(commodity=commodity, stage=stage).dropna("partner")
            risk = risk.reindex(partner=weights.partner).fillna(MISSING_RISK)
            result["notes"].append(
                f"imports by partner: gross CEPII BACI HS92 trade of {inputs.geopolrisk_year}, the method's "
                "raw-material HS codes (taxonomy/geopolrisk_materials.csv)"
            )
        detail = calc_geopolrisk(inputs.geopolrisk_shares["share"].sel(commodity=commodity, stage=stage), weights, risk)
        result["contributions"] = _top_contributions(detail["contribution"].to_series())
    elif method == "eu":
        eu = inputs.eu
        at = {"commodity": commodity, "stage": stage}
        shares = eu.global_supply["share"].sel(at).dropna("country")
        shares = shares.drop_sel(country=[c for c in shares.country.values if c in AGGREGATES])
        contribution = (
            shares**2
            * eu.wgi_scaled.reindex(country=shares.country)
            * eu.t_global.sel(at).reindex(country=shares.country)
        )
        result["contributions"] = _top_contributions(contribution.to_series())
        result["notes"] += [f"years {eu.first}-{eu.last}", *eu.notes.get((commodity, stage), [])]
        if math.isnan(float(row["import_reliance"])):
            result["notes"].append(
                "import reliance not attested: global supply used in both terms (the EU's 'GS only' case)"
            )
    elif method == "usgs":
        shares = inputs.supply["share"].sel(commodity=commodity, stage=stage).dropna("country")
        shares = shares.drop_sel(country=[c for c in shares.country.values if c in AGGREGATES])
        contribution = shares**2 * calc_wgi_usgs_scaled(inputs.wgi).reindex(country=shares.country)
        result["contributions"] = _top_contributions(contribution.to_series())
        if method == "usgs" and result["score"] is not None:
            result["notes"].append("economic vulnerability not sourced: set to 1 (the score is an upper bound)")
    return result


def _top_contributions(contribution: pd.Series, n: int = 10) -> dict[str, float]:
    """The ``n`` largest positive contributions by country, the rest summed as "others" (they add up to the score)."""
    ordered = contribution.dropna().sort_values(ascending=False)
    top = {str(k): float(v) for k, v in ordered.head(n).items() if v > 0}
    rest = float(ordered.iloc[n:].sum())
    if rest > 0:
        top["others"] = rest
    return top


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    return value
