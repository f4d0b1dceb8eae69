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
from oresight.metrics.dependence import calc_import_reliance
from oresight.taxonomy.countries import AGGREGATES, WORLD

from .trade import (
    RE_MAGNET_HS,
    calc_rare_earth_magnets,
    fetch_trade,
    hs_codes_of,
    select_trade,
    trade_pairs,
    user_trade,
)

if TYPE_CHECKING:
    from oresight.taxonomy import Importer
    from oresight.world import World

__all__ = ["METHOD", "NOT_ATTESTED", "Dependence", "Reliance", "calc_dependence", "dependence", "dependence_table"]

METHOD = (
    "import reliance = (imports − exports) / (production + imports − exports); imports and exports are gross "
    "bilateral trade of the stage's HS codes (CEPII BACI, else reporter declarations), intra-bloc trade left out; "
    "production is the stage's primary series"
)
#: a table of many pairs reads trade of at most this many years before the year asked
TRADE_WINDOW_YEARS = 5
_UNIT_TO_T = {"t": 1.0, "kg": 0.001, "kt": 1000.0}


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


# -- inputs from the World --------------------------------------------------------------------------------------
def _production(world: World, members, commodity: str, stage: str, year: int | None) -> tuple:
    """Members' production at the stage in tonnes (value, low, high), its year, sources and notes. A member the
    source does not list, where it gives a world total, makes between 0 and the source's rest-of-world figure."""
    view_year = world.latest_year(commodity, stage, "production", at_most=year, country=WORLD)
    if view_year is None:
        return (math.nan,) * 3, None, [], [f"no source gives {commodity} {stage} production with a world total"]
    volumes = world.production(commodity, stage, view_year)
    factor = _UNIT_TO_T.get(str(volumes.attrs["unit"]).split()[0], math.nan)
    countries = set(volumes.country.values.astype(str))
    value = low = high = 0.0
    notes = []
    for member in members:
        if member in countries:
            row = volumes.sel(country=member)
            v = float(row)
            lo, hi = float(row.coords["low"]), float(row.coords["high"])
            value, low, high = value + v, low + (v if math.isnan(lo) else lo), high + (v if math.isnan(hi) else hi)
        else:
            rest = float(volumes.sel(country="ROW")) if "ROW" in countries else 0.0
            high += 0.0 if math.isnan(rest) else rest
            notes.append(f"{member} is not listed among {commodity} {stage} producers ({view_year}): 0 t, at most ROW")
    sources = sorted({str(s) for s in volumes.source.values})
    if math.isnan(factor):
        notes.append(f"production unit {volumes.attrs['unit']!r} is not a mass: not compared with trade")
    return (value * factor, low * factor, high * factor), view_year, sources, notes


def _published(world: World, importer: Importer, commodity: str, stage: str, year: int | None) -> Reliance | None:
    from oresight.exposure import calc_reliance_from_facts, reporters_of

    reporters = reporters_of(importer)
    if len(reporters) != 1:
        return None
    rows = world.select(commodity=commodity, country=reporters[0], measure="net_import_reliance")
    found = calc_reliance_from_facts(rows, stage, year)
    if not found.attested:
        return None
    found.method = "published"
    return found


def fetch_member_trade(world: World, members, codes=None, years=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All trade rows of a bloc's members as importers and as exporters (other reporters' imports from them)."""
    return (
        fetch_trade(world, reporters=members, codes=codes, years=years),
        fetch_trade(world, partners=members, codes=codes, years=years),
    )


def _trade_rows(world: World, members, codes, year, fetched) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    imports = select_trade(world, fetched[0], codes=codes, year=year, latest=True, label=False)
    imports = imports[~imports["partner"].isin([*members, WORLD])]
    used = int(imports["year"].max()) if len(imports) else year
    exports = select_trade(world, fetched[1], codes=codes, year=used, latest=True, label=False)
    exports = exports[~exports["reporter"].isin(members)]
    notes = list(imports.attrs.get("notes", []))
    rows = []
    for frame in (imports, exports):
        magnets = (frame["hs"] == RE_MAGNET_HS).to_numpy()
        keep = ~magnets | calc_rare_earth_magnets(frame["usd"], frame["tonnes"])
        rows.append(frame[keep])
        if magnets.any():
            notes.append(f"HS 850511: {int((~keep).sum())} flows under the rare-earth magnet unit value left out")
    return rows[0], rows[1], notes


def dependence(
    world: World,
    importer: str | Importer,
    commodity: str,
    stage: str,
    year: int | None = None,
    *,
    fetched: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Dependence:
    """The dependence of a country or bloc on imports at one stage of a commodity (see the module docstring).

    ``fetched``: the members' trade from :func:`fetch_member_trade`, to share one query among many calls.
    Raises :class:`DataNotAttestedError` when no trade source covers the stage's HS codes for the importer.
    """
    from oresight.taxonomy import Importer

    importer = importer if isinstance(importer, Importer) else world.tax.importer(importer)
    if commodity not in world.tax.commodities:  # a name, not an id: resolve it (a product names its stage)
        commodity, implied = world.resolve(commodity, stage)
        stage = implied or stage
    codes = hs_codes_of(world, commodity, stage)
    if not codes:
        raise DataNotAttestedError(f"no HS code describes {commodity} at stage {stage} (taxonomy/hs_codes.csv)")
    fetched = fetched or fetch_member_trade(world, importer.members, codes)
    imports, exports, notes = _trade_rows(world, importer.members, codes, year, fetched)
    shared = sorted({c for c in codes if (world.tax.hs_codes[c].get("shared_with") or "")})
    for code in shared:
        row = world.tax.hs_codes[code]
        notes.append(f"HS {code} also holds {row['shared_with'].replace(';', ', ')}: its whole trade is counted")
    if imports.empty:
        raise DataNotAttestedError(f"no trade source gives {importer.label}'s imports of {commodity} {stage}")
    trade_year = int(imports["year"].max())
    production, production_year, production_sources, production_notes = _production(
        world, importer.members, commodity, stage, trade_year if year is None else year
    )
    notes += production_notes
    if production_year is not None and production_year != trade_year:
        notes.append(f"production of {production_year} set against trade of {trade_year}")
    missing = imports["tonnes"].isna()
    if missing.any():
        share = float(imports.loc[missing, "usd"].sum() / imports["usd"].sum())
        notes.append(f"{int(missing.sum())} import flows ({share:.0%} of value) have no weight: tonnes are a floor")
    if len({c[:4] for c in codes}) > 1 or len(codes) > 1:
        notes.append(f"tonnes of HS {', '.join(codes)} added as gross product weight")
    result = calc_dependence(imports, exports, production)
    trade_sources = sorted(set(imports["source"]) | set(exports["source"]))
    derived = Reliance(
        result["reliance"],
        result["reliance_low"],
        result["reliance_high"],
        trade_year,
        f"HS {', '.join(codes)}",
        trade_sources + production_sources,
        "derived from trade and production",
    )
    if not derived.attested:
        derived = None
    published = _published(world, importer, commodity, stage, year)
    chosen = published or derived or NOT_ATTESTED
    return Dependence(
        importer=importer.label,
        members=importer.members,
        commodity=commodity,
        stage=stage,
        year=trade_year,
        imports_t=result["imports_t"],
        exports_t=result["exports_t"],
        imports_usd=result["imports_usd"],
        exports_usd=result["exports_usd"],
        production_t=production[0],
        production_low_t=production[1],
        production_high_t=production[2],
        apparent_consumption_t=result["apparent_consumption_t"],
        reliance=chosen,
        derived=derived,
        published=published,
        partners=result["partners"],
        hs_codes=codes,
        sources=sorted(set(trade_sources + production_sources + (published.sources if published else []))),
        notes=notes,
    )


def dependence_table(
    world: World, importer: str | Importer, year: int | None = None, pairs: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """:func:`dependence` for many (commodity, stage) pairs (default: every pair with HS codes), one row each:
    reliance (value, low, high, method), derived and published reliance, top partner and its share, imports,
    exports, production, sources, notes. Pairs without trade data are left out. A World's data do not change,
    so the table of every pair is computed once per importer and year and kept on the World."""
    from oresight.taxonomy import Importer

    importer = importer if isinstance(importer, Importer) else world.tax.importer(importer)
    cache = world.__dict__.setdefault("_dependence_tables", {})
    key = (importer.members, year)
    if key not in cache:
        cache[key] = _dependence_rows(world, importer, year, sorted(trade_pairs(world)))
    table = cache[key]
    if pairs is not None and len(table):
        wanted = set(pairs)
        table = table[[pair in wanted for pair in zip(table["commodity"], table["stage"], strict=True)]]
    return table.reset_index(drop=True)


def _dependence_rows(world: World, importer: Importer, year: int | None, pairs) -> pd.DataFrame:
    rows = []
    present = _codes_with_trade(world)
    # as of a year, the data used are at most a few years older (later only where nothing earlier exists)
    window = list(range(year - TRADE_WINDOW_YEARS, year + 1)) if year is not None else None
    imports, exports = fetch_member_trade(world, importer.members, years=window)
    by_heading = [dict(tuple(frame.groupby(frame["hs"].str[:4]))) for frame in (imports, exports)]
    for commodity, stage in pairs:
        codes = hs_codes_of(world, commodity, stage)
        if not set(codes) & present:
            continue
        headings = {c[:4] for c in codes}
        fetched = tuple(
            pd.concat([groups[h] for h in headings if h in groups] or [frame.iloc[:0]])
            for groups, frame in zip(by_heading, (imports, exports), strict=True)
        )
        try:
            found = dependence(world, importer, commodity, stage, year, fetched=fetched)
        except DataNotAttestedError:
            continue
        rows.append(
            {
                "commodity": commodity,
                "stage": stage,
                "year": found.year,
                "import_reliance": found.reliance.value,
                "import_reliance_low": found.reliance.low,
                "import_reliance_high": found.reliance.high,
                "import_reliance_method": found.reliance.method,
                "derived_import_reliance": found.derived.value if found.derived else math.nan,
                "published_import_reliance": found.published.value if found.published else math.nan,
                "top_partner": found.top_partner,
                "top_partner_share": found.top_share,
                "imports_t": found.imports_t,
                "exports_t": found.exports_t,
                "production_t": found.production_t,
                "dependence_sources": ";".join(found.sources),
                "partner_shares": dict(zip(found.partners["partner"], found.partners["share"], strict=True)),
                "dependence_notes": "; ".join(found.notes),
            }
        )
    return pd.DataFrame(rows)


def _codes_with_trade(world: World) -> set[str]:
    """HS codes that have rows in the trade table (cached on the World)."""
    cached = getattr(world, "_trade_codes", None)
    if cached is None:
        import duckdb

        codes: set[str] = set(user_trade(world)["hs"])  # the user's imported codes
        if world.trade_path is not None:
            with duckdb.connect() as con:
                sql = f"SELECT DISTINCT hs FROM read_parquet('{world.trade_path.as_posix()}')"
                codes |= {c for (c,) in con.execute(sql).fetchall()}
        prefixes = set(world.tax.hs_codes)
        cached = {p for p in prefixes if any(c.startswith(p) for c in codes)}
        world._trade_codes = cached
    return cached
