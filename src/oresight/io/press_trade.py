"""Trade figures reported in the press (China customs, GACC, on rare-earth magnet exports by destination; Japan's
Ministry of Finance), one figure per row: ``period, reporter, flow, product_scope, partner, measure, value,
unit, primary_source, secondary_url, secondary_publisher_date, note``.

``period`` is a year (``2024``), a month (``2025-05``) or a range of months (``2025-01/2025-06``); it is kept in
the fact's basis with the product scope, so monthly figures of one year stay apart, and a figure of months
has the measure ``export_quantity_period`` (``..._value_period``) so that it never stands in for a year's trade.
Each article is a source
(the agency that published the figure, as reported by the outlet at the URL). Partners that are neither a
country nor a bloc oresight knows ("Europe") are reported as skipped.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import read_csv_table

__all__ = ["read_press_trade"]

_REQUIRED = ("period", "reporter", "flow", "product_scope", "partner", "measure", "value", "unit", "primary_source")
_UNITS = {"t": ("t", 1.0), "usd bn": ("USD", 1e9), "usd m": ("USD", 1e6), "jpy m": ("JPY", 1e6)}
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:/(\d{4})-(\d{2}))?$")


def _scope(product: str) -> tuple[str, str]:
    """Commodity and stage of a product scope as the press names it."""
    text = product.lower()
    if "magnet" in text:
        return "rare-earths", "magnet"
    if "2805" in text:
        return "rare-earths", "metal"
    return "rare-earths", ""


def _source(row: dict) -> Source:
    outlet = row.get("secondary_publisher_date", "") or row["primary_source"]
    url = row.get("secondary_url", "")
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    found = re.findall(r"(20\d\d)", outlet)
    return Source(
        id=f"press-{re.sub(r'[^a-z0-9]+', '-', outlet.lower()).strip('-')}-{digest}",
        series="press-trade-figures",
        edition=found[0] if found else "",
        publisher=row["primary_source"],
        title=f"{outlet}: trade figures of {row['primary_source']}",
        year=int(found[0]) if found else 0,
        url=url,
        licence="facts cited from the press (the agency's figure, with attribution)",
        table="figure quoted in the article",
    )


def read_press_trade(path: str | Path, *, obtained_from: str = "") -> ImportResult:
    """Read trade figures reported in the press, one fact per figure."""
    path = Path(path)
    table = read_csv_table(path, required=_REQUIRED)
    tax = load_taxonomy()
    out = FactRows(path)
    sources: dict[str, Source] = {}
    for line, row in table.rows:
        period = _PERIOD.match(row["period"].strip())
        if not period:
            out.skip(line, f"field period: {row['period']!r} is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM")
            continue
        reporter = tax.countries.resolve(row["reporter"])
        partner = "WLD" if row["partner"].strip().upper() in ("WLD", "WORLD") else tax.countries.resolve(row["partner"])
        if reporter is None or partner is None:
            out.skip(line, f"field partner: {row['partner']!r} is neither a country nor a known bloc")
            continue
        unit = _UNITS.get(row["unit"].strip().lower())
        flow = row["flow"].strip().lower()
        measure = {"quantity": "quantity", "value": "value"}.get(row["measure"].strip().lower())
        if unit is None or flow not in ("import", "export") or measure is None:
            out.skip(line, f"unit, flow or measure not understood: {row['unit']!r}, {flow!r}, {row['measure']!r}")
            continue
        parsed = out.value(row["value"], line, "value")
        if parsed is None:
            continue
        value = parsed.value * unit[1]
        if not (math.isfinite(value) and value >= 0):
            out.skip(line, f"field value: {row['value']!r} is not a finite non-negative number")
            continue
        source = _source(row)
        source = source.model_copy(update={"obtained_from": obtained_from})
        sources[source.id] = source
        commodity, stage = _scope(row["product_scope"])
        year = int(period.group(3) or period.group(1))
        out.add(
            commodity=commodity,
            stage=stage,
            country=reporter,
            partner=partner,
            year=year,
            # a figure of months, not of the whole year, must not stand in for the year's trade
            measure=f"{flow}_{measure}" + ("" if period.group(2) is None else "_period"),
            value=value,
            unit=unit[0],
            basis=f"{row['product_scope'].strip()}; period {row['period'].strip()}",
            status="reported",
            source=source.id,
            note=row.get("note", ""),
        )
    if not out.rows:
        raise InputError("no figure read", path=path, expected="rows of period, reporter, flow, partner, value")
    return out.result(sorted(sources.values(), key=lambda s: s.id), "press-trade")
