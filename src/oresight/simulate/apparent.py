"""Apparent consumption: a country's use of a stage's product where no source gives it, derived from its output
and its trade (the way USGS computes US apparent consumption in the Mineral Commodity Summaries):

    apparent consumption = production + imports − exports

Production is the baseline's own figure for the country at the stage (its share of the stage's world output);
imports and exports come from the trade layer (:meth:`oresight.World.dependence`: gross bilateral trade of the
stage's HS codes, CEPII BACI or reporters' declarations). A value derived this way is labelled as derived
wherever it is used, never mixed silently with sourced demand. It is refused, and the country's demand stays
not attested, where:

* the trade layer has no trade of the stage's codes for the country (missing is not zero);
* the stage is measured in metal content and its codes are ores and concentrates (HS chapter 26), which trade
  tables weigh gross, unless ``trade_content.csv`` gives the content of the traded grades (then imports and
  exports are converted with the midpoint of its range, the bounds in the note);
* the result is negative (exports beyond output and imports: stocks, re-exports or differing bases the
  identity cannot see).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from oresight.errors import DataNotAttestedError
from oresight.formatting import format_number

__all__ = ["Apparent", "apparent_consumption", "calc_apparent_consumption", "ore_content"]

#: HS chapter of ores, slag and ash: trade tables weigh these goods gross, not by their metal content
ORE_CHAPTER = "26"


def calc_apparent_consumption(production: float, imports: float, exports: float) -> float:
    """Production + imports − exports; NaN where an input is missing or the result is negative.

    >>> calc_apparent_consumption(30.0, 80.0, 10.0)
    100.0
    >>> math.isnan(calc_apparent_consumption(0.0, 5.0, 9.0)), math.isnan(calc_apparent_consumption(1.0, math.nan, 0.0))
    (True, True)
    """
    value = production + imports - exports
    return value if math.isfinite(value) and value >= 0 else math.nan


@cache
def _content_table() -> pd.DataFrame:
    path = Path(__file__).with_name("trade_content.csv")
    return pd.read_csv(path, comment="#", dtype={"hs": str}).set_index("hs")


def ore_content(hs_codes: list[str]) -> tuple[float, float, str] | None:
    """(low, high, where) content of the stage's product in the traded ore codes, or None where any code has no
    sourced figure.

    >>> ore_content(["261710"])[:2]
    (0.25, 0.68)
    >>> ore_content(["260400"]) is None
    True
    """
    table = _content_table()
    codes = [c.replace(".", "") for c in hs_codes]
    if not codes or any(c not in table.index for c in codes):
        return None
    rows = table.loc[codes]
    where = "; ".join(f"HS {c}: {r['source']} ({r['where']})" for c, r in rows.iterrows())
    return float(rows["content_low"].min()), float(rows["content_high"].max()), where


@dataclass
class Apparent:
    """One country's apparent consumption at one stage, t a year (NaN: refused), how it was derived and why a
    value was refused."""

    value: float
    text: str
    sources: list[str] = field(default_factory=list)
    refused: str = ""
    #: the imports it was derived from, t a year in the stage's basis (NaN where none was used)
    imports: float = math.nan

    @property
    def attested(self) -> bool:
        return math.isfinite(self.value)


def apparent_consumption(
    world, country: str, commodity: str, stage: str, year: int | None, production: float, basis: str
) -> Apparent | None:
    """A country's apparent consumption at a stage from ``production`` (t a year, the stage's basis) and the
    trade layer's imports and exports (see the module doc). None where the trade layer has no trade of the
    stage for the country; an :class:`Apparent` with NaN and ``refused`` where a value cannot be derived."""
    try:
        found = world.dependence(country, commodity, stage, year)
    except (DataNotAttestedError, ValueError):
        return None
    imports, exports = float(found.imports_t), float(found.exports_t)
    if not math.isfinite(imports) or not math.isfinite(exports):
        return None
    codes = ", ".join(found.hs_codes)
    converted = ""
    if "content" in basis.lower() and any(c.replace(".", "").startswith(ORE_CHAPTER) for c in found.hs_codes):
        content = ore_content(found.hs_codes)
        if content is None:
            return Apparent(
                math.nan,
                "",
                refused=(
                    f"trade of HS {codes} is gross weight of ores, the stage is measured in content and no source "
                    "gives the traded grades"
                ),
            )
        low, high, where = content
        share = (low + high) / 2
        imports, exports = imports * share, exports * share
        converted = f" at {share:.0%} content (traded grades {low:.0%}–{high:.0%}: {where})"
    value = calc_apparent_consumption(production, imports, exports)
    text = (
        f"apparent consumption derived from trade: own output {format_number(production)} + imports "
        f"{format_number(imports)} − exports {format_number(exports)} t (HS {codes}, trade of {found.year}{converted})"
    )
    if not math.isfinite(value):
        return Apparent(math.nan, text, refused=f"{text} is negative", imports=imports)
    return Apparent(value, text, sorted(found.sources), imports=imports)
