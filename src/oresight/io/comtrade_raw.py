"""Raw UN Comtrade reporter declarations (annual, by partner): ``reporter, partner, cmd, flow, value, netwgt``
with UN M49 numeric codes (partner ``0`` is the World), as the Comtrade API returns them (``year`` where given,
else from the file name).

The API also returns customs-procedure and transport-mode breakdowns beside the totals; where those columns
were dropped, one (reporter, partner, code, flow) appears several times. Summing them double-counts, so the
record with the largest value is kept per key (it is the total): partners then add up to the World record,
which the reader checks and reports (``checks``). The World record itself is not a bilateral flow and is not
kept. Values are USD (imports CIF, exports FOB, as declared); net weights become tonnes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .baci import read_table
from .result import Skipped
from .tradeflows import TradeResult, check_flows, normalise_trade

__all__ = ["calc_world_check", "comtrade_raw_source", "read_comtrade_raw"]

_REQUIRED = ("reporter", "partner", "cmd", "flow", "value")
_FLOWS = {"M": "import", "X": "export"}
_KEY = ["reporter", "partner", "hs", "year", "flow"]


def comtrade_raw_source(year: int, *, obtained_from: str = "") -> Source:
    return Source(
        id=f"un-comtrade-raw-{year}",
        series="un-comtrade-raw",
        edition=str(year),
        publisher="United Nations Statistics Division",
        title=f"UN Comtrade: annual reporter declarations by partner, {year} (imports and exports, value and net "
        "weight)",
        year=year,
        url="https://comtradeplus.un.org/",
        licence="UN Comtrade terms of use (free data; extracts redistributable with attribution)",
        table="HS, annual, reporter x partner x HS6 x flow; totals over customs procedures and transport modes",
        note="one record per reporter, partner, code and flow kept (the largest; the others are breakdowns)",
        obtained_from=obtained_from,
    )


def calc_world_check(kept: pd.DataFrame, world: pd.DataFrame) -> pd.Series:
    """Per (reporter, code, year, flow): the sum over partners divided by the World record."""
    keys = ["reporter", "hs", "year", "flow"]
    partners = kept.groupby(keys)["usd"].sum()
    totals = world.groupby(keys)["usd"].max()
    both = pd.concat([partners.rename("partners"), totals.rename("world")], axis=1, join="inner")
    both = both[both["world"] > 0]
    return both["partners"] / both["world"]


def read_comtrade_raw(path: str | Path, *, year: int | None = None, obtained_from: str = "") -> TradeResult:
    """Read raw Comtrade declarations, keep one record per key, check partners against the World record."""
    path = Path(path)
    raw = read_table(path)
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", path=path, line=1, expected=", ".join(_REQUIRED))
    if "year" not in raw.columns:
        found = re.findall(r"(?<!\d)(20\d\d|19\d\d)(?!\d)", path.name) if year is None else [str(year)]
        if not found:
            raise InputError("no year column and no year in the file name", path=path)
        raw["year"] = found[0]
    lines = pd.Series(raw.index + 2, index=raw.index)
    tax = load_taxonomy()
    codes = {c: _iso3(tax, c) for c in set(raw["reporter"]) | set(raw["partner"])}
    frame = raw.assign(
        reporter=raw["reporter"].map(codes),
        partner=raw["partner"].map(codes),
        hs=raw["cmd"].str.strip(),
        flow=raw["flow"].str.strip().str.upper().map(_FLOWS),
        usd=raw["value"],
        tonnes=raw.get("netwgt", pd.Series("", index=raw.index)),
    )
    skipped: list[Skipped] = []
    for column, reason in (("flow", "flow is neither M nor X"), ("reporter", "reporter code not a country")):
        bad = frame[column].isna()
        skipped += [Skipped(str(path), int(n), f"field {column}: {reason}") for n in lines[bad]]
        frame, lines = frame[~bad], lines[~bad]
    # Comtrade's areas (899 "Areas, nes", 97 "EU" ...) are partners without a country: the unattributed rest
    frame = frame.assign(partner_code=raw.loc[frame.index, "partner"], partner=frame["partner"].fillna("ROW"))
    years = pd.to_numeric(frame["year"], errors="coerce")
    frame = frame.assign(year=years)
    frame, bad = check_flows(frame, str(path), lines)
    skipped += bad
    frame = frame.assign(
        usd=pd.to_numeric(frame["usd"], errors="coerce"), tonnes=pd.to_numeric(frame["tonnes"], errors="coerce") / 1000
    )
    frame = frame.sort_values("usd", ascending=False, kind="stable")
    frame = (
        frame.drop_duplicates([*_KEY, "partner_code"]).groupby(_KEY, as_index=False)[["usd", "tonnes"]].sum(min_count=1)
    )
    is_world = frame["partner"] == "WLD"
    kept, world = frame[~is_world], frame[is_world]
    ratios = calc_world_check(kept, world)
    year_of_file = int(frame["year"].mode().iat[0]) if len(frame) else year or 0
    source = comtrade_raw_source(year_of_file, obtained_from=obtained_from)
    flows = normalise_trade(kept.assign(source=source.id).sort_values(_KEY))
    if flows.empty:
        raise InputError("no trade flow read", path=path, expected="Comtrade records of reporters with partners")
    checks = {
        "records": float(len(raw)),
        "kept": float(len(flows)),
        "world_ratio_median": float(ratios.median()) if len(ratios) else np.nan,
        "world_ratio_within_2pct": float(((ratios - 1).abs() <= 0.02).mean()) if len(ratios) else np.nan,
    }
    return TradeResult(flows, [source], skipped, "comtrade-raw", checks)


def _iso3(tax, code: str) -> str | None:
    text = str(code).strip()
    if text == "0":
        return "WLD"
    try:
        return tax.countries.from_un_code(text)
    except ValueError:
        return None
