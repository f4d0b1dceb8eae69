"""The World: oresight's map of who mines, refines and makes what, with the source of every number.

>>> import oresight
>>> world = oresight.load()
>>> mining = world.shares("rare-earths", "mining", 2024)
>>> round(float(mining.share.sel(country="CHN")), 3)
0.703
>>> world.source_of("rare-earths", "mining", "CHN", 2024)[0]["publisher"]
'U.S. Geological Survey'
>>> [s.stage for s in world.chain("rare-earths", 2024).stages]
['mining', 'refining', 'metal', 'magnet']
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from oresight.errors import DataNotAttestedError, OresightError
from oresight.facts import TABLE_COLUMNS, calc_year_as_of, normalise_facts, rows_as_of
from oresight.taxonomy import Chain, Taxonomy, load_taxonomy
from oresight.taxonomy.countries import AGGREGATES, REST_OF_WORLD, WORLD

__all__ = ["ChainView", "StageView", "World", "load"]

#: published shares older than this many years before the latest one are not combined with it
SHARE_WINDOW_YEARS = 3
VOLUME_MEASURES = ("production", "capacity")


def _bundled() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Bundled facts and sources, and a short digest of the facts file that names this data version."""
    folder = resources.files("oresight") / "data"
    with resources.as_file(folder / "facts.parquet") as path:
        facts = pd.read_parquet(path)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    with resources.as_file(folder / "sources.csv") as path:
        sources = pd.read_csv(path, dtype=str, keep_default_na=False)
    return facts, sources, digest


def load(year: int | None = None, *, edition: str | int | None = None, store: str | Path | bool | None = True) -> World:
    """Load the bundled data, plus what the user imported into their local store.

    ``year``: the default year of selections (latest with data when None). ``edition``: prefer this edition of
    every publication that has it (e.g. ``2025`` for MCS 2025), else the latest edition. ``store``: the local
    store to merge (True: the default store if it exists; a path; False: bundled data only).
    """
    facts, sources, version = _bundled()
    facts["load_order"] = 0
    sources["load_order"] = 0
    if store:
        from oresight.store import Store

        local = Store.open(None if store is True else store, create=False)
        if local is not None:
            with local:
                imported, imported_sources = local.facts_and_sources()
                imports = local.imports()
            facts = pd.concat([facts, imported], ignore_index=True)
            sources = pd.concat([sources, imported_sources], ignore_index=True)
            if not imports.empty:
                digest = hashlib.sha256("|".join(imports["sha256"].astype(str)).encode()).hexdigest()[:8]
                version += f"+{len(imports)} imports {digest}"
    if edition is not None:
        version += f" edition {edition}"
    return World(facts, sources, year=year, edition=edition, data_version=version)


@dataclass
class StageView:
    """One stage of a chain in one year: volumes where they exist, country shares, and their sources."""

    commodity: str
    stage: str
    basis: str
    year: int | None
    method: str  # "volumes" (shares computed from production) or "published shares"
    shares: xr.Dataset  # share, low, high over country
    world_total: float = math.nan
    unit: str = ""
    sources: list[str] = field(default_factory=list)

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


class World:
    """Facts and sources, with the edition of each publication resolved, and selections as labelled arrays."""

    def __init__(
        self,
        facts: pd.DataFrame,
        sources: pd.DataFrame,
        *,
        year: int | None = None,
        edition: str | int | None = None,
        taxonomy: Taxonomy | None = None,
        data_version: str = "unversioned",
    ) -> None:
        self.tax = taxonomy or load_taxonomy()
        #: names the data a result was computed from (bundled facts digest, local imports, edition)
        self.data_version = data_version
        self.sources = sources.drop_duplicates("id", keep="last").set_index("id", drop=False)
        order = facts.get("load_order", 0)
        self.all_facts = normalise_facts(facts).assign(load_order=order)
        self.all_facts = self.all_facts.join(self.sources[["series", "edition"]], on="source")
        self.edition = str(edition) if edition is not None else None
        self.facts = _resolve_editions(self.all_facts, self.edition)
        self.year = year

    @cached_property
    def _by_commodity(self) -> dict[str, pd.DataFrame]:
        """Facts grouped by commodity, so that selections of one commodity scan only its rows."""
        return {str(k): g for k, g in self.facts.groupby("commodity", sort=False)}

    @cached_property
    def _by_measure(self) -> dict[str, pd.DataFrame]:
        return {str(k): g for k, g in self.facts.groupby("measure", sort=False)}

    @cached_property
    def _by_commodity_measure(self) -> dict[tuple[str, str], pd.DataFrame]:
        return {(str(c), str(m)): g for (c, m), g in self.facts.groupby(["commodity", "measure"], sort=False)}

    # -- names -----------------------------------------------------------------------------------------------
    def resolve(self, commodity: str, stage: str | None = None) -> tuple[str, str | None]:
        """Commodity id and stage of user input; a product name such as "NdFeB magnets" names a chain stage."""
        found = self.tax.commodity(commodity)
        if found.chain_stage and found.parent:
            return found.parent, (stage and self.tax.stage(stage)) or found.chain_stage
        return found.id, self.tax.stage(stage) if stage else None

    @cached_property
    def editions(self) -> pd.DataFrame:
        """Series and the editions the data hold of each."""
        return self.sources.groupby("series")["edition"].apply(lambda e: sorted(set(e))).reset_index()

    # -- raw selections --------------------------------------------------------------------------------------
    def select(
        self,
        *,
        commodity: str | None = None,
        stage: str | None = None,
        measure: str | Iterable[str] | None = None,
        year: int | Iterable[int] | None = None,
        country: str | None = None,
        partner: str | None = None,
        sector: str | None = None,
        scenario: str | None = "",
        series: str | None = None,
    ) -> pd.DataFrame:
        """Facts matching every given filter (``scenario=""`` keeps observed values only; None keeps all)."""
        if isinstance(commodity, str) and isinstance(measure, str):
            df = self._by_commodity_measure.get((commodity, measure))
            commodity = measure = None
        elif isinstance(commodity, str):
            df = self._by_commodity.get(commodity)
            commodity = None
        elif isinstance(measure, str):
            df = self._by_measure.get(measure)
            measure = None
        else:
            df = self.facts
        if df is None:
            return self.facts.iloc[:0]
        mask = np.ones(len(df), dtype=bool)
        for column, wanted in (
            ("commodity", commodity),
            ("stage", stage),
            ("country", country),
            ("partner", partner),
            ("sector", sector),
            ("scenario", scenario),
            ("series", series),
            ("measure", measure),
            ("year", year),
        ):
            if wanted is None:
                continue
            if isinstance(wanted, str | int | np.integer):
                mask &= (df[column] == wanted).to_numpy(dtype=bool, na_value=False)
            else:
                mask &= df[column].isin(list(wanted)).to_numpy(dtype=bool, na_value=False)
        return df[mask]

    def years(self, commodity: str, stage: str, measure: str = "production") -> list[int]:
        return sorted(int(y) for y in self.select(commodity=commodity, stage=stage, measure=measure)["year"].unique())

    def primary_series(
        self, commodity: str, stage: str, year: int | None = None, measure: str = "production"
    ) -> str | None:
        """The series that describes a stage's volumes: the chain's first listed series with data for the year."""
        rows = self.select(commodity=commodity, stage=stage, measure=measure)
        if year is not None:
            rows = rows[rows["year"] == year]
        available = sorted(set(rows["series"]))
        order = [s for s in self.tax.series_preference(commodity, stage) if s in available] + available
        return order[0] if order else None

    def latest_year(
        self,
        commodity: str,
        stage: str,
        measure: str = "production",
        *,
        at_most: int | None = None,
        series: str | None = None,
        country: str | None = None,
    ) -> int | None:
        rows = self.select(commodity=commodity, stage=stage, measure=measure, series=series, country=country)
        years = rows["year"].dropna()
        return calc_year_as_of(years, at_most) if len(years) else None

    # -- volumes and shares ----------------------------------------------------------------------------------
    def production(
        self,
        commodity: str,
        stage: str,
        year: int | None = None,
        *,
        measure: str = "production",
        series: str | None = None,
    ) -> xr.DataArray:
        """Volumes by country (ROW and WLD included) for one year, from one series, with provenance coords.

        Raises :class:`DataNotAttestedError` when no source gives the stage's volumes for that year.
        """
        year = year if year is not None else self.year
        if year is None:
            year = self.latest_year(commodity, stage, measure, series=series)
        series = series or self.primary_series(commodity, stage, year, measure)
        rows = self.select(commodity=commodity, stage=stage, measure=measure, year=year, series=series)
        if rows.empty:
            raise DataNotAttestedError(f"no source gives {measure} of {commodity} at stage {stage} for {year}")
        rows = _one_basis_per_country(rows)
        return xr.DataArray(
            rows["value"].to_numpy(float),
            dims="country",
            coords={
                "country": rows.index.to_numpy(str),
                "status": ("country", rows["status"].to_numpy(str)),
                "low": ("country", rows["low"].to_numpy(float)),
                "high": ("country", rows["high"].to_numpy(float)),
                "source": ("country", rows["source"].to_numpy(str)),
            },
            name=measure,
            attrs={
                "commodity": commodity,
                "stage": stage,
                "year": int(year),
                "unit": rows["unit"].iat[0],
                "basis": rows["basis"].iat[0],
                "series": series,
            },
        )

    def shares(self, commodity: str, stage: str, year: int | None = None) -> xr.Dataset:
        """Country shares of world output of a stage, with low/high, from volumes if any source gives them,
        else from published shares. ``ROW`` is the unattributed rest; shares sum to at most 1."""
        return self.stage_view(commodity, stage, year).shares

    def stage_view(self, commodity: str, stage: str, year: int | None = None) -> StageView:
        year = year if year is not None else self.year
        chain_stage = self.tax.chain(commodity).stage(stage)
        basis = chain_stage.basis if chain_stage else ""
        # volumes give shares only where their source states the world total; single-country figures do not
        volume_year = self.latest_year(commodity, stage, "production", at_most=year, country=WORLD)
        share_year = self.latest_year(commodity, stage, "share", at_most=year)
        if volume_year is not None and (share_year is None or volume_year >= share_year):
            volumes = self.production(commodity, stage, volume_year)
            shares = calc_shares_from_volumes(volumes)
            world = float(volumes.sel(country=WORLD)) if WORLD in volumes.country else float(volumes.sum())
            return StageView(
                commodity,
                stage,
                volumes.attrs["basis"] or basis,
                volume_year,
                "volumes",
                shares,
                world,
                volumes.attrs["unit"],
                sorted(set(volumes.source.values)),
            )
        published = self.select(commodity=commodity, stage=stage, measure="share")
        if published.empty:
            raise DataNotAttestedError(f"no source gives volumes or shares of {commodity} at stage {stage}")
        shares, used = calc_shares_from_published(published, year)
        return StageView(commodity, stage, basis, max(shares.attrs["years"]), "published shares", shares, sources=used)

    def chain(self, commodity: str, year: int | None = None) -> ChainView:
        """The stage graph of a commodity with each stage's volumes, country shares and sources."""
        commodity, _ = self.resolve(commodity)
        stages_with_data = set(self.select(commodity=commodity, measure=["production", "share"])["stage"]) - {""}
        chain: Chain = self.tax.chain(commodity, stages_with_data)
        views = []
        for stage in chain.stage_ids:
            try:
                views.append(self.stage_view(commodity, stage, year))
            except DataNotAttestedError:
                continue
        return ChainView(commodity, year, views, chain.end_uses)

    def supply_shares(self, year: int | None = None) -> pd.DataFrame:
        """Country shares of every commodity and stage at once (long table), computed as :meth:`stage_view` does.

        Columns: commodity, stage, country, share, low, high, year, method, unit, basis, world_total, source.
        Stages described only by published shares are combined per :func:`calc_shares_from_published`.
        """
        year = year if year is not None else self.year
        volumes = calc_volume_shares(self.facts, year, self._series_preference())
        covered = set(zip(volumes["commodity"], volumes["stage"], strict=True))
        latest_volume = volumes.groupby(["commodity", "stage"])["year"].max().to_dict()
        frames = [volumes]
        published = self.select(measure="share")
        for (commodity, stage), rows in published.groupby(["commodity", "stage"]):
            share_year = calc_year_as_of(rows["year"], year)
            if (commodity, stage) in covered and latest_volume[(commodity, stage)] >= share_year:
                continue
            shares, used = calc_shares_from_published(rows, year)
            frame = shares.to_dataframe().reset_index()
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

    def supply_dataset(self, year: int | None = None) -> xr.Dataset:
        """:meth:`supply_shares` as labelled arrays over (commodity, stage, country): ``share``, ``low``,
        ``high``, with per-item coords ``year``, ``method``, ``source`` and ``world_total``."""
        long = self.supply_shares(year)
        if long.empty:
            raise DataNotAttestedError("no supply data")
        cube = long.set_index(["commodity", "stage", "country"])[["share", "low", "high"]].to_xarray()
        cube = cube.reindex(stage=[s for s in self.tax.stages if s in cube.stage.values])
        items = long.drop_duplicates(["commodity", "stage"]).set_index(["commodity", "stage"])
        for column in ("year", "method", "source", "world_total", "unit", "basis"):
            item = items[column].to_xarray().reindex(stage=cube.stage)
            cube.coords[column] = item.fillna(0).astype(int) if column == "year" else item
        return cube

    def _series_preference(self) -> dict[tuple[str, str], tuple[str, ...]]:
        pairs = self.facts[["commodity", "stage"]].drop_duplicates()
        return {
            (c, st): self.tax.series_preference(c, st) for c, st in zip(pairs["commodity"], pairs["stage"], strict=True)
        }

    # -- provenance ------------------------------------------------------------------------------------------
    def source_of(
        self, commodity: str, stage: str, country: str, year: int | None = None, measure: str = "production"
    ) -> list[dict]:
        """The registry entries behind a number (several for combined published shares)."""
        view = self.stage_view(commodity, stage, year) if measure in ("production", "share") else None
        if view is not None and view.method == "volumes" and measure == "production":
            ids = [str(self.production(commodity, stage, view.year).source.sel(country=country).item())]
        elif view is not None:
            ids = view.sources
        else:
            rows = self.select(commodity=commodity, stage=stage, country=country, measure=measure, year=year)
            ids = sorted(set(rows["source"]))
        if not ids:
            raise DataNotAttestedError(f"no source for {measure} of {commodity}/{stage}/{country}")
        return [self.sources.loc[i].drop("load_order", errors="ignore").to_dict() for i in ids]

    def source(self, source_id: str) -> dict:
        if source_id not in self.sources.index:
            raise OresightError(f"unknown source {source_id!r}")
        return self.sources.loc[source_id].drop("load_order", errors="ignore").to_dict()

    # -- trade and governance --------------------------------------------------------------------------------
    def import_shares(
        self, importer: str, commodity: str, year: int | None = None, *, stage: str | None = None
    ) -> xr.Dataset:
        """Shares of an importer's imports by partner (share, low, high): published import shares, combined across
        sources as :func:`calc_shares_from_published` does, else computed from customs import values.

        ``importer`` is one ISO3 code. ROW is the unattributed rest.
        """
        year = year if year is not None else self.year
        published = self.select(commodity=commodity, country=importer, measure="import_share", stage=stage)
        if not published.empty:
            shares, used = calc_shares_from_published(published, year, dim="partner")
            return shares.assign_attrs(
                importer=importer,
                commodity=commodity,
                method="published import shares",
                sources=used,
                year=max(shares.attrs["years"]),
            )
        rows = self.select(commodity=commodity, country=importer, measure="import_value", stage=stage)
        if rows.empty:
            raise DataNotAttestedError(f"no import data for {importer} and {commodity}")
        rows = rows_as_of(rows, year)
        use = int(rows["year"].iat[0])
        rows = rows[rows["partner"] != WORLD]
        values = rows.groupby("partner")["value"].sum()
        share = (values / values.sum()).to_numpy(float)
        return xr.Dataset(
            {"share": ("partner", share), "low": ("partner", share), "high": ("partner", share)},
            coords={"partner": values.index.to_numpy(str)},
            attrs={
                "importer": importer,
                "commodity": commodity,
                "year": use,
                "years": [use],
                "method": "import values",
                "sources": sorted(set(rows["source"])),
            },
        )

    def indicator(self, measure: str, year: int | None = None) -> xr.DataArray:
        """A country-level indicator (``wgi_pv``, ``oecd_crc``...) for a year (latest with data by default)."""
        rows = self.select(measure=measure)
        if rows.empty:
            raise DataNotAttestedError(f"no data for indicator {measure}")
        use = year if year is not None else int(rows["year"].max())
        rows = rows[rows["year"] == use].drop_duplicates("country", keep="last")
        return xr.DataArray(
            rows["value"].to_numpy(float),
            dims="country",
            coords={"country": rows["country"].to_numpy(str)},
            name=measure,
            attrs={"year": use, "sources": sorted(set(rows["source"]))},
        )


# -- pure calculations -----------------------------------------------------------------------------------------
def calc_shares_from_volumes(volumes: xr.DataArray) -> xr.Dataset:
    """Shares of country volumes; the denominator is the larger of the world total and the sum over countries
    (so shares sum to at most 1 even when a rounded world total is smaller than the sum of its parts).

    >>> v = xr.DataArray([60.0, 30.0, 10.0, 100.0], dims="country", coords={"country": ["CHN", "USA", "ROW", "WLD"]})
    >>> calc_shares_from_volumes(v).share.values.round(2).tolist()
    [0.6, 0.3, 0.1]
    """
    if WORLD not in volumes.country:
        raise DataNotAttestedError("the source gives no world total, so country shares of world output are unknown")
    countries = volumes.drop_sel(country=[WORLD])
    total = max(float(countries.sum(skipna=True)), float(volumes.sel(country=WORLD)))
    if not total > 0:
        raise DataNotAttestedError("world total is zero or missing")
    low = countries.coords["low"] if "low" in countries.coords else countries * np.nan
    high = countries.coords["high"] if "high" in countries.coords else countries * np.nan
    share = countries / total
    return xr.Dataset(
        {
            "share": share.drop_vars([c for c in share.coords if c != "country"]),
            "low": (("country",), np.where(np.isnan(low.values), share.values, low.values / total)),
            "high": (("country",), np.where(np.isnan(high.values), share.values, high.values / total)),
        },
        attrs={"denominator": total},
    )


def calc_shares_from_published(
    published: pd.DataFrame, year: int | None, dim: str = "country"
) -> tuple[xr.Dataset, list[str]]:
    """Combine published share figures from several sources into one estimate per country.

    Each source contributes its latest figure no later than ``year``, among figures at most
    ``SHARE_WINDOW_YEARS`` older than the newest one used; the estimate is the median, the interval spans the
    sources' values and bounds. Countries are scaled down together if the medians sum above 1; ROW is the rest.
    """
    # Published share tables are small (a few dozen rows): plain numpy keeps this fast enough to call per item.
    years = published["year"].to_numpy(dtype=float)
    newest = calc_year_as_of(years, year)
    keep = (years <= newest) & (years >= newest - SHARE_WINDOW_YEARS)
    sources = published["source"].to_numpy(str)
    latest: dict[str, float] = {}
    for source, y in zip(sources[keep], years[keep], strict=True):
        latest[source] = max(latest.get(source, y), y)
    keep &= np.array([latest.get(src) == y for src, y in zip(sources, years, strict=True)])
    value = published["value"].to_numpy(float)[keep]
    low, high = published["low"].to_numpy(float)[keep], published["high"].to_numpy(float)[keep]
    status = published["status"].to_numpy(str)[keep]
    central = np.where(status == "upper_bound", high, value)
    low, high = np.where(np.isnan(low), central, low), np.where(np.isnan(high), central, high)
    labels = published[dim].to_numpy(str)[keep]
    names = sorted(set(labels) - {REST_OF_WORLD})
    share = np.array([np.median(central[labels == n]) for n in names])
    lows = np.array([low[labels == n].min() for n in names])
    highs = np.array([high[labels == n].max() for n in names])
    if share.sum() > 1:
        share = share / share.sum()
    names.append(REST_OF_WORLD)
    share = np.append(share, max(0.0, 1.0 - share.sum()))
    lows, highs = np.append(lows, max(0.0, 1.0 - highs.sum())), np.append(highs, max(0.0, 1.0 - lows.sum()))
    dataset = xr.Dataset(
        {"share": (dim, share.clip(0, 1)), "low": (dim, lows.clip(0, 1)), "high": (dim, highs.clip(0, 1))},
        coords={dim: np.array(names, dtype=str)},
        attrs={"years": sorted({int(y) for y in years[keep]})},
    )
    return dataset, sorted(set(sources[keep]))


def calc_volume_shares(
    facts: pd.DataFrame, year: int | None, preference: dict[tuple[str, str], tuple[str, ...]]
) -> pd.DataFrame:
    """Shares from production volumes for all commodity-stage pairs at once (vectorised).

    Per pair: the latest observed year no later than ``year``; the preferred series with data that year; the
    series' main basis; parts of one country's output summed; denominator max(world total, sum of countries).
    Pairs whose source gives no world total are left out: their shares of world output are unknown.
    """
    rows = facts[
        (facts["measure"] == "production")
        & (facts["scenario"] == "")
        & (facts["stage"] != "")
        & (facts["commodity"] != "")
    ]
    if year is not None:
        at_or_before = rows[rows["year"] <= year]
        later_only = rows[
            ~rows.set_index(["commodity", "stage"]).index.isin(at_or_before.set_index(["commodity", "stage"]).index)
        ]
        # the year calc_year_as_of picks, per pair: the latest no later than ``year``, else the earliest after it
        later_only = later_only[
            later_only["year"] == later_only.groupby(["commodity", "stage"])["year"].transform("min")
        ]
        rows = pd.concat([at_or_before, later_only])
    pair = ["commodity", "stage"]
    rows = rows[rows["year"] == rows.groupby(pair)["year"].transform("max")]
    rank = [
        preference.get((c, st), ()).index(se) if se in preference.get((c, st), ()) else 99
        for c, st, se in zip(rows["commodity"], rows["stage"], rows["series"], strict=True)
    ]
    rows = rows.assign(rank=rank)
    rows = rows[rows["rank"] == rows.groupby(pair)["rank"].transform("min")]
    rows = rows[rows["series"] == rows.groupby(pair)["series"].transform("first")]
    counts = rows.groupby([*pair, "basis"]).size().reset_index(name="n").sort_values("n", ascending=False)
    main = counts.drop_duplicates(pair).set_index(pair)["basis"]
    rows = rows.join(main.rename("main_basis"), on=pair)
    rows = rows[[b.startswith(m) for b, m in zip(rows["basis"], rows["main_basis"], strict=True)]]
    by_country = rows.groupby([*pair, "country"], sort=False)
    grouped = (
        by_country[["value", "low", "high"]]
        .sum(min_count=1)
        .join(by_country[["year", "unit", "main_basis", "source"]].first())
        .rename(columns={"main_basis": "basis"})
    )
    grouped = grouped.reset_index()
    is_world = grouped["country"] == WORLD
    sums = grouped[~is_world].groupby(pair)["value"].sum(min_count=1)
    worlds = grouped[is_world].set_index(pair)["value"]
    denominator = pd.concat([sums, worlds], axis=1).max(axis=1).rename("world_total")
    denominator = denominator[denominator.index.isin(worlds.index)]
    out = grouped[~is_world].join(denominator, on=pair, how="inner")
    out = out[out["world_total"] > 0]
    share = out["value"] / out["world_total"]
    return out.assign(
        share=share,
        low=(out["low"] / out["world_total"]).fillna(share),
        high=(out["high"] / out["world_total"]).fillna(share),
        method="volumes",
    )[
        [
            "commodity",
            "stage",
            "country",
            "share",
            "low",
            "high",
            "year",
            "method",
            "unit",
            "basis",
            "world_total",
            "source",
        ]
    ].reset_index(drop=True)


def _one_basis_per_country(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per country: rows on the series' main basis, parts of one country's output (two US helium
    sources, told apart by a qualifier in the basis) summed."""
    main = rows["basis"].mode().iat[0]
    rows = rows[rows["basis"].str.startswith(main)]
    if not rows["country"].duplicated().any():
        return rows.set_index("country")
    first = rows.groupby("country", sort=False).first()
    summed = rows.groupby("country", sort=False)[["value", "low", "high"]].sum(min_count=1)
    first[["value", "low", "high"]] = summed
    return first


def _resolve_editions(facts: pd.DataFrame, edition: str | None) -> pd.DataFrame:
    """Keep, for each table of each series, the rows of one edition: the one asked for if the series has it,
    else the latest; among loads of the same edition, the latest load."""
    if facts.empty:
        return facts
    versions = facts.groupby("series")[["edition", "load_order"]].nunique()
    several = versions[(versions["edition"] > 1) | (versions["load_order"] > 1)].index
    if len(several) == 0:
        return facts.reset_index(drop=True)
    single = facts[~facts["series"].isin(several)]
    facts = facts[facts["series"].isin(several)]
    edition_number = pd.to_numeric(facts["edition"], errors="coerce").fillna(0).astype("int64")
    preferred = (facts["edition"] == edition).astype("int64") if edition else 0
    rank = preferred * 10**9 + edition_number * 10**4 + facts["load_order"].astype("int64")
    group = ["series", *TABLE_COLUMNS]
    best = rank.groupby([facts[c].astype(str) for c in group]).transform("max")
    return pd.concat([single, facts[rank == best]], ignore_index=True)
