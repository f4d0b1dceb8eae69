"""OECD Country Risk Classification (Arrangement on Officially Supported Export Credits), as a CSV table
``country, iso3, crc[, notes]``; ``crc`` 0 (lowest risk) to 7 (highest).

Two groups of countries are not classified (OECD, "Country risk classification"): very small countries that do
not generally receive official export credit support, and — since November 2012 — High Income OECD and High
Income euro-area countries, which remain subject to the market pricing of Category 0. The table bundled is a
third party's parse of the OECD's list that writes the list's "-" as 0 and keeps its footnote marks in
``notes``. A 0 marked as a very small country (footnotes (5) and (8)) is therefore no classification at all:
it becomes no fact (reported as skipped), never a 0. A 0 of a High Income country (footnotes (6), (7)) stays 0
with a note saying so.
"""

from __future__ import annotations

import re
from pathlib import Path

from oresight.errors import InputError
from oresight.sources import Source
from oresight.taxonomy import load_taxonomy

from .result import FactRows, ImportResult
from .text import clean_cell, read_csv_table

__all__ = ["oecd_crc_source", "read_oecd_crc"]

#: footnote marks of the third party's table: not classified, very small countries (no value at all)
_UNCLASSIFIED_SMALL = ("(5)", "(8)")
#: not classified since 2012, High Income OECD and euro-area countries priced as Category 0
_HIGH_INCOME = ("(6)", "(7)")


def oecd_crc_source(year: int, obtained_from: str = "", note: str = "") -> Source:
    return Source(
        id=f"oecd-crc-{year}",
        series="oecd-crc",
        edition=str(year),
        publisher="OECD",
        title=f"Country Risk Classifications of the Participants to the Arrangement on Officially Supported "
        f"Export Credits ({year})",
        year=year,
        url="https://www.oecd.org/en/topics/sub-issues/country-risk-classification.html",
        licence="OECD terms of use (attribution required)",
        table="country risk classification 0-7",
        note=note,
        obtained_from=obtained_from,
    )


def read_oecd_crc(path: str | Path, *, year: int | None = None, obtained_from: str = "") -> ImportResult:
    """Read a CRC table; ``year`` defaults to the year in the file name (``oecd_crc_2026.csv``)."""
    path = Path(path)
    table = read_csv_table(path, required=("country", "crc"))
    if year is None:
        match = re.search(r"(20\d\d)", path.name)
        if not match:
            raise InputError("cannot tell the classification year", path=path, expected="a year in the file name")
        year = int(match.group(1))
    source = oecd_crc_source(
        year,
        obtained_from,
        note="countries the OECD does not classify are missing, except High Income OECD and euro-area countries, "
        "not classified since 2012 but subject to Category 0 pricing, coded 0",
    )
    tax = load_taxonomy()
    out = FactRows(path)
    for line, row in table:
        iso3 = clean_cell(row.get("iso3", "")).upper()
        country = iso3 if iso3 in tax.countries.iso3_codes else tax.countries.resolve(row["country"])
        if country is None:
            out.skip(line, f"country not resolved: {clean_cell(row['country'])!r}")
            continue
        parsed = out.value(row["crc"], line, "crc")
        if parsed is None:
            continue
        notes = clean_cell(row.get("notes", ""))
        if parsed.value == 0 and any(mark in notes for mark in _UNCLASSIFIED_SMALL):
            out.skip(line, "not classified by the OECD (a very small country, footnote (5) or (8)); '-' is no 0")
            continue
        if not 0 <= parsed.value <= 7 or parsed.value != int(parsed.value):
            raise InputError(
                f"classification {parsed.value:g} out of range",
                path=path,
                line=line,
                field="crc",
                expected="an integer 0 to 7",
            )
        out.add(
            country=country,
            year=year,
            measure="oecd_crc",
            value=parsed.value,
            unit="index",
            basis="OECD country risk classification (0 lowest to 7 highest risk)",
            status="reported",
            source=source.id,
            note="; ".join(
                n
                for n in (
                    notes,
                    "High Income OECD or euro area: not classified since 2012, subject to Category 0 pricing"
                    if parsed.value == 0 and any(mark in notes for mark in _HIGH_INCOME)
                    else "",
                )
                if n
            ),
        )
    return out.result([source], "oecd-crc")
