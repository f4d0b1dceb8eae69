"""An importer's exposure: import reliance, import weights by partner and the governance of its partners,
assembled from the World for the published methods.

The ``calc_*`` functions work on the facts of one importer and commodity (small tables), so an assessment can
select all facts of a measure once and group them; the World-level wrappers select for a single question.
"""

from __future__ import annotations

import math

import pandas as pd
import xarray as xr

from oresight.errors import DataNotAttestedError
from oresight.facts import calc_year_as_of, rows_as_of
from oresight.metrics import calc_political_risk
from oresight.taxonomy import load_taxonomy
from oresight.world import World
from oresight.world.dependence import NOT_ATTESTED, Reliance

__all__ = [
    "Reliance",
    "calc_import_weights_from_facts",
    "calc_reliance_from_facts",
    "import_reliance",
    "import_weights",
    "political_risk",
    "reporters_of",
    "wgi_mean",
]

WGI_DIMENSIONS = ("wgi_va", "wgi_pv", "wgi_ge", "wgi_rq", "wgi_rl", "wgi_cc")
#: words in a USGS net-import-reliance basis that mark the raw-material (mining) stage
_RAW_FORMS = ("concentrate", "ore", "mineral", "mine")


def reporters_of(importer) -> tuple[str, ...]:
    """Who reports an importer's dependence: the EU as one reporter (EUU), else each member country."""
    return ("EUU",) if importer.label == "EU" else tuple(importer.members)


def calc_reliance_from_facts(rows: pd.DataFrame | list[dict], stage: str, year: int | None) -> Reliance:
    """Net import reliance of one reporter and commodity, matched to a stage.

    Facts with the stage's own label win (the EU's primary and refined IR); else USGS's product forms: a
    form naming concentrates or ores applies to mining, the others to the processed stages, never to a
    component stage (magnets: ``kind: component`` in stages.yaml). A net exporter
    ("E") has 0; ">95" gives [0.95, 1]. ``rows`` are facts of one reporter and commodity (a frame or records).
    """
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
    if not records:
        return NOT_ATTESTED
    if load_taxonomy().stages.get(stage, {}).get("kind") == "component" and not any(
        r["stage"] == stage for r in records
    ):
        return NOT_ATTESTED  # a material's reliance says nothing of the components made from it
    use = calc_year_as_of([r["year"] for r in records], year)
    records = [r for r in records if int(r["year"]) == use]
    staged = [r for r in records if r["stage"] == stage]
    if not staged:
        raw = [r for r in records if any(w in r["basis"].lower() for w in _RAW_FORMS)]
        processed = [r for r in records if r not in raw]
        staged = raw if stage == "mining" and raw else processed or records
    row = max(staged, key=lambda r: -math.inf if math.isnan(r["value"]) else r["value"])
    if row["status"] == "net_exporter":
        value = low = high = 0.0
    else:
        value = row["value"] / 100
        low = (row["low"] if not math.isnan(row["low"]) else row["value"]) / 100
        high = (
            row["high"] if not math.isnan(row["high"]) else 100.0 if row["status"] == "lower_bound" else row["value"]
        ) / 100
    return Reliance(min(value, 1.0), min(low, 1.0), min(high, 1.0), use, row["basis"], [row["source"]])


def import_reliance(world: World, country: str, commodity: str, stage: str, year: int | None) -> Reliance:
    """Published net import reliance (USGS for the US, the EU assessment for EUU) of one reporter."""
    rows = world.select(commodity=commodity, country=country, measure="net_import_reliance")
    return calc_reliance_from_facts(rows, stage, year)


def calc_import_weights_from_facts(
    quantities: pd.DataFrame,
    combined_shares: tuple[xr.Dataset, list[str]] | None,
    reliance: Reliance,
    members: tuple[str, ...],
    year: int | None,
    domestic_production: float = 0.0,
) -> tuple[pd.Series, list[str], list[str]]:
    """One reporter's import weights by partner, q_i / (p + Σq), with sources and notes.

    From import quantities by partner for the year where given (exact); else from published import shares
    scaled by the net import reliance (approximate: net, not gross, imports). ``combined_shares`` are the
    published import shares combined across sources (:func:`calc_shares_from_published`). Intra-bloc trade is
    left out. Raises :class:`DataNotAttestedError` when neither is available.
    """
    quantities = rows_as_of(quantities, year)
    if not quantities.empty and (year is None or int(quantities["year"].iat[0]) == year):
        source = quantities["source"].iat[0]
        rows = quantities[(quantities["source"] == source) & ~quantities["partner"].isin(["WLD", *members])]
        q = rows.groupby("partner")["value"].sum()
        return q / (domestic_production + q.sum()), [source], []
    if combined_shares is None or not reliance.attested:
        raise DataNotAttestedError("no import quantities, or import shares and import reliance")
    combined, used = combined_shares
    share = combined["share"].to_series()
    share = share[~share.index.isin(members)]
    note = f"weights are published import shares × net import reliance ({reliance.value:.2f})"
    return share / share.sum() * reliance.value, [*used, *reliance.sources], [note]


def import_weights(
    world: World,
    members: tuple[str, ...],
    commodity: str,
    stage: str,
    year: int | None,
    domestic_production: float = 0.0,
) -> xr.DataArray:
    """Import weights of an importer (a bloc's members averaged with equal weight) over partners."""
    frames, sources, notes = [], set(), []
    for member in members:
        quantities = world.select(commodity=commodity, country=member, measure="import_quantity")
        shares = world.select(commodity=commodity, country=member, measure="import_share")
        reliance = import_reliance(world, member, commodity, stage, year)
        weights, used, member_notes = calc_import_weights_from_facts(
            quantities, shares, reliance, members, year, domestic_production
        )
        frames.append(weights.rename(member))
        sources.update(used)
        notes += [f"{member}: {n}" for n in member_notes]
    return _combine_members(frames, sources, notes)


def _combine_members(frames: list[pd.Series], sources: set[str], notes: list[str]) -> xr.DataArray:
    table = pd.concat(frames, axis=1).fillna(0.0)
    weights = table.mean(axis=1)
    if table.shape[1] > 1:
        notes = [*notes, "bloc: members' weights averaged with equal weight (member import volumes not comparable)"]
    return xr.DataArray(
        weights.to_numpy(float),
        dims="partner",
        coords={"partner": weights.index.to_numpy(str)},
        name="import_weight",
        attrs={"sources": sorted(sources), "notes": notes},
    )


def political_risk(world: World, year: int | None, *, source: str | None = None) -> xr.DataArray:
    """Political-stability risk by partner country, 0..1: the values ``source`` published with its trade data
    (``political_risk`` facts) where given, else the GeoPolRisk normalisation of WGI political stability."""
    pv = world.indicator("wgi_pv", _wgi_year(world, year))
    risk = calc_political_risk(pv).to_series()
    sources = list(pv.attrs["sources"])
    if source:
        given = world.select(measure="political_risk", year=year)
        given = given[given["source"] == source]
        if not given.empty:
            override = pd.Series(given["value"].to_numpy(float), index=given["country"].to_numpy(str))
            risk = pd.concat([risk[~risk.index.isin(override.index)], override])
            sources.insert(0, source)
    return xr.DataArray(
        risk.to_numpy(float),
        dims="partner",
        coords={"partner": risk.index.to_numpy(str)},
        name="political_risk",
        attrs={"sources": sources},
    )


def _wgi_year(world: World, year: int | None) -> int:
    return calc_year_as_of(world.select(measure="wgi_pv")["year"].unique(), year)


def wgi_mean(world: World, year: int | None) -> xr.DataArray:
    """Mean of the six WGI estimates by country (countries missing any dimension averaged over the rest)."""
    use = _wgi_year(world, year)
    rows = world.select(measure=list(WGI_DIMENSIONS), year=use)
    mean = rows.groupby("country")["value"].mean()
    return xr.DataArray(
        mean.to_numpy(float),
        dims="country",
        coords={"country": mean.index.to_numpy(str)},
        name="wgi_mean",
        attrs={"year": use, "sources": sorted(set(rows["source"]))},
    )
