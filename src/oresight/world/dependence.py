"""Dependence of an importer or a bloc on the rest of the world at one stage of a commodity, from trade and
production: imports and exports by partner (tonnes, USD), apparent consumption, import reliance, import shares
and the top partner — each number with the method and the facts it came from, and the published net import
reliance (USGS, the EU) beside it where one exists (the published value wins).

    import reliance = (imports − exports) / (production + imports − exports), clipped to [0, 1]

A bloc's members are one importer: trade between members is left out on both sides. Trade is gross weight of
the traded products (an oxide, a concentrate), production is what the stage's source measures (often metal
content), so the ratio is approximate where they differ; ``notes`` say so.

>>> import oresight
>>> world = oresight.load(store=False)
>>> jp = dependence(world, "JP", "rare-earths", "refining", 2024)
>>> jp.top_partner, round(jp.top_share, 2), jp.reliance.method
('CHN', 0.68, 'derived from trade and production')
>>> us = dependence(world, "US", "rare-earths", "refining", 2024)
>>> us.reliance.method, us.published is not None, us.derived is not None
('published', True, True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oresight.errors import DataNotAttestedError
from oresight.facts import calc_year_as_of
from oresight.metrics.dependence import calc_import_reliance
from oresight.taxonomy.countries import AGGREGATES

from .allocation import RULE, allocate, shared_commodities
from .output import output_table
from .trade import RE_MAGNET_HS, calc_rare_earth_magnets, hs_codes_of, member_trade, prefer_sources, trade_pairs

if TYPE_CHECKING:
    from oresight.taxonomy import Importer
    from oresight.world import World

__all__ = [
    "METHOD",
    "NOT_ATTESTED",
    "Dependence",
    "Reliance",
    "calc_dependence",
    "dependence",
    "dependence_table",
    "period_trade",
]

METHOD = (
    "import reliance = (imports − exports) / (production + imports − exports); imports and exports are gross "
    "bilateral trade of the stage's HS codes (CEPII BACI, else reporter declarations), intra-bloc trade left out; "
    "production is the stage's primary series"
)
#: a table of many pairs reads trade of at most this many years before the year asked
TRADE_WINDOW_YEARS = 5


@dataclass
class Reliance:
    """Net import reliance as a fraction with bounds, where it came from (``method``) and its sources."""

    value: float
    low: float
    high: float
    year: int | None = None
    basis: str = ""
    sources: list[str] = field(default_factory=list)
    method: str = ""

    @property
    def attested(self) -> bool:
        return not math.isnan(self.value)


NOT_ATTESTED = Reliance(math.nan, math.nan, math.nan)


@dataclass
class Dependence:
    """One importer's dependence at one stage of a commodity (see the module's docstring)."""

    importer: str
    members: tuple[str, ...]
    commodity: str
    stage: str
    year: int | None  # the year of the trade data used
    imports_t: float
    exports_t: float
    imports_usd: float
    exports_usd: float
    production_t: float
    production_low_t: float
    production_high_t: float
    apparent_consumption_t: float
    reliance: Reliance  # the published value where one exists, else the derived one
    derived: Reliance | None
    published: Reliance | None
    partners: pd.DataFrame  # partner, tonnes, usd, share (of imports by tonnes, by value where tonnes missing)
    hs_codes: list[str]
    method: str = METHOD
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def top_partner(self) -> str | None:
        named = self.partners[~self.partners["partner"].isin(AGGREGATES)]
        return str(named["partner"].iat[0]) if len(named) else None

    @property
    def top_share(self) -> float:
        named = self.partners[~self.partners["partner"].isin(AGGREGATES)]
        return float(named["share"].iat[0]) if len(named) else math.nan

    def to_dict(self) -> dict:
        """Plain values for JSON (NaN as None)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("partners", "reliance", "derived", "published")}
        for name in ("reliance", "derived", "published"):
            value = getattr(self, name)
            out[name] = None if value is None else asdict(value)
        out["top_partner"], out["top_share"] = self.top_partner, self.top_share
        out["partners"] = self.partners.to_dict("records")
        return _plain(out)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# -- the calculation --------------------------------------------------------------------------------------------
def calc_dependence(
    imports: pd.DataFrame, exports: pd.DataFrame, production: tuple[float, float, float]
) -> dict[str, float | pd.DataFrame]:
    """Totals, partner shares and reliance (value, low, high) from import rows (partner, tonnes, usd), export rows
    (tonnes, usd) and production (value, low, high) in tonnes. Partner shares are by tonnes where every partner
    has tonnes, else by value.

    >>> imports = pd.DataFrame({"partner": ["CHN", "VNM"], "tonnes": [60.0, 20.0], "usd": [6.0, 2.0]})
    >>> exports = pd.DataFrame({"tonnes": [10.0], "usd": [1.0]})
    >>> out = calc_dependence(imports, exports, (30.0, 30.0, 30.0))
    >>> out["reliance"], out["apparent_consumption_t"], out["partners"]["share"].tolist()
    (0.7, 100.0, [0.75, 0.25])
    """
    by_partner = imports.groupby("partner")[["tonnes", "usd"]].sum(min_count=1)
    by_tonnes = by_partner["tonnes"].notna().all() and by_partner["tonnes"].sum() > 0
    weight = by_partner["tonnes"] if by_tonnes else by_partner["usd"]
    partners = by_partner.assign(share=weight / weight.sum()).sort_values("share", ascending=False)
    imports_t = float(imports["tonnes"].sum(min_count=1))
    exports_t = float(exports["tonnes"].sum()) if len(exports) else 0.0
    p, p_low, p_high = production
    value = float(calc_import_reliance(p, imports_t, exports_t))
    # more production, less reliance: the bounds come from the production bounds
    low = float(calc_import_reliance(p_high, imports_t, exports_t))
    high = float(calc_import_reliance(p_low, imports_t, exports_t))
    return {
        "imports_t": imports_t,
        "exports_t": exports_t,
        "imports_usd": float(imports["usd"].sum(min_count=1)),
        "exports_usd": float(exports["usd"].sum()) if len(exports) else 0.0,
        "apparent_consumption_t": p + imports_t - exports_t,
        "reliance": value,
        "reliance_low": low,
        "reliance_high": high,
        "partners": partners.rename_axis("partner").reset_index(),
    }


# -- the table of every (commodity, stage): one pass over the members' trade -----------------------------------
PAIR = ["commodity", "stage"]


@dataclass
class _Computed:
    """Every (commodity, stage) of one importer and year: the table, each pair's partners and notes."""

    table: pd.DataFrame
    partners: dict[tuple[str, str], pd.DataFrame]
    notes: dict[tuple[str, str], list[str]]


def _computed(world: World, importer: Importer, year: int | None) -> _Computed:
    """The dependence of every pair with HS codes, computed once per World, members and year (its data do not
    change): one query of the members' trade, then grouped operations over (commodity, stage, partner)."""
    cache = world.__dict__.setdefault("_dependence_tables", {})
    key = (importer.members, year)
    if key not in cache:
        cache[key] = _compute(world, importer, year)
    return cache[key]


def _compute(world: World, importer: Importer, year: int | None) -> _Computed:
    members = importer.members
    # as of a year, the data used are at most a few years older (later only where nothing earlier exists)
    since = None if year is None else year - TRADE_WINDOW_YEARS
    rows = _labelled(world, member_trade(world, members, since))
    rows = prefer_sources(rows, by=tuple(PAIR))
    notes: dict[tuple[str, str], list[str]] = {}
    imports, used = _as_of(rows[rows["side"] == "import"], year, notes)
    exports, _ = _as_of(rows[rows["side"] == "export"], used, None)
    imports, exports = _rare_earth_magnets(imports, exports, notes)
    imports, exports = _split_shared_codes(world, imports, exports, notes)
    if imports.empty:
        return _Computed(pd.DataFrame(columns=TABLE_COLUMNS), {}, notes)
    partners = _partner_table(imports)
    totals = _totals(imports, exports)
    at_most = {pair: (year if year is not None else int(y)) for pair, y in used.items()}
    production = output_table(world, members, list(totals.index), at_most, notes)
    table = totals.join(production)
    _note_weights(imports, table, world, notes)
    rows_out = [
        _table_row(world, importer, pair, record, partners[pair], notes, year) for pair, record in table.iterrows()
    ]
    table = pd.DataFrame(rows_out, columns=TABLE_COLUMNS)
    return _Computed(table, partners, notes)


def _in_period(rows: pd.DataFrame, first: int, last: int, notes: dict) -> pd.DataFrame:
    """Per pair, the rows of the years ``first``..``last``; a pair without any takes the earliest later year's (the
    "as of" rule), with a note."""
    inside = (rows["year"] >= first) & (rows["year"] <= last)
    has = rows[inside].groupby(PAIR).size()
    outside = rows[~inside & ~rows.set_index(PAIR).index.isin(has.index)]
    later = outside[outside["year"] == outside.groupby(PAIR)["year"].transform("min")]
    for pair, year in later.groupby(PAIR)["year"].first().items():
        notes.setdefault(pair, []).append(f"trade of {int(year)} stands in for {first}-{last}")
    return pd.concat([rows[inside], later], ignore_index=True)


def period_trade(world: World, importer: Importer, first: int, last: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The members' imports from non-members by (commodity, stage, partner) and their exports by (commodity, stage),
    tonnes and USD summed over the years ``first``..``last`` (the same rows, sources, 850511 rule and shared-code
    split as :func:`dependence`, without the choice of one year), and notes per pair. Kept on the World."""
    cache = world.__dict__.setdefault("_period_trade", {})
    key = (importer.members, first, last)
    if key not in cache:
        notes: dict[tuple[str, str], list[str]] = {}
        rows = prefer_sources(_labelled(world, member_trade(world, importer.members, first)), by=tuple(PAIR))
        rows = _in_period(rows, first, last, notes)
        imports, exports = _rare_earth_magnets(rows[rows["side"] == "import"], rows[rows["side"] == "export"], notes)
        imports, exports = _split_shared_codes(world, imports, exports, notes)
        by_partner = imports.groupby([*PAIR, "partner"])[["tonnes", "usd"]].sum(min_count=1).reset_index()
        years = imports.groupby(PAIR)["year"].agg(lambda y: sorted(set(int(v) for v in y)))
        for pair, present in years.items():
            if present[0] <= last and len(present) < last - first + 1:
                notes.setdefault(pair, []).append(f"trade of {', '.join(map(str, present))} only")
        cache[key] = (by_partner, exports.groupby(PAIR)[["tonnes", "usd"]].sum(min_count=1), notes)
    return cache[key]


TABLE_COLUMNS = [
    "commodity",
    "stage",
    "year",
    "import_reliance",
    "import_reliance_low",
    "import_reliance_high",
    "import_reliance_method",
    "derived_import_reliance",
    "derived_import_reliance_low",
    "derived_import_reliance_high",
    "published_import_reliance",
    "top_partner",
    "top_partner_share",
    "imports_t",
    "exports_t",
    "imports_usd",
    "exports_usd",
    "production_t",
    "production_low_t",
    "production_high_t",
    "apparent_consumption_t",
    "hs_codes",
    "method",
    "dependence_sources",
    "partner_shares",
    "dependence_notes",
]


def _pair_codes(world: World) -> dict[tuple[str, str], list[str]]:
    """The HS codes of every (commodity, stage) with codes, shared codes included (cached on the World)."""
    cached = world.__dict__.get("_pair_codes")
    if cached is None:
        cached = {pair: hs_codes_of(world, *pair) for pair in sorted(trade_pairs(world))}
        world.__dict__["_pair_codes"] = cached
    return cached


def _labelled(world: World, rows: pd.DataFrame) -> pd.DataFrame:
    """Trade rows with the (commodity, stage) pairs whose codes they fall under, one row per pair (a shared code's
    row appears once for each commodity it holds)."""
    codes = _pair_codes(world)
    mapping = pd.DataFrame(
        [
            (hs, commodity, stage)
            for hs in rows["hs"].unique()
            for (commodity, stage), prefixes in codes.items()
            if hs.startswith(tuple(prefixes))
        ],
        columns=["hs", *PAIR],
    )
    return rows.merge(mapping, on="hs", how="inner")


def _as_of(rows: pd.DataFrame, year, notes: dict | None) -> tuple[pd.DataFrame, dict[tuple[str, str], int]]:
    """Per pair, the rows of one year "as of" ``year`` (an int, or a year per pair; the latest when None); codes
    without data that year are named in a note rather than mixed in from another year."""
    if rows.empty:
        return rows, {}
    years = rows.groupby(PAIR)["year"].unique()
    used = {}
    for pair, present in years.items():
        wanted = year.get(pair) if isinstance(year, dict) else year
        used[pair] = calc_year_as_of(present, wanted)
        if notes is not None and wanted is not None and used[pair] != wanted:
            notes.setdefault(pair, []).append(f"trade of {used[pair]} stands in for {wanted}")
    pair_year = pd.Series(used).rename_axis(PAIR)
    chosen = rows.join(pair_year.rename("_used"), on=PAIR)
    this_year = chosen["year"] == chosen["_used"]
    if notes is not None:
        stale = chosen[~this_year].groupby(PAIR)["hs"].unique()
        kept = chosen[this_year].groupby(PAIR)["hs"].unique()
        for pair, codes in stale.items():
            missing = sorted(set(codes) - set(kept.get(pair, [])))
            if missing:
                notes.setdefault(pair, []).append(f"HS {', '.join(missing)}: no data for {used[pair]}, left out")
    return rows[this_year.to_numpy()], used


def _rare_earth_magnets(imports: pd.DataFrame, exports: pd.DataFrame, notes: dict) -> tuple:
    """HS 850511 flows below the rare-earth magnet unit value left out (docs/methods.md, "The 850511 rule")."""
    out = []
    for frame in (imports, exports):
        magnets = (frame["hs"] == RE_MAGNET_HS).to_numpy()
        keep = ~magnets | calc_rare_earth_magnets(frame["usd"], frame["tonnes"])
        dropped = frame[~keep].groupby(PAIR).size()
        for pair, n in dropped.items():
            notes.setdefault(pair, []).append(f"HS 850511: {n} flows under the rare-earth magnet unit value left out")
        out.append(frame[keep])
    return tuple(out)


def _split_shared_codes(world: World, imports: pd.DataFrame, exports: pd.DataFrame, notes: dict) -> tuple:
    """Flows of shared HS codes split among their commodities by the exporter's output mix
    (:func:`oresight.world.allocation.allocate`), per stage."""
    out = []
    for side, frame in (("import", imports), ("export", exports)):
        parts = []
        for stage, rows in frame.groupby("stage"):
            allocated, by_commodity = allocate(world, rows, side)
            parts.append(allocated)
            for commodity, texts in by_commodity.items():
                listed = notes.setdefault((commodity, stage), [])
                listed.extend(t for t in texts if t not in listed)
        out.append(pd.concat(parts, ignore_index=True) if parts else frame)
    return tuple(out)


def _partner_table(imports: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Per pair: partner, tonnes, usd and share of imports (by tonnes where every partner has tonnes, else by
    value), largest first."""
    rows = imports.groupby([*PAIR, "partner"])[["tonnes", "usd"]].sum(min_count=1).reset_index()
    pair = rows.groupby(PAIR)
    by_tonnes = pair["tonnes"].transform(lambda t: t.notna().all() and t.sum() > 0).astype(bool)
    weight = rows["tonnes"].where(by_tonnes, rows["usd"])
    rows["share"] = weight / weight.groupby([rows["commodity"], rows["stage"]]).transform("sum")
    rows = rows.sort_values([*PAIR, "share"], ascending=[True, True, False])
    return {
        key: group[["partner", "tonnes", "usd", "share"]].reset_index(drop=True) for key, group in rows.groupby(PAIR)
    }


def _totals(imports: pd.DataFrame, exports: pd.DataFrame) -> pd.DataFrame:
    into = imports.groupby(PAIR).agg(
        imports_t=("tonnes", lambda v: v.sum(min_count=1)),
        imports_usd=("usd", lambda v: v.sum(min_count=1)),
        year=("year", "max"),
        trade_sources=("source", lambda v: set(v)),
    )
    out = exports.groupby(PAIR).agg(
        exports_t=("tonnes", "sum"), exports_usd=("usd", "sum"), export_sources=("source", lambda v: set(v))
    )
    totals = into.join(out, how="left")
    totals[["exports_t", "exports_usd"]] = totals[["exports_t", "exports_usd"]].fillna(0.0)
    totals["export_sources"] = [s if isinstance(s, set) else set() for s in totals["export_sources"]]
    return totals


def _note_weights(imports: pd.DataFrame, table: pd.DataFrame, world: World, notes: dict) -> None:
    missing = imports[imports["tonnes"].isna()].groupby(PAIR)["usd"].agg(["size", "sum"])
    for pair, row in missing.iterrows():
        share = row["sum"] / table.loc[pair, "imports_usd"] if table.loc[pair, "imports_usd"] else math.nan
        notes.setdefault(pair, []).append(
            f"{int(row['size'])} import flows ({share:.0%} of value) have no weight: tonnes are a floor"
        )
    for pair in table.index:
        codes = _pair_codes(world)[pair]
        if len(codes) > 1:
            notes.setdefault(pair, []).append(f"tonnes of HS {', '.join(codes)} added as gross product weight")


def _table_row(world, importer, pair, record, partners, notes, year) -> dict:
    commodity, stage = pair
    p, p_low, p_high = record["production_t"], record["production_low_t"], record["production_high_t"]
    i, e = record["imports_t"], record["exports_t"]
    value = float(calc_import_reliance(p, i, e))
    low, high = float(calc_import_reliance(p_high, i, e)), float(calc_import_reliance(p_low, i, e))
    if not pd.isna(record["production_year"]) and record["production_year"] != record["year"]:
        notes.setdefault(pair, []).append(
            f"production of {int(record['production_year'])} set against trade of {record['year']}"
        )
    published = _published(world, importer, commodity, stage, year)
    derived_ok = not math.isnan(value)
    chosen_value, chosen_low, chosen_high, method = (
        (published.value, published.low, published.high, "published")
        if published
        else (value, low, high, "derived from trade and production")
        if derived_ok
        else (math.nan, math.nan, math.nan, "")
    )
    named = partners[~partners["partner"].isin(AGGREGATES)]
    trade_sources = sorted(record["trade_sources"] | record["export_sources"])
    sources = sorted(set(trade_sources + record["production_sources"] + (published.sources if published else [])))
    return {
        "commodity": commodity,
        "stage": stage,
        "year": int(record["year"]),
        "import_reliance": chosen_value,
        "import_reliance_low": chosen_low,
        "import_reliance_high": chosen_high,
        "import_reliance_method": method,
        "derived_import_reliance": value,
        "derived_import_reliance_low": low,
        "derived_import_reliance_high": high,
        "published_import_reliance": published.value if published else math.nan,
        "top_partner": str(named["partner"].iat[0]) if len(named) else None,
        "top_partner_share": float(named["share"].iat[0]) if len(named) else math.nan,
        "imports_t": i,
        "exports_t": e,
        "imports_usd": record["imports_usd"],
        "exports_usd": record["exports_usd"],
        "production_t": p,
        "production_low_t": p_low,
        "production_high_t": p_high,
        "apparent_consumption_t": p + i - e,
        "hs_codes": _pair_codes(world)[pair],
        "method": _method(world, pair),
        "dependence_sources": ";".join(sources),
        "partner_shares": dict(zip(partners["partner"], partners["share"], strict=True)),
        "dependence_notes": "; ".join(notes.get(pair, [])),
    }


def _method(world: World, pair: tuple[str, str]) -> str:
    codes = _pair_codes(world)[pair]
    return METHOD + (f"; {RULE}" if any(shared_commodities(world, c) for c in codes) else "")


def _published(world: World, importer: Importer, commodity: str, stage: str, year: int | None) -> Reliance | None:
    from oresight.exposure import calc_reliance_from_facts, reporters_of

    reporters = reporters_of(importer)
    if len(reporters) != 1:
        return None
    cache = world.__dict__.setdefault("_published_reliance", {})
    if reporters[0] not in cache:  # the reporter's published reliance, by commodity, kept on the World
        rows = world.select(country=reporters[0], measure="net_import_reliance")
        cache[reporters[0]] = dict(tuple(rows.groupby("commodity")))
    rows = cache[reporters[0]].get(commodity)
    if rows is None:
        return None
    found = calc_reliance_from_facts(rows, stage, year)
    if not found.attested:
        return None
    found.method = "published"
    return found


# -- the entry points ---------------------------------------------------------------------------------------------
def dependence(
    world: World, importer: str | Importer, commodity: str, stage: str, year: int | None = None
) -> Dependence:
    """The dependence of a country or bloc on imports at one stage of a commodity (see the module docstring).

    Raises :class:`DataNotAttestedError` when no trade source covers the stage's HS codes for the importer.
    """
    importer = _importer(world, importer)
    if commodity not in world.tax.commodities:  # a name, not an id: resolve it (a product names its stage)
        commodity, implied = world.resolve(commodity, stage)
        stage = implied or stage
    codes = hs_codes_of(world, commodity, stage)
    if not codes:
        raise DataNotAttestedError(f"no HS code describes {commodity} at stage {stage} (taxonomy/hs_codes.csv)")
    computed = _computed(world, importer, year)
    found = computed.table[(computed.table["commodity"] == commodity) & (computed.table["stage"] == stage)]
    if found.empty:
        reason = "; ".join(computed.notes.get((commodity, stage), []))
        raise DataNotAttestedError(
            f"no trade source gives {importer.label}'s imports of {commodity} {stage}"
            + (f" ({reason})" if reason else "")
        )
    return _from_row(importer, found.iloc[0], computed.partners[(commodity, stage)], computed.notes, year, world)


def _from_row(importer: Importer, row: pd.Series, partners: pd.DataFrame, notes: dict, year, world) -> Dependence:
    pair = (row["commodity"], row["stage"])
    trade_sources = [s for s in row["dependence_sources"].split(";") if s]
    derived = None
    if not math.isnan(row["derived_import_reliance"]):
        derived = Reliance(
            row["derived_import_reliance"],
            row["derived_import_reliance_low"],
            row["derived_import_reliance_high"],
            int(row["year"]),
            f"HS {', '.join(row['hs_codes'])}",
            trade_sources,
            "derived from trade and production",
        )
    published = _published(world, importer, *pair, year)
    return Dependence(
        importer=importer.label,
        members=importer.members,
        commodity=pair[0],
        stage=pair[1],
        year=int(row["year"]),
        imports_t=row["imports_t"],
        exports_t=row["exports_t"],
        imports_usd=row["imports_usd"],
        exports_usd=row["exports_usd"],
        production_t=row["production_t"],
        production_low_t=row["production_low_t"],
        production_high_t=row["production_high_t"],
        apparent_consumption_t=row["apparent_consumption_t"],
        reliance=published or derived or NOT_ATTESTED,
        derived=derived,
        published=published,
        partners=partners.copy(),
        hs_codes=list(row["hs_codes"]),
        method=row["method"],
        sources=trade_sources,
        notes=list(notes.get(pair, [])),
    )


def _importer(world: World, importer: str | Importer) -> Importer:
    from oresight.taxonomy import Importer

    return importer if isinstance(importer, Importer) else world.tax.importer(importer)


def dependence_table(
    world: World, importer: str | Importer, year: int | None = None, pairs: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """:func:`dependence` for many (commodity, stage) pairs (default: every pair with HS codes), one row each:
    reliance (value, low, high, method), derived and published reliance, top partner and its share, imports,
    exports, production, HS codes, method, sources, partner shares, notes. Pairs without trade data are left out.
    Computed once per World, importer and year."""
    table = _computed(world, _importer(world, importer), year).table
    if pairs is not None and len(table):
        wanted = set(pairs)
        table = table[[pair in wanted for pair in zip(table["commodity"], table["stage"], strict=True)]]
    return table.reset_index(drop=True)
