"""World Bank Worldwide Governance Indicators, bulk CSV (``WGIData.csv``, World Development Indicators layout).

One row per economy x series with the years as columns (``1996`` ... ``2022``); every line ends with a comma.
The six estimates (``CC.EST``, ``GE.EST``, ``PV.EST``, ``RQ.EST``, ``RL.EST``, ``VA.EST``, about -2.5 to 2.5)
become facts ``wgi_cc`` ... ``wgi_va``; each carries its 90% confidence interval (estimate ± 1.645 standard
errors, from the ``.STD.ERR`` series) as low/high.
"""

from __future__ import annotations

import re
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, read_csv_table

__all__ = ["DIMENSIONS", "read_wgi", "wgi_source"]

DIMENSIONS = {"VA": "wgi_va", "PV": "wgi_pv", "GE": "wgi_ge", "RQ": "wgi_rq", "RL": "wgi_rl", "CC": "wgi_cc"}
_Z90 = 1.645  # two-sided 90% interval of a normal estimate, as the WGI reports its margins
REQUIRED = ("Country Name", "Country Code", "Indicator Code")


def wgi_source(vintage: int, obtained_from: str = "") -> Source:
    return Source(
        id=f"wb-wgi-{vintage}",
        series="wb-wgi",
        edition=str(vintage),
        publisher="World Bank",
        title=f"Worldwide Governance Indicators, {vintage} update (Kaufmann and Kraay)",
        year=vintage,
        url="https://www.worldbank.org/en/publication/worldwide-governance-indicators",
        licence="CC BY 4.0",
        table="WGIData.csv (bulk download): estimates and standard errors of the six dimensions",
        obtained_from=obtained_from,
    )


def read_wgi(path: str | Path, *, vintage: int | None = None, obtained_from: str = "") -> ImportResult:
    """Read the WGI bulk CSV. ``vintage`` defaults to the year after the latest data year."""
    path = Path(path)
    table = read_csv_table(path, required=REQUIRED)
    years = [h for h in table.header if re.fullmatch(r"\d{4}", h)]
    if not years:
        raise InputError("no year columns", path=path, line=1, expected="columns 1996 ... 2022")
    vintage = vintage or max(int(y) for y in years) + 1  # the year columns may come in any order
    source = wgi_source(vintage, obtained_from)
    tax = load_taxonomy()
    out = FactRows(path)
    estimates: dict[tuple[str, str, str], tuple[int, float]] = {}
    errors: dict[tuple[str, str, str], tuple[int, float]] = {}
    for line, row in table:
        code = clean_cell(row["Indicator Code"]).upper()
        match = re.fullmatch(r"(VA|PV|GE|RQ|RL|CC)\.(EST|STD\.ERR)", code)
        if not match:
            continue
        country = tax.countries.resolve(row["Country Name"]) or tax.countries.resolve(row["Country Code"])
        if country is None:
            out.skip(line, f"economy not resolved to a country: {clean_cell(row['Country Name'])!r}")
            continue
        for year in years:
            parsed = out.value(row[year], line, year)
            if parsed is None:
                continue
            if parsed.status != "reported":  # an estimate is a plain number; W, s, ranges, bounds are not
                out.skip(line, f"field {year!r}: not a plain number: {clean_cell(row[year])[:20]!r}")
                continue
            _keep_once(
                estimates if match.group(2) == "EST" else errors,
                (country, match.group(1), year),
                line,
                parsed.value,
                path,
            )
    for (country, dim, year), (line, value) in estimates.items():
        se = errors.get((country, dim, year), (None, None))[1]
        out.add(
            country=country,
            year=int(year),
            measure=DIMENSIONS[dim],
            value=value,
            unit="index",
            basis="WGI estimate (-2.5 weak to 2.5 strong governance)",
            status="estimated",
            low=value - _Z90 * se if se is not None else float("nan"),
            high=value + _Z90 * se if se is not None else float("nan"),
            source=source.id,
            note="low/high: 90% confidence interval" if se is not None else "",
            line=line,
            field=year,
        )
    return out.result([source], "wgi")


def _keep_once(values: dict, key: tuple[str, str, str], line: int, value: float, path: Path) -> None:
    """Record a cell's value; a second row giving another value for the same economy, series and year is an
    error (which to believe?), the same value again is a repeated row and kept once."""
    earlier = values.get(key)
    if earlier is not None and earlier[1] != value:
        raise InputError(
            f"{key[1]} {key[2]} of {key[0]} is {value:g} here and {earlier[1]:g} on line {earlier[0]}",
            path=path,
            line=line,
            field=key[2],
            expected="one row per economy and series",
        )
    values.setdefault(key, (line, value))
