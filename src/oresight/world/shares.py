"""Country shares of a stage's output: the pure calculations (from volumes, from published shares, all
commodity-stage pairs at once).

Each calculation works on pandas tables (``calc_share_table_*``: a table indexed by country with ``share``,
``low``, ``high``); the labelled-array forms (``calc_shares_from_*``) wrap the same results in an
``xarray.Dataset``, so that a command that only shows a table never imports xarray.

>>> import xarray as xr
>>> v = xr.DataArray([60.0, 40.0, 100.0], dims="country", coords={"country": ["CHN", "ROW", "WLD"]})
>>> float(calc_shares_from_volumes(v).share.sel(country="CHN"))
0.6
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError
from oresight.facts import calc_year_as_of
from oresight.taxonomy.countries import REST_OF_WORLD, WORLD

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "SHARE_WINDOW_YEARS",
    "calc_share_table_from_published",
    "calc_share_table_from_volumes",
    "calc_shares_from_published",
    "calc_shares_from_volumes",
    "calc_volume_shares",
    "calc_volume_shares_by_year",
    "one_basis_per_country",
    "share_dataset",
]

#: published shares older than this many years before the latest one are not combined with it
SHARE_WINDOW_YEARS = 3


def calc_shares_from_volumes(volumes: xr.DataArray) -> xr.Dataset:
    """Shares of country volumes; the denominator is the larger of the world total and the sum over countries
    (so shares sum to at most 1 even when a rounded world total is smaller than the sum of its parts).

    >>> import xarray as xr
    >>> v = xr.DataArray([60.0, 30.0, 10.0, 100.0], dims="country", coords={"country": ["CHN", "USA", "ROW", "WLD"]})
    >>> calc_shares_from_volumes(v).share.values.round(2).tolist()
    [0.6, 0.3, 0.1]
    """
    coords = volumes.coords
    table = pd.DataFrame(
        {
            "value": volumes.values,
            **{bound: coords[bound].values for bound in ("low", "high") if bound in coords},
        },
        index=pd.Index(volumes.country.values, name="country"),
    )
    table.attrs = dict(volumes.attrs)
    return share_dataset(calc_share_table_from_volumes(table), label_dtype=volumes.country.dtype)


def calc_share_table_from_volumes(volumes: pd.DataFrame) -> pd.DataFrame:
    """:func:`calc_shares_from_volumes` on a table of volumes indexed by country (``value``, and ``low`` and
    ``high`` where known): ``share``, ``low``, ``high`` per country (the world total left out); ``attrs``: the
    denominator, and the volumes' own ``attrs`` (which the labelled form keeps on its ``share``, as xarray does).

    >>> v = pd.DataFrame({"value": [60.0, 40.0, 100.0]}, index=pd.Index(["CHN", "ROW", "WLD"], name="country"))
    >>> calc_share_table_from_volumes(v)["share"].tolist()
    [0.6, 0.4]
    """
    is_world = np.asarray(volumes.index == WORLD, dtype=bool)
    if not is_world.any():
        raise DataNotAttestedError("the source gives no world total, so country shares of world output are unknown")
    countries = volumes[~is_world]
    values = countries["value"].to_numpy(float)
    world_total = volumes["value"].to_numpy(float)[is_world]
    # the sum skips missing volumes, as xarray's sum does (zeros in their place, then one numpy sum)
    total = max(float(np.sum(np.where(np.isnan(values), 0.0, values))), float(world_total[0]))
    if not total > 0:
        raise DataNotAttestedError("world total is zero or missing")
    missing = np.full(len(values), np.nan)
    low = countries["low"].to_numpy(float) if "low" in countries else missing
    high = countries["high"].to_numpy(float) if "high" in countries else missing
    share = values / total
    table = pd.DataFrame(
        {
            "share": share,
            "low": np.where(np.isnan(low), share, low / total),
            "high": np.where(np.isnan(high), share, high / total),
        },
        index=pd.Index(countries.index, name="country"),
    )
    table.attrs = {"denominator": total, _SHARE_ATTRS: dict(volumes.attrs)}
    return table


#: where a share table keeps the attributes of its ``share`` variable (those of the volumes it comes from)
_SHARE_ATTRS = "share_attrs"


def share_dataset(table: pd.DataFrame, label_dtype=str) -> xr.Dataset:
    """A table of shares (``calc_share_table_*``) as labelled arrays over its index, with its ``attrs``."""
    import xarray as xr

    dim = table.index.name
    attrs = dict(table.attrs)
    variable_attrs = {"share": attrs.pop(_SHARE_ATTRS, {})}
    return xr.Dataset(
        {
            column: ((dim,), table[column].to_numpy(float), variable_attrs.get(column))
            for column in ("share", "low", "high")
        },
        coords={dim: np.asarray(table.index, dtype=label_dtype)},
        attrs=attrs,
    )


def calc_shares_from_published(
    published: pd.DataFrame, year: int | None, dim: str = "country"
) -> tuple[xr.Dataset, list[str]]:
    """:func:`calc_share_table_from_published` as labelled arrays over ``dim``, and the sources used.

    >>> rows = pd.DataFrame({"country": ["CHN"], "year": [2024], "value": [0.6], "low": [float("nan")],
    ...     "high": [float("nan")], "status": ["estimated"], "source": ["a"]})
    >>> shares, used = calc_shares_from_published(rows, 2024)
    >>> shares.share.values.round(2).tolist(), shares.attrs["years"], [str(s) for s in used]
    ([0.6, 0.4], [2024], ['a'])
    """
    table, used = calc_share_table_from_published(published, year, dim)
    return share_dataset(table), used


def calc_share_table_from_published(
    published: pd.DataFrame, year: int | None, dim: str = "country"
) -> tuple[pd.DataFrame, list[str]]:
    """Combine published share figures from several sources into one estimate per country.

    Each source contributes its latest figure no later than ``year``, among figures at most
    ``SHARE_WINDOW_YEARS`` older than the newest one used; the estimate is the median, the interval spans the
    sources' values and bounds. Countries are scaled down together if the medians sum above 1; ROW is the rest.

    A bound is not an estimate: an upper bound ("below 9%") spans [0, bound] and never enters the median; a
    country with only upper bounds has no estimate (NaN, not attested), only its interval. A lower bound ("more
    than two-thirds") spans [bound, its high] and stands in for the estimate only where a country has nothing
    else (the least the source asserts).

    >>> rows = pd.DataFrame({"country": ["CHN", "JPN"], "year": [2024, 2022], "value": [0.94, float("nan")],
    ...     "low": [float("nan")] * 2, "high": [float("nan"), 0.09], "status": ["estimated", "upper_bound"],
    ...     "source": ["a", "b"]})
    >>> shares, _ = calc_share_table_from_published(rows, 2024)
    >>> shares["share"].round(2).tolist(), shares["high"].round(2).tolist()
    ([0.94, nan, 0.06], [0.94, 0.09, 0.06])
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
    upper = status == "upper_bound"
    central = np.where(upper, np.nan, value)
    low = np.where(upper, np.where(np.isnan(low), 0.0, low), np.where(np.isnan(low), central, low))
    high = np.where(upper & np.isnan(high), value, np.where(np.isnan(high), central, high))
    estimate = ~upper & (status != "lower_bound")
    labels = published[dim].to_numpy(str)[keep]
    names = sorted(set(labels) - {REST_OF_WORLD})
    share = np.array([_median_estimate(central[labels == n], estimate[labels == n]) for n in names])
    lows = np.array([low[labels == n].min() for n in names])
    highs = np.array([high[labels == n].max() for n in names])
    if np.nansum(share) > 1:
        share = share / np.nansum(share)
    names.append(REST_OF_WORLD)
    share = np.append(share, max(0.0, 1.0 - np.nansum(share)))
    lows, highs = np.append(lows, max(0.0, 1.0 - highs.sum())), np.append(highs, max(0.0, 1.0 - lows.sum()))
    table = pd.DataFrame(
        {"share": share.clip(0, 1), "low": lows.clip(0, 1), "high": highs.clip(0, 1)},
        index=pd.Index(names, name=dim),
    )
    table.attrs = {"years": sorted({int(y) for y in years[keep]})}
    return table, sorted(set(sources[keep]))


def _median_estimate(central: np.ndarray, estimate: np.ndarray) -> float:
    """The median of a country's estimates; its lower bounds where it has none; NaN where it has only upper bounds."""
    values = central[estimate] if estimate.any() else central[~np.isnan(central)]
    return float(np.median(values)) if values.size else math.nan


#: the columns of :func:`calc_volume_shares`
VOLUME_SHARE_COLUMNS = [
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


def calc_volume_shares(
    facts: pd.DataFrame, year: int | None, preference: dict[tuple[str, str], tuple[str, ...]]
) -> pd.DataFrame:
    """Shares from production volumes for all commodity-stage pairs at once (vectorised).

    Per pair: the latest observed year no later than ``year``; the preferred series with data that year; the
    series' main basis; parts of one country's output summed; denominator max(world total, sum of countries).
    Pairs whose source gives no world total are left out: their shares of world output are unknown.
    """
    rows = _stated_production(facts)
    return _shares_from_rows(_rows_as_of(rows, year), ["commodity", "stage"], preference)


def calc_volume_shares_by_year(
    facts: pd.DataFrame,
    years: list[int],
    preference: dict[tuple[str, str], tuple[str, ...]],
    exact: bool = False,
) -> pd.DataFrame:
    """:func:`calc_volume_shares` for several years in one pass, with a column ``as_of`` (the year asked); with
    ``exact``, only each year's own volumes (no earlier or later year stands in).

    >>> facts = pd.DataFrame({"measure": "production", "scenario": "", "commodity": "x", "stage": "mining",
    ...     "series": "s", "basis": "b", "unit": "t", "source": "src", "low": float("nan"),
    ...     "high": float("nan"), "year": [2019, 2019, 2021, 2021], "country": ["CHN", "WLD", "CHN", "WLD"],
    ...     "value": [50.0, 100.0, 80.0, 100.0]})
    >>> shares = calc_volume_shares_by_year(facts, [2020, 2021], {})
    >>> list(zip(shares["as_of"], shares["year"], shares["share"]))  # 2019's shares stand in for 2020
    [(2020, 2019, 0.5), (2021, 2021, 0.8)]
    >>> len(calc_volume_shares_by_year(facts, [2030], {}, exact=True))  # no volumes that year: no shares
    0
    """
    rows = _stated_production(facts)
    frames = [(rows[rows["year"] == y] if exact else _rows_as_of(rows, y)).assign(as_of=y) for y in years]
    if not frames:
        return _shares_from_rows(rows.assign(as_of=0).iloc[:0], ["as_of", "commodity", "stage"], preference)
    return _shares_from_rows(pd.concat(frames, ignore_index=True), ["as_of", "commodity", "stage"], preference)


def _stated_production(facts: pd.DataFrame) -> pd.DataFrame:
    """Production rows of series-years that state the world total (as in stage_view, only those describe a
    stage's shares)."""
    rows = facts[
        (facts["measure"] == "production")
        & (facts["scenario"] == "")
        & (facts["stage"] != "")
        & (facts["commodity"] != "")
    ]
    table = ["commodity", "stage", "series", "year"]
    stated = rows.loc[rows["country"] == WORLD, table].drop_duplicates()
    return rows.merge(stated, on=table, how="inner") if len(stated) < len(rows) else rows


def _rows_as_of(rows: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """Per pair, the rows no later than ``year``; a pair with none takes its earliest later year's (the year
    calc_year_as_of picks)."""
    if year is None:
        return rows
    at_or_before = rows[rows["year"] <= year]
    later_only = rows[
        ~rows.set_index(["commodity", "stage"]).index.isin(at_or_before.set_index(["commodity", "stage"]).index)
    ]
    later_only = later_only[later_only["year"] == later_only.groupby(["commodity", "stage"])["year"].transform("min")]
    return pd.concat([at_or_before, later_only])


def _shares_from_rows(rows: pd.DataFrame, pair: list[str], preference: dict) -> pd.DataFrame:
    """Shares per ``pair`` (commodity and stage, and any key before them) from production rows already chosen
    as of a year: the latest year, the preferred series, its main basis, parts of a country summed."""
    keys = [k for k in pair if k not in ("commodity", "stage")]
    if rows.empty:  # no volumes (a year beyond the data): no shares
        return pd.DataFrame(columns=[*keys, *VOLUME_SHARE_COLUMNS])
    rows = rows[rows["year"] == rows.groupby(pair)["year"].transform("max")]
    rank = [
        preference.get((c, st), ()).index(se) if se in preference.get((c, st), ()) else 99
        for c, st, se in zip(rows["commodity"], rows["stage"], rows["series"], strict=True)
    ]
    rows = rows.assign(rank=rank)
    rows = rows[rows["rank"] == rows.groupby(pair)["rank"].transform("min")]
    rows = rows[rows["series"] == rows.groupby(pair)["series"].transform("first")]
    # the series' main basis: the one most rows give; a tie goes to the first in alphabetical order (as the mode
    # in one_basis_per_country), so the choice never depends on the rows' order
    counts = rows.groupby([*pair, "basis"]).size().reset_index(name="n")
    counts = counts.sort_values(["n", "basis"], ascending=[False, True], kind="stable")
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
    )[[*keys, *VOLUME_SHARE_COLUMNS]].reset_index(drop=True)


def one_basis_per_country(rows: pd.DataFrame) -> pd.DataFrame:
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
