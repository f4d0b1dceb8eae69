"""Trade: the bilateral trade table (reporter × partner × HS × year × flow, USD and tonnes) queried through DuckDB
on demand, who buys from an exporter, and an importer's import shares by partner.

The table is ``oresight/data/trade.parquet`` (built by ``scripts/build_data.py``) plus the trade facts of the
user's own imports; ``oresight.load()`` never reads it. Where several sources give the same HS code and year,
one is used: the user's imports, then CEPII BACI HS92, BACI HS17, raw UN Comtrade declarations (``source=`` picks
one explicitly).

>>> import oresight
>>> world = oresight.load(store=False)
>>> shares = import_shares(world, "USA", "rare-earths", 2024, stage="magnet")
>>> shares.attrs["method"], bool(float(shares.share.sel(partner="CHN")) > 0.5)
('import values', True)
>>> rows = trade(world, "JPN", hs=["280530", "2846"], year=2018)  # rare-earth metals and compounds
>>> by_partner = rows.groupby("partner")["tonnes"].sum()
>>> round(float(100 * by_partner["CHN"] / by_partner.sum()), 1)  # METI gives 58% for 2018
57.2
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError, UnknownNameError
from oresight.facts import calc_year_as_of, rows_as_of
from oresight.taxonomy.countries import WORLD

from .allocation import RULE, allocate, shared_commodities
from .shares import calc_shares_from_published

if TYPE_CHECKING:
    import xarray as xr

    from oresight.world import World

__all__ = [
    "RE_MAGNET_MIN_USD_PER_KG",
    "TRADE_MEASURES",
    "calc_rare_earth_magnets",
    "exports",
    "hs_codes_of",
    "import_shares",
    "member_trade",
    "prefer_sources",
    "query_trade",
    "trade",
    "trade_pairs",
    "trade_path",
]

#: series of trade sources, most preferred first, where several give the same HS code and year
SOURCE_PREFERENCE = ("cepii-baci-hs92", "cepii-baci-hs17", "un-comtrade-raw")
#: fact measures that are bilateral trade (a user's imported trade files reach the trade table as these)
TRADE_MEASURES = {
    "import_value": ("import", "usd"),
    "import_quantity": ("import", "tonnes"),
    "export_value": ("export", "usd"),
    "export_quantity": ("export", "tonnes"),
}
#: HS 850511 holds every permanent magnet of metal; flows below this unit value are not rare-earth magnets
#: (docs/methods.md, "The 850511 rule")
RE_MAGNET_MIN_USD_PER_KG = 20.0
RE_MAGNET_HS = "850511"


@cache
def trade_path() -> Path:
    """The bundled trade table's file."""
    with resources.as_file(resources.files("oresight") / "data" / "trade.parquet") as path:
        return Path(path)


def _in_list(column: str, values: Iterable[str] | None) -> tuple[str, list]:
    if values is None:
        return "", []
    values = list(values)
    if not values:
        return " AND FALSE", []
    return f" AND {column} IN ({', '.join('?' for _ in values)})", values


def query_trade(
    *,
    reporters: Iterable[str] | None = None,
    partners: Iterable[str] | None = None,
    hs: Iterable[str] | None = None,
    years: Iterable[int] | None = None,
    flow: str | None = None,
    path: Path | None = None,
) -> pd.DataFrame:
    """Rows of a trade table file (the bundled one by default; all sources) matching the filters; ``hs`` entries
    are code prefixes."""
    import duckdb

    sql = f"SELECT * FROM read_parquet('{(path or trade_path()).as_posix()}') WHERE TRUE"
    params: list = []
    for column, values in (("reporter", reporters), ("partner", partners), ("year", years)):
        clause, values = _in_list(column, values)
        sql, params = sql + clause, params + values
    if hs is not None:
        codes = list(hs)
        exact, prefixes = [c for c in codes if len(c) >= 6], [c for c in codes if len(c) < 6]
        tests = ([f"hs IN ({', '.join('?' for _ in exact)})"] if exact else []) + ["starts_with(hs, ?)"] * len(prefixes)
        sql += " AND (" + (" OR ".join(tests) or "FALSE") + ")"
        params += exact + prefixes
    if flow is not None:
        sql, params = sql + " AND flow = ?", [*params, flow]
    with duckdb.connect() as con:
        frame = con.execute(sql, params).df()
    for column in ("reporter", "partner", "hs", "flow", "source"):
        frame[column] = frame[column].astype(str)
    return frame


def hs_codes_of(world: World, commodity: str, stage: str | None = None) -> list[str]:
    """HS codes (digits) listed for a commodity (at a stage) in taxonomy/hs_codes.csv, including codes it shares
    with other commodities (``shared_with``: HS 2017's 8112.92 holds unwrought gallium, germanium, indium ...)."""
    return sorted(
        code
        for code, row in world.tax.hs_codes.items()
        if commodity in (row["commodity"], *(row.get("shared_with") or "").split(";"))
        and (stage is None or row["stage"] == stage)
    )


def trade_pairs(world: World) -> set[tuple[str, str]]:
    """(commodity, stage) pairs that have HS codes, shared codes included."""
    return {
        (commodity, row["stage"])
        for row in world.tax.hs_codes.values()
        for commodity in (row["commodity"], *(row.get("shared_with") or "").split(";"))
        if commodity
    }


def user_trade(world: World) -> pd.DataFrame:
    """Trade facts of the user's imports (load order above the bundled data) as trade rows."""
    facts = world.all_facts
    facts = facts[(facts["load_order"] > 0) & facts["measure"].isin(list(TRADE_MEASURES)) & (facts["partner"] != "")]
    facts = facts[facts["basis"].str.startswith(("HS ", "CN "))]
    if facts.empty:
        return pd.DataFrame(columns=["reporter", "partner", "hs", "year", "flow", "usd", "tonnes", "source"])
    flow = facts["measure"].map(lambda m: TRADE_MEASURES[m][0])
    kind = facts["measure"].map(lambda m: TRADE_MEASURES[m][1])
    frame = facts.assign(
        reporter=facts["country"],
        hs=facts["basis"].str.replace(r"\D", "", regex=True),
        flow=flow,
        kind=kind,
        year=facts["year"].astype(int),
    )
    wide = frame.pivot_table(
        index=["reporter", "partner", "hs", "year", "flow", "source"], columns="kind", values="value", aggfunc="last"
    ).reset_index()
    for column in ("usd", "tonnes"):
        if column not in wide:
            wide[column] = np.nan
    return wide


def prefer_sources(rows: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per reporter, HS heading (four digits) and year (and the ``by`` columns), the rows of the most preferred
    source that has them: the user's imports first (a re-import of a bundled file replaces it), then
    ``SOURCE_PREFERENCE``; one nomenclature per heading, so that HS92 8105.10 and HS17 8105.20 (the same goods)
    are never added."""
    if rows.empty or (rows["source"].nunique() == 1 and not rows["user"].any()):
        return rows

    def rank(source: str) -> int:
        return next((i for i, s in enumerate(SOURCE_PREFERENCE) if source.startswith(s)), len(SOURCE_PREFERENCE))

    ranks = rows["source"].map({source: rank(source) for source in rows["source"].unique()})
    ranks = ranks.where(~rows["user"].astype(bool), -1)
    keys = [rows[c] for c in by] + [rows["reporter"], rows["hs"].str[:4], rows["year"]]
    best = ranks.groupby(keys).transform("min")
    return rows[ranks == best]


def fetch_trade(world: World, reporters=None, partners=None, codes=None, years=None, flow: str = "import"):
    """Rows of the World's trade table and of the user's imports matching the filters, every source kept. A World
    built from its own facts (``World(facts, sources)``) has no trade table unless given one (``trade_path``)."""
    if world.trade_path is not None:
        rows = query_trade(
            reporters=reporters, partners=partners, hs=codes, years=years, flow=flow, path=world.trade_path
        )
    else:
        from oresight.io.tradeflows import TRADE_COLUMNS  # here: the importers' package is slow to import

        rows = pd.DataFrame({c: pd.Series(dtype=float if c in ("usd", "tonnes") else object) for c in TRADE_COLUMNS})
        rows["year"] = rows["year"].astype(int)
    user = user_trade(world)
    if not user.empty:
        user = user[user["flow"] == flow]
        for column, values in (("reporter", reporters), ("partner", partners), ("year", years)):
            if values is not None:
                user = user[user[column].isin(values)]
        if codes is not None:
            user = user[user["hs"].str.startswith(tuple(codes))]
        rows = pd.concat([rows.assign(user=False), user[rows.columns].assign(user=True)], ignore_index=True)
    return rows if "user" in rows else rows.assign(user=False)


def member_trade(world: World, members: tuple[str, ...], since: int | None = None) -> pd.DataFrame:
    """Every import row with a member on one side only, from ``since`` on (all years when None): ``side`` is
    "import" where a member reports imports from a non-member (the World row left out) and "export" where a
    non-member reports imports from a member (BACI reconciles both sides of a flow). One DuckDB query per set of
    members, kept on the World (its data do not change), so every dependence and assessment of an importer
    shares it."""
    cache = world.__dict__.setdefault("_member_trade", {})
    for (cached_members, cached_since), rows in cache.items():
        if cached_members == members and (cached_since is None or (since is not None and cached_since <= since)):
            return rows if since is None or cached_since == since else rows[rows["year"] >= since]
    rows = _query_member_trade(world, members, since)
    cache[(members, since)] = rows
    return rows


def _query_member_trade(world: World, members: tuple[str, ...], since: int | None) -> pd.DataFrame:
    import duckdb

    from oresight.io.tradeflows import TRADE_COLUMNS  # here: the importers' package is slow to import

    marks = ", ".join("?" for _ in members)
    columns = ", ".join(TRADE_COLUMNS)
    frames = []
    if world.trade_path is not None:
        sql = (
            f"SELECT {columns}, CASE WHEN reporter IN ({marks}) THEN 'import' ELSE 'export' END AS side "
            f"FROM read_parquet('{world.trade_path.as_posix()}') WHERE flow = 'import' "
            f"AND ((reporter IN ({marks}) AND partner NOT IN ({marks}) AND partner <> ?) "
            f"OR (partner IN ({marks}) AND reporter NOT IN ({marks})))"
        )
        params = [*members, *members, *members, WORLD, *members, *members]
        if since is not None:
            sql, params = sql + " AND year >= ?", [*params, since]
        with duckdb.connect() as con:
            frame = con.execute(sql, params).df()
        for column in ("reporter", "partner", "hs", "flow", "source", "side"):
            frame[column] = frame[column].astype(str)
        frames.append(frame.assign(user=False))
    user = user_trade(world)
    if not user.empty:
        user = user[user["flow"] == "import"]
        user = user if since is None else user[user["year"] >= since]
        inbound = user["reporter"].isin(members) & ~user["partner"].isin([*members, WORLD])
        outbound = user["partner"].isin(members) & ~user["reporter"].isin(members)
        user = user[inbound | outbound].assign(side=np.where(inbound[inbound | outbound], "import", "export"))
        frames.append(user[[*TRADE_COLUMNS, "side"]].assign(user=True))
    if not frames:
        columns = (*TRADE_COLUMNS, "side", "user")
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("usd", "tonnes") else object) for c in columns})
    return pd.concat(frames, ignore_index=True)


def select_trade(
    world: World,
    rows: pd.DataFrame,
    *,
    codes=None,
    year=None,
    latest: bool = False,
    source: str | None = None,
    label: bool = True,
) -> pd.DataFrame:
    """Fetched rows narrowed to HS code prefixes, one source per heading and year, and one year: "as of" an int
    ``year``, the latest with ``latest``; every year otherwise. ``label`` adds each code's commodity and stage."""
    if codes is not None:
        prefixes = tuple(codes)
        rows = rows[rows["hs"].isin([c for c in rows["hs"].unique() if c.startswith(prefixes)])]
    if source is not None:
        rows = rows[(rows["source"] == source) | rows["source"].str.startswith(source)]
    rows = prefer_sources(rows)
    notes: list[str] = []
    if (latest or isinstance(year, int | np.integer)) and not rows.empty:
        rows, notes = _as_of(rows, None if year is None else int(year))
    rows = rows.drop(columns="user").reset_index(drop=True)
    if label:
        mapped = {code: world.tax.hs_code(code) or {} for code in rows["hs"].unique()}
        rows["commodity"] = rows["hs"].map(lambda c: mapped[c].get("commodity", ""))
        rows["stage"] = rows["hs"].map(lambda c: mapped[c].get("stage", ""))
    rows.attrs.update(sources=sorted(set(rows["source"])), notes=notes, year=year)
    return rows


def trade(
    world: World,
    reporter: str | Iterable[str] | None = None,
    partner: str | Iterable[str] | None = None,
    *,
    commodity: str | None = None,
    stage: str | None = None,
    hs: str | Iterable[str] | None = None,
    year: int | Iterable[int] | None = None,
    flow: str = "import",
    source: str | None = None,
) -> pd.DataFrame:
    """Bilateral trade rows (reporter, partner, hs, year, flow, usd, tonnes, source, commodity, stage).

    ``reporter`` and ``partner`` are ISO3 codes, names or blocs (a bloc stands for its members). ``commodity``
    and ``stage`` select the HS codes of taxonomy/hs_codes.csv, ``hs`` codes directly. ``year``: an int is
    "as of" (the latest year no later than it, else the earliest after it: ``attrs["notes"]`` says when another
    year stands in); a list keeps those years; None keeps all. ``source`` picks one source (id or series), else
    the preferred source per HS heading and year. Missing tonnes stay NaN.
    """
    codes = _codes(world, commodity, stage, hs)
    as_of = isinstance(year, int | np.integer)
    years = None if year is None or as_of else [int(y) for y in year]
    rows = fetch_trade(world, _members(world, reporter), _members(world, partner), codes, years, flow)
    return select_trade(world, rows, year=year if as_of else None, source=source)


def _import_shares_from_trade(world: World, importer: str, commodity: str, year, stage) -> xr.Dataset:
    try:
        rows = trade(world, importer, commodity=commodity, stage=stage, year=year if year is not None else 9999)
    except UnknownNameError:
        rows = pd.DataFrame()
    if len(rows):
        rows = rows[~rows["partner"].isin([importer, WORLD])]
        rows = _rare_earth_magnets_only(_allocated(world, rows, commodity, stage, "import"))
    if rows.empty:
        raise DataNotAttestedError(f"no import data for {importer} and {commodity}")
    by = rows.groupby("partner")[["tonnes", "usd"]].sum(min_count=1)
    weight = by["tonnes"] if by["tonnes"].notna().all() and by["tonnes"].sum() > 0 else by["usd"]
    shared = any(shared_commodities(world, code) for code in rows["hs"].unique())
    method = f"bilateral trade; {RULE}" if shared else "bilateral trade"
    shares = _partner_shares(importer, commodity, weight, int(rows["year"].max()), method, rows["source"])
    return shares.assign_attrs(notes=list(rows.attrs.get("notes", [])))


def _partner_shares(importer: str, commodity: str, weight: pd.Series, year: int, method: str, sources) -> xr.Dataset:
    """Shares of partners from a weight per partner, as a Dataset with share = low = high."""
    import xarray as xr

    share = (weight / weight.sum()).to_numpy(float)
    return xr.Dataset(
        {"share": ("partner", share), "low": ("partner", share), "high": ("partner", share)},
        coords={"partner": weight.index.to_numpy(str)},
        attrs={
            "importer": importer,
            "commodity": commodity,
            "year": year,
            "years": [year],
            "method": method,
            "sources": sorted(set(sources)),
        },
    )


def _as_of(rows: pd.DataFrame, year: int | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one year, "as of" ``year`` (the latest when None) over the years the selection has; codes
    without data that year are named in a note rather than mixed in from another year."""
    years = rows["year"].to_numpy()
    used = calc_year_as_of(np.unique(years), year)
    notes = [f"trade of {used} stands in for {year}"] if year is not None and used != year else []
    this_year = years == used
    if this_year.all():
        return rows, notes
    stale = sorted(set(rows["hs"]) - set(rows["hs"][this_year]))
    if stale:
        notes.append(f"HS {', '.join(stale)}: no data for {used}, left out")
    return rows[this_year], notes


def _members(world: World, names: str | Iterable[str] | None) -> list[str] | None:
    if names is None:
        return None
    names = [names] if isinstance(names, str) else list(names)
    members: list[str] = []
    for name in names:
        members += list(world.tax.importer(name).members) if name not in (WORLD,) else [WORLD]
    return list(dict.fromkeys(members))


def _codes(world: World, commodity: str | None, stage: str | None, hs) -> list[str] | None:
    if hs is not None:
        return [str(hs)] if isinstance(hs, str) else [str(h) for h in hs]
    if commodity is None:
        return None
    commodity_id, implied = world.resolve(commodity, stage)
    codes = hs_codes_of(world, commodity_id, implied)
    if not codes:
        known = sorted({r["commodity"] for r in world.tax.hs_codes.values()})
        raise UnknownNameError(f"HS codes of {commodity_id}" + (f" at {implied}" if implied else ""), commodity, known)
    return codes


def calc_rare_earth_magnets(usd, tonnes, threshold: float = RE_MAGNET_MIN_USD_PER_KG) -> np.ndarray:
    """Which HS 850511 flows are rare-earth magnets: unit value (USD/kg) at least ``threshold``; a flow without
    tonnes is kept (its value counts, its weight is unknown).

    >>> calc_rare_earth_magnets([40_000.0, 8_500.0, 1_000.0], [1.0, 1.0, float("nan")]).tolist()
    [True, False, True]
    """
    usd, tonnes = np.asarray(usd, dtype=float), np.asarray(tonnes, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_value = usd / (tonnes * 1000)
    return np.isnan(tonnes) | (unit_value >= threshold)


def exports(
    world: World,
    exporter: str,
    commodity: str,
    stage: str | None = None,
    year: int | None = None,
    *,
    source: str | None = None,
) -> pd.DataFrame:
    """Who buys an exporter's goods: destinations with tonnes, USD and their shares of the exporter's exports
    (from the importers' side of each flow, as BACI reconciles it), largest first. HS 850511 keeps only
    rare-earth magnets (:func:`calc_rare_earth_magnets`)."""
    code = world.tax.countries.resolve(exporter) or exporter
    rows = trade(world, partner=code, commodity=commodity, stage=stage, year=year, source=source)
    rows = _rare_earth_magnets_only(_allocated(world, rows, commodity, stage, "export"))
    by = rows.groupby("reporter")[["tonnes", "usd"]].sum(min_count=1)
    by = by.assign(tonnes_share=by["tonnes"] / by["tonnes"].sum(), usd_share=by["usd"] / by["usd"].sum()).sort_values(
        "usd", ascending=False
    )
    out = by.rename_axis("destination").reset_index()
    out.attrs.update(rows.attrs, exporter=code, years=sorted(set(rows["year"].astype(int))))
    return out


def _allocated(world: World, rows: pd.DataFrame, commodity: str, stage: str | None, side: str) -> pd.DataFrame:
    """Rows of one commodity's codes with shared codes reduced to the commodity's part
    (:func:`oresight.world.allocation.allocate`), the rule's notes added to ``attrs["notes"]``."""
    if rows.empty:
        return rows
    commodity_id, _ = world.resolve(commodity, stage)
    allocated, notes = allocate(world, rows.assign(commodity=commodity_id), side)
    allocated.attrs = {**rows.attrs, "notes": [*rows.attrs.get("notes", []), *notes.get(commodity_id, [])]}
    return allocated


def _rare_earth_magnets_only(rows: pd.DataFrame) -> pd.DataFrame:
    magnets = rows["hs"] == RE_MAGNET_HS
    if not magnets.any():
        return rows
    keep = ~magnets.to_numpy() | calc_rare_earth_magnets(rows["usd"], rows["tonnes"])
    out = rows[keep]
    out.attrs = {
        **rows.attrs,
        "notes": [
            *rows.attrs.get("notes", []),
            f"HS 850511: flows under {RE_MAGNET_MIN_USD_PER_KG:g} USD/kg left out as not rare-earth magnets "
            f"({int((~keep).sum())} of {int(magnets.sum())} flows)",
        ],
    }
    return out


def import_shares(
    world: World, importer: str, commodity: str, year: int | None = None, *, stage: str | None = None
) -> xr.Dataset:
    """Shares of an importer's imports by partner (share, low, high): published import shares, combined across
    sources as :func:`calc_shares_from_published` does, else computed from customs import values, else (where the
    importer has no published figures for the commodity at any stage) from bilateral trade (tonnes, by value
    where a flow has no weight; rare-earth magnets by the 850511 rule).

    ``importer`` is one ISO3 code. ROW is the unattributed rest.
    """
    year = year if year is not None else world.year
    published = world.select(commodity=commodity, country=importer, measure="import_share", stage=stage)
    if not published.empty:
        shares, used = calc_shares_from_published(published, year, dim="partner")
        return shares.assign_attrs(
            importer=importer,
            commodity=commodity,
            method="published import shares",
            sources=used,
            year=max(shares.attrs["years"]),
        )
    rows = world.select(commodity=commodity, country=importer, measure="import_value", stage=stage)
    rows = rows[~rows["partner"].isin([WORLD, ""])]  # a total is not a breakdown by partner
    if rows.empty:
        published_elsewhere = world.select(
            commodity=commodity, country=importer, measure=["import_share", "import_value"]
        )
        published_elsewhere = published_elsewhere[~published_elsewhere["partner"].isin([WORLD, ""])]
        if len(published_elsewhere):  # published figures of another stage (or the commodity) come first
            raise DataNotAttestedError(f"no import data for {importer} and {commodity} at stage {stage}")
        return _import_shares_from_trade(world, importer, commodity, year, stage)
    rows = rows_as_of(rows, year)
    values = rows.groupby("partner")["value"].sum()
    return _partner_shares(importer, commodity, values, int(rows["year"].iat[0]), "import values", rows["source"])
