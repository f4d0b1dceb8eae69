"""Supply: volumes by country (``production``), country shares of a stage (``stage_view``), a commodity's chain,
and every commodity-stage at once (``supply_shares``).

>>> import oresight
>>> world = oresight.load(store=False)
>>> view = stage_view(world, "rare-earths", "mining", 2024)
>>> view.method, view.top(1)[0][0]
('volumes', 'CHN')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError
from oresight.facts import calc_year_as_of
from oresight.taxonomy import Chain
from oresight.taxonomy.countries import AGGREGATES, WORLD

from .shares import (
    calc_share_table_from_published,
    calc_share_table_from_volumes,
    calc_volume_shares,
    one_basis_per_country,
    share_dataset,
)

if TYPE_CHECKING:
    import xarray as xr

    from oresight.world import World

__all__ = [
    "ChainView",
    "StageView",
    "chain",
    "production",
    "production_table",
    "stage_view",
    "supply_dataset",
    "supply_shares",
    "volume_shares",
]

VOLUME_MEASURES = ("production", "capacity")


@dataclass
class StageView:
    """One stage of a chain in one year: volumes where they exist, country shares, and their sources."""

    commodity: str
    stage: str
    basis: str
    year: int | None
    method: str  # "volumes" (shares computed from production) or "published shares"
    share_table: pd.DataFrame  # share, low, high by country (the index); see calc_share_table_*
    world_total: float = math.nan
    unit: str = ""
    sources: list[str] = field(default_factory=list)

    @cached_property
    def shares(self) -> xr.Dataset:
        """:attr:`share_table` as labelled arrays over country (built when first asked for)."""
        return share_dataset(self.share_table)

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The n largest suppliers (ROW, the unattributed rest, is never one of them)."""
        share = self.shares["share"].drop_sel(country=[c for c in AGGREGATES if c in self.shares.country])
        ordered = share.sortby(share, ascending=False).dropna("country")
        return [(str(c), float(v)) for c, v in zip(ordered.country.values[:n], ordered.values[:n], strict=True)]

    def share_of(self, country: str) -> float:
        return float(self.shares["share"].sel(country=country)) if country in self.shares.country else math.nan


@dataclass
class ChainView:
    commodity: str
    year: int | None
    stages: list[StageView]
    end_uses: tuple[str, ...] = ()

    def stage(self, stage: str) -> StageView:
        return next(s for s in self.stages if s.stage == stage)


def primary_series(
    world: World, commodity: str, stage: str, year: int | None = None, measure: str = "production"
) -> str | None:
    """The series that describes a stage's volumes: the chain's first listed series with data for the year."""
    rows = world.select(commodity=commodity, stage=stage, measure=measure)
    if year is not None:
        rows = rows[rows["year"] == year]
    available = sorted(set(rows["series"]))
    order = [s for s in world.tax.series_preference(commodity, stage) if s in available] + available
    return order[0] if order else None


def production(
    world: World,
    commodity: str,
    stage: str,
    year: int | None = None,
    *,
    measure: str = "production",
    series: str | None = None,
) -> xr.DataArray:
    """Volumes by country (ROW and WLD included) for one year, from one series, with provenance coords."""
    import xarray as xr

    table = production_table(world, commodity, stage, year, measure=measure, series=series)
    return xr.DataArray(
        table["value"].to_numpy(float),
        dims="country",
        coords={
            "country": table.index.to_numpy(str),
            "status": ("country", table["status"].to_numpy(str)),
            "low": ("country", table["low"].to_numpy(float)),
            "high": ("country", table["high"].to_numpy(float)),
            "source": ("country", table["source"].to_numpy(str)),
        },
        name=measure,
        attrs=dict(table.attrs),
    )


def production_table(
    world: World,
    commodity: str,
    stage: str,
    year: int | None = None,
    *,
    measure: str = "production",
    series: str | None = None,
) -> pd.DataFrame:
    """:func:`production` as a table indexed by country: ``value``, ``status``, ``low``, ``high``, ``source``;
    ``attrs`` say commodity, stage, year, unit, basis and series."""
    year = year if year is not None else world.year
    if year is None:
        year = world.latest_year(commodity, stage, measure, series=series)
    series = series or primary_series(world, commodity, stage, year, measure)
    rows = world.select(commodity=commodity, stage=stage, measure=measure, year=year, series=series)
    if rows.empty:
        raise DataNotAttestedError(f"no source gives {measure} of {commodity} at stage {stage} for {year}")
    rows = one_basis_per_country(rows)
    table = pd.DataFrame(
        {
            "value": rows["value"].to_numpy(float),
            "status": rows["status"].to_numpy(str).astype(object),
            "low": rows["low"].to_numpy(float),
            "high": rows["high"].to_numpy(float),
            "source": rows["source"].to_numpy(str).astype(object),
        },
        index=pd.Index(rows.index.to_numpy(str).astype(object), name="country"),
    )
    table.attrs = {
        "commodity": commodity,
        "stage": stage,
        "year": int(year),
        "unit": rows["unit"].iat[0],
        "basis": rows["basis"].iat[0],
        "series": series,
    }
    return table


def stage_view(world: World, commodity: str, stage: str, year: int | None = None) -> StageView:
    """Country shares of a stage: from volumes where a source gives them with a world total, else from
    published shares, whichever is more recent as of ``year``."""
    year = year if year is not None else world.year
    chain_stage = world.tax.chain(commodity).stage(stage)
    basis = chain_stage.basis if chain_stage else ""
    # volumes give shares only where their source states the world total; single-country figures do not
    volume_year = world.latest_year(commodity, stage, "production", at_most=year, country=WORLD)
    share_year = world.latest_year(commodity, stage, "share", at_most=year)
    if volume_year is not None and (share_year is None or volume_year >= share_year):
        volumes = production_table(world, commodity, stage, volume_year)
        shares = calc_share_table_from_volumes(volumes)
        value = volumes["value"]
        total = float(value[WORLD]) if WORLD in volumes.index else float(value.sum())
        return StageView(
            commodity,
            stage,
            volumes.attrs["basis"] or basis,
            volume_year,
            "volumes",
            shares,
            total,
            volumes.attrs["unit"],
            sorted(set(volumes["source"])),
        )
    published = world.select(commodity=commodity, stage=stage, measure="share")
    if published.empty:
        raise DataNotAttestedError(f"no source gives volumes or shares of {commodity} at stage {stage}")
    shares, used = calc_share_table_from_published(published, year)
    return StageView(commodity, stage, basis, max(shares.attrs["years"]), "published shares", shares, sources=used)


def chain(world: World, commodity: str, year: int | None = None) -> ChainView:
    """The stage graph of a commodity with each stage's volumes, country shares and sources."""
    commodity, _ = world.resolve(commodity)
    stages_with_data = set(world.select(commodity=commodity, measure=["production", "share"])["stage"]) - {""}
    graph: Chain = world.tax.chain(commodity, stages_with_data)
    views = []
    for stage in graph.stage_ids:
        try:
            views.append(stage_view(world, commodity, stage, year))
        except DataNotAttestedError:
            continue
    return ChainView(commodity, year, views, graph.end_uses)


def series_preference(world: World) -> dict[tuple[str, str], tuple[str, ...]]:
    """The series preference of every (commodity, stage) with facts (kept on the World)."""
    cached = world.__dict__.get("_series_preference")
    if cached is None:
        pairs = world.facts[["commodity", "stage"]].drop_duplicates()
        cached = {
            (c, st): world.tax.series_preference(c, st)
            for c, st in zip(pairs["commodity"], pairs["stage"], strict=True)
        }
        world.__dict__["_series_preference"] = cached
    return cached


def volume_shares(world: World, year: int | None = None) -> pd.DataFrame:
    """Shares (and world totals) from production volumes of every commodity-stage as of a year
    (:func:`calc_volume_shares`), computed once per World and year (its data do not change)."""
    cache = world.__dict__.setdefault("_volume_shares", {})
    if year not in cache:
        cache[year] = calc_volume_shares(world.facts, year, series_preference(world))
    return cache[year]


def supply_shares(world: World, year: int | None = None) -> pd.DataFrame:
    """Country shares of every commodity and stage at once (long table), computed as :func:`stage_view` does.

    Columns: commodity, stage, country, share, low, high, year, method, unit, basis, world_total, source.
    Stages described only by published shares are combined per :func:`calc_shares_from_published`.
    """
    year = year if year is not None else world.year
    volumes = volume_shares(world, year)
    covered = set(zip(volumes["commodity"], volumes["stage"], strict=True))
    latest_volume = volumes.groupby(["commodity", "stage"])["year"].max().to_dict()
    frames = [volumes]
    published = world.select(measure="share")
    for (commodity, stage), rows in published.groupby(["commodity", "stage"]):
        share_year = calc_year_as_of(rows["year"], year)
        if (commodity, stage) in covered and latest_volume[(commodity, stage)] >= share_year:
            continue
        shares, used = calc_share_table_from_published(rows, year)
        frame = shares.reset_index()
        frames.append(
            frame.assign(
                commodity=commodity,
                stage=stage,
                year=max(shares.attrs["years"]),
                method="published shares",
                unit="share",
                basis="share of world output",
                world_total=np.nan,
                source=";".join(used),
            )
        )
        volumes = volumes[~((volumes["commodity"] == commodity) & (volumes["stage"] == stage))]
        frames[0] = volumes
    return pd.concat(frames, ignore_index=True)


def supply_dataset(world: World, year: int | None = None) -> xr.Dataset:
    """:func:`supply_shares` as labelled arrays over (commodity, stage, country): ``share``, ``low``, ``high``,
    with per-item coords ``year``, ``method``, ``source`` and ``world_total``."""
    long = supply_shares(world, year)
    if long.empty:
        raise DataNotAttestedError("no supply data")
    cube = long.set_index(["commodity", "stage", "country"])[["share", "low", "high"]].to_xarray()
    cube = cube.reindex(stage=[s for s in world.tax.stages if s in cube.stage.values])
    items = long.drop_duplicates(["commodity", "stage"]).set_index(["commodity", "stage"])
    for column in ("year", "method", "source", "world_total", "unit", "basis"):
        item = items[column].to_xarray().reindex(stage=cube.stage)
        cube.coords[column] = item.fillna(0).astype(int) if column == "year" else item
    return cube
