"""Eurostat Comext: EU-27 extra-EU imports of one CN8 product by origin (``year, origin_iso2, value_eur,
tonnes``, with the EU totals ``eu_total_eur, eu_total_tonnes`` on every row and a ``status`` final or
provisional), as extracted from Comext's SDMX tables with intra-EU partners removed.

Rows become ``import_value`` (EUR) and ``import_quantity`` (t) facts of the importer ``EUU`` by partner, the
totals facts with partner ``WLD``; the product's CN code maps to commodity and stage through
``taxonomy/hs_codes.csv`` (CN 85051110, rare-earth permanent magnets, to rare earths at the magnet stage).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import read_csv_table

__all__ = ["comext_source", "read_comext"]

_REQUIRED = ("year", "origin_iso2", "value_eur", "tonnes", "eu_total_eur", "eu_total_tonnes")


def comext_source(cn: str, years: tuple[int, int], *, obtained_from: str = "") -> Source:
    return Source(
        id=f"eurostat-comext-cn{cn}-{years[0]}-{years[1]}",
        series=f"eurostat-comext-cn{cn}",
        edition=str(years[1]),
        publisher="Eurostat",
        title=f"Comext: EU trade since 1988 by CN8 (DS-045409), EU-27 extra-EU imports of CN {cn} by origin, "
        f"{years[0]}-{years[1]}",
        year=years[1],
        url="https://ec.europa.eu/eurostat/comext/newxtweb/",
        licence="Eurostat re-use policy (CC BY 4.0)",
        table=f"EU-27 reporters summed, partners outside the EU, CN {cn}, value (EUR) and quantity (100 kg)",
        obtained_from=obtained_from,
    )


def read_comext(path: str | Path, *, cn: str | None = None, obtained_from: str = "") -> ImportResult:
    """Read an EU-27 extra-EU imports-by-origin table of one CN8 product."""
    path = Path(path)
    table = read_csv_table(path, required=_REQUIRED)
    cn = cn or next(iter(re.findall(r"cn(\d{8})", path.name.lower())), None)
    if cn is None:
        raise InputError("cannot tell the CN8 product", path=path, expected="a file name with cn<8 digits>, or cn=")
    tax = load_taxonomy()
    mapped = tax.hs_code(cn)
    if mapped is None:
        raise InputError(f"CN {cn} is not in taxonomy/hs_codes.csv", path=path)
    out = FactRows(path)
    totals: set[int] = set()
    common = {"commodity": mapped["commodity"], "stage": mapped["stage"], "country": "EUU", "basis": f"CN {cn}"}
    for line, row in table.rows:
        year = out.value(row["year"], line, "year")
        partner = tax.countries.resolve(row["origin_iso2"])
        if year is None or partner is None:
            out.skip(line, f"field origin_iso2: not a country: {row['origin_iso2']!r}") if year else None
            continue
        status = "estimated" if row.get("status", "") == "provisional" else "reported"
        note = "provisional" if status == "estimated" else ""
        pairs = [(partner, row["value_eur"], row["tonnes"])]
        if int(year.value) not in totals:
            totals.add(int(year.value))
            pairs.append(("WLD", row["eu_total_eur"], row["eu_total_tonnes"]))
        for who, value, tonnes in pairs:
            for measure, cell, unit in (("import_value", value, "EUR"), ("import_quantity", tonnes, "t")):
                parsed = out.value(cell, line, measure)
                if parsed is None:
                    continue
                if not (math.isfinite(parsed.value) and parsed.value >= 0):
                    out.skip(line, f"field {measure}: {parsed.value!r} is not a finite non-negative number")
                    continue
                out.add(
                    **common,
                    partner=who,
                    year=int(year.value),
                    measure=measure,
                    value=parsed.value,
                    unit=unit,
                    status=status,
                    note=note,
                )
    if not out.rows:
        raise InputError("no import row read", path=path, expected="rows of year, origin, value, tonnes")
    years = sorted(totals)
    source = comext_source(cn, (years[0], years[-1]), obtained_from=obtained_from)
    for row in out.rows:
        row["source"] = source.id
    return out.result([source], "comext")
